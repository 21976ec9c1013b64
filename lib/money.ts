import { BigIntType } from '@mikro-orm/core';

/** IDR amounts: integer rupiah in a bigint column, read back as a JS number (safe far beyond any real sum). */
export const moneyType = () => new BigIntType('number');

import type * as MikroOrmCore from '@mikro-orm/core';
import { badInput } from './errors';

/** IDR amounts: integer rupiah in a bigint column, read back as a JS number (safe far beyond any real sum). */
export const moneyType = () => {
  // Loaded here, not on import: the gateway reads MAX_AMOUNT, and loading the ORM would only slow its start.
  const { BigIntType } = require('@mikro-orm/core') as typeof MikroOrmCore;
  return new BigIntType('number');
};

/**
 * The largest amount the public API carries: money is GraphQL `Int` (API.md), a 32-bit signed integer. An
 * amount above it could be stored but never shown (its order, payment or participant would fail to
 * serialise), so a price, or a total that quantity × price makes, is refused at input instead.
 */
export const MAX_AMOUNT = 2_147_483_647;

/** Refuses, as BAD_USER_INPUT naming the field, an amount the API could not show. */
export function assertRepresentableAmount(field: string, amount: number): void {
  if (!Number.isSafeInteger(amount) || amount > MAX_AMOUNT) {
    throw badInput(
      `${field}: the amount Rp ${amount.toLocaleString('id-ID')} is above Rp ${MAX_AMOUNT.toLocaleString('id-ID')}, the largest one this API carries`,
      {
        fields: [field],
      },
    );
  }
}

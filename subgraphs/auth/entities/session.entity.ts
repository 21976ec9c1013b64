// Named without `.entity`: codegen maps `*.entity.ts` to GraphQL types of the same name, and this table has none.
import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

/** One login: the token's `sid`. Revoking it (logout) ends the token at the gateway. */
@Entity({ tableName: 'sessions' })
export class Session {
  [OptionalProps]?: 'createdAt' | 'revokedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /** When the token minted for this session expires. */
  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;
}

// Named without `.entity`: codegen maps `*.entity.ts` to GraphQL types of the same name, and this table has none.
import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import type { Role } from '../../../lib/internal-auth';

export type SessionChangeKind = 'SESSION_REVOKED' | 'ROLE_CHANGED';

/**
 * The gateway's feed (GET /api/auth/session-changes): `seq` is the cursor. Writers take an advisory
 * transaction lock before inserting, so sequence order is commit order and a reader that has seen
 * `seq = n` can never later find an n' < n appear (service.ts, SESSION_FEED_LOCK).
 */
@Entity({ tableName: 'session_changes' })
export class SessionChange {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  seq!: string;

  @Enum({ items: ['SESSION_REVOKED', 'ROLE_CHANGED'], type: 'string' })
  kind!: SessionChangeKind;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'uuid', nullable: true })
  sessionId?: string | null;

  @Property({ type: 'string', length: 20, nullable: true })
  role?: Role | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /**
   * When the change stops mattering: a revocation when its session's token expires, a role change when
   * every token the user held before it has. The feed leaves it out after that (service.ts, sessionChanges).
   */
  @Property({ type: 'datetime' })
  expiresAt!: Date;
}

import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Config } from '../../lib/config';
import { AppError, badInput, isAppError, notFound } from '../../lib/errors';
import { Caller, Role, ROLES } from '../../lib/internal-auth';
import { InternalClient } from '../../lib/internal-client';
import { newId, isId } from '../../lib/ids';
import { signSessionToken } from '../../lib/tokens';
import { parseInput } from '../../lib/validation';
import { User } from './entities/user.entity';
import { Session } from './entities/session.entity';
import { generateOtp, hashOtp, isOtpShaped, OTP_MAX_ATTEMPTS, otpMatches } from './otp';
import { normalisePhone, requirePhone } from './phone';

/** Rate-limit windows: per phone (SMS-pumping and harassment), per client address (enumeration). */
const PHONE_WINDOW_SECONDS = 600;
const ADDRESS_WINDOW_SECONDS = 60;

/** Serialises writers of session_changes so that its sequence order is its commit order. */
const SESSION_FEED_LOCK = 727301;
const FEED_PAGE = 1000;

/** Roles only go up through the role endpoint: a late or replayed outbox call can never demote anyone. */
const ROLE_RANK: Record<Role, number> = { BUYER: 0, FACTORY_OWNER: 1, ADMIN: 2 };

const updateMeSchema = z.object({ name: z.string().trim().min(1, 'must not be empty').max(100).nullish() });
const roleSchema = z.object({ role: z.enum(ROLES as [Role, ...Role[]]) });
const cursorSchema = z.string().regex(/^\d{1,19}$/, 'must be a cursor from an earlier answer, or 0');

export interface OtpChallengeResult {
  phone: string;
  expiresAt: Date;
  resendAfterSeconds: number;
}

export interface AuthPayloadResult {
  token: string;
  user: User;
}

export interface SessionChanges {
  cursor: string;
  revokedSessionIds: string[];
  roleChanges: { userId: string; role: Role }[];
}

export interface UserSnapshot {
  id: string;
  phone: string;
  name: string | null;
  role: Role;
}

/**
 * Users, OTP login and sessions. Every check-and-change on OTP codes and rate-limit counters is one SQL
 * statement (a conditional upsert or update), so concurrent requests and replicas cannot race past a
 * limit, reuse a code or spend more attempts than allowed.
 */
export class AuthService {
  constructor(
    private readonly em: EntityManager,
    private readonly config: Config,
    private readonly client?: InternalClient,
  ) {}

  /**
   * Sends a fresh code over WhatsApp. Refusals (all BAD_USER_INPUT, `extensions.reason` tells them apart):
   * RATE_LIMITED (per address or per phone, with `retryAfterSeconds`), OTP_RESEND_TOO_SOON (with
   * `retryAfterSeconds`), WHATSAPP_UNDELIVERABLE.
   */
  async requestOtp(input: string, clientAddress?: string): Promise<OtpChallengeResult> {
    // Counted before anything else, so malformed numbers spend the address's budget too.
    if (clientAddress) {
      await this.hitRateLimit(this.em, `address:${clientAddress}`, ADDRESS_WINDOW_SECONDS, this.config.OTP_RATE_LIMIT_PER_ADDRESS);
    }
    const phone = requirePhone(input);
    const code = generateOtp();
    const challengeId = newId();
    const codeHash = hashOtp(code, phone, challengeId, this.config.JWT_SECRET);

    const expiresAt = await this.em.transactional(async (tx) => {
      // Replaces the phone's code only when the cool-down since the last one has passed.
      const replaced = await tx.execute<{ expires_at: Date }[]>(
        `insert into otp_codes (phone, challenge_id, code_hash, attempts, expires_at, sent_at, consumed_at)
         values (?, ?, ?, 0, now() + make_interval(secs => ?), now(), null)
         on conflict (phone) do update set challenge_id = excluded.challenge_id, code_hash = excluded.code_hash,
           attempts = 0, expires_at = excluded.expires_at, sent_at = excluded.sent_at, consumed_at = null
         where otp_codes.sent_at <= now() - make_interval(secs => ?)
         returning expires_at`,
        [phone, challengeId, codeHash, this.config.OTP_TTL_SECONDS, this.config.OTP_RESEND_SECONDS],
      );
      if (!replaced.length) {
        const [row] = await tx.execute<{ wait: number }[]>(
          `select greatest(1, ceil(extract(epoch from sent_at + make_interval(secs => ?) - now())))::int as wait
           from otp_codes where phone = ?`,
          [this.config.OTP_RESEND_SECONDS, phone],
        );
        const wait = row?.wait ?? 1;
        throw badInput(`A code was sent to this number moments ago: wait ${wait} s before asking for another`, {
          reason: 'OTP_RESEND_TOO_SOON',
          retryAfterSeconds: wait,
        });
      }
      // Inside the transaction: over the limit rolls the new code back and the previous one stays valid.
      await this.hitRateLimit(tx, `phone:${phone}`, PHONE_WINDOW_SECONDS, this.config.OTP_RATE_LIMIT_PER_PHONE);
      return replaced[0].expires_at;
    });

    try {
      await this.requireClient().post('whatsapp', '/api/whatsapp/send-otp', { phone, code }, {
        // whatsapp retries the Cloud API itself (up to ~20 s); one retry here covers a blip reaching it.
        retries: 1,
        timeoutMs: 30_000,
      });
    } catch (error) {
      // A code nobody received must not be usable, and must not hold the cool-down.
      await this.em.execute('delete from otp_codes where phone = ? and challenge_id = ?', [phone, challengeId]);
      if (isAppError(error) && error.code === 'BAD_USER_INPUT') {
        throw badInput(error.message, { reason: 'WHATSAPP_UNDELIVERABLE' });
      }
      if (isAppError(error)) throw error;
      throw new AppError('INTERNAL_SERVER_ERROR', 'The code could not be sent over WhatsApp right now: try again in a minute');
    }
    return { phone, expiresAt: new Date(expiresAt), resendAfterSeconds: this.config.OTP_RESEND_SECONDS };
  }

  /**
   * Exchanges a code for a session token; a new phone becomes a BUYER. Refusals (BAD_USER_INPUT, with
   * `extensions.reason`): OTP_WRONG_CODE (with `attemptsLeft`), OTP_TOO_MANY_ATTEMPTS, OTP_EXPIRED,
   * OTP_NOT_REQUESTED. No session is created on any refusal.
   */
  async verifyOtp(input: string, code: string): Promise<AuthPayloadResult> {
    const phone = requirePhone(input);
    if (!isOtpShaped(code)) throw badInput('code: the code has 6 digits', { fields: ['code'], reason: 'OTP_WRONG_CODE' });

    // Spends one attempt, atomically, before comparing: parallel guesses cannot exceed the allowance.
    const [claimed] = await this.em.execute<{ challenge_id: string; code_hash: string; attempts: number }[]>(
      `update otp_codes set attempts = attempts + 1
       where phone = ? and consumed_at is null and expires_at > now() and attempts < ?
       returning challenge_id, code_hash, attempts`,
      [phone, OTP_MAX_ATTEMPTS],
    );
    if (!claimed) throw await this.whyNoLiveCode(phone);
    if (!otpMatches(code, phone, claimed.challenge_id, this.config.JWT_SECRET, claimed.code_hash)) {
      const attemptsLeft = OTP_MAX_ATTEMPTS - claimed.attempts;
      throw badInput(
        attemptsLeft > 0
          ? `Wrong code: ${attemptsLeft} ${attemptsLeft === 1 ? 'attempt' : 'attempts'} left`
          : 'Wrong code, and that was the last attempt: request a new code',
        { reason: 'OTP_WRONG_CODE', attemptsLeft },
      );
    }

    const { user, session } = await this.em.transactional(async (tx) => {
      const consumed = await tx.execute(
        'update otp_codes set consumed_at = now() where phone = ? and challenge_id = ? and consumed_at is null returning phone',
        [phone, claimed.challenge_id],
      );
      if (!consumed.length) {
        throw badInput('This code was just used: request a new one', { reason: 'OTP_NOT_REQUESTED' });
      }
      await tx.execute(
        `insert into users (id, phone, role, created_at, updated_at) values (?, ?, 'BUYER', now(), now())
         on conflict (phone) do nothing`,
        [newId(), phone],
      );
      const user = await tx.findOneOrFail(User, { phone });
      const session = tx.create(Session, {
        userId: user.id,
        expiresAt: new Date(Date.now() + this.config.JWT_TTL_SECONDS * 1000),
      });
      return { user, session };
    });
    const token = await signSessionToken(
      { userId: user.id, role: user.role, sessionId: session.id },
      this.config.JWT_SECRET,
      this.config.JWT_TTL_SECONDS,
    );
    return { token, user };
  }

  /** Revokes the caller's session; false when the caller has none (an operator acting by headers). */
  async logout(caller: Caller): Promise<boolean> {
    const sessionId = caller.sessionId;
    if (!sessionId || !isId(sessionId)) return false;
    return this.em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [SESSION_FEED_LOCK]);
      const revoked = await tx.execute(
        'update sessions set revoked_at = now() where id = ? and user_id = ? and revoked_at is null returning id',
        [sessionId, caller.userId],
      );
      if (revoked.length) {
        await tx.execute(`insert into session_changes (kind, user_id, session_id, created_at) values ('SESSION_REVOKED', ?, ?, now())`, [
          caller.userId,
          sessionId,
        ]);
        return true;
      }
      const [existing] = await tx.execute('select 1 from sessions where id = ? and user_id = ?', [sessionId, caller.userId]);
      return Boolean(existing);
    });
  }

  async updateMe(caller: Caller, input: unknown): Promise<User> {
    const { name } = parseInput(updateMeSchema, input);
    const user = await this.em.findOne(User, { id: caller.userId });
    if (!user) throw notFound('Your account no longer exists');
    if (name !== undefined) {
      user.name = name;
      user.updatedAt = new Date();
      await this.em.flush();
    }
    return user;
  }

  async user(userId: string): Promise<UserSnapshot> {
    const user = isId(userId) ? await this.em.findOne(User, { id: userId }) : null;
    if (!user) throw notFound('No user with this id');
    return snapshot(user);
  }

  /**
   * POST /api/auth/users/:userId/role: raises the role, never lowers it (FACTORY_OWNER leaves an ADMIN an
   * ADMIN). Idempotent: the answer is the user's role afterwards; a real change enters the gateway's feed.
   */
  async raiseRole(userId: string, input: unknown): Promise<{ id: string; role: Role }> {
    const { role } = parseInput(roleSchema, input);
    if (!isId(userId)) throw notFound('No user with this id');
    return this.em.transactional(async (tx) => {
      const changed = await this.raiseRoleIn(tx, { column: 'id', value: userId }, role);
      if (changed) return changed;
      const [current] = await tx.execute<{ id: string; role: Role }[]>('select id, role from users where id = ?', [userId]);
      if (!current) throw notFound('No user with this id');
      return { id: current.id, role: current.role };
    });
  }

  /** scripts/create-admin.ts: the phone's user (created when new) becomes ADMIN. */
  async promoteToAdmin(input: string): Promise<UserSnapshot> {
    const phone = requirePhone(input);
    await this.em.transactional(async (tx) => {
      await tx.execute(
        `insert into users (id, phone, role, created_at, updated_at) values (?, ?, 'BUYER', now(), now())
         on conflict (phone) do nothing`,
        [newId(), phone],
      );
      await this.raiseRoleIn(tx, { column: 'phone', value: phone }, 'ADMIN');
    });
    return snapshot(await this.em.fork().findOneOrFail(User, { phone }));
  }

  /** The gateway's feed: changes after `since`, oldest first, at most FEED_PAGE of them. */
  async sessionChanges(since: unknown): Promise<SessionChanges> {
    const cursor = parseInput(cursorSchema, since ?? '0');
    const rows = await this.em.execute<{ seq: string; kind: string; user_id: string; session_id: string | null; role: Role | null }[]>(
      'select seq::text as seq, kind, user_id, session_id, role from session_changes where seq > ? order by seq limit ?',
      [cursor, FEED_PAGE],
    );
    return {
      cursor: rows.length ? rows[rows.length - 1].seq : cursor,
      revokedSessionIds: rows.filter((r) => r.kind === 'SESSION_REVOKED' && r.session_id).map((r) => r.session_id!),
      roleChanges: rows.filter((r) => r.kind === 'ROLE_CHANGED' && r.role).map((r) => ({ userId: r.user_id, role: r.role! })),
    };
  }

  /** How many sessions the phone's user has: lets tests prove a refused login created none. */
  async sessionsCount(input: string): Promise<{ phone: string; userExists: boolean; sessions: number }> {
    const phone = normalisePhone(input);
    if (!phone) throw badInput('phone: not a phone number');
    const [row] = await this.em.execute<{ id: string; sessions: string }[]>(
      'select u.id, (select count(*) from sessions s where s.user_id = u.id) as sessions from users u where u.phone = ?',
      [phone],
    );
    return { phone, userExists: Boolean(row), sessions: row ? Number(row.sessions) : 0 };
  }

  /** Drops rate-limit windows and codes nobody can use any more (background task). */
  async pruneExpired(): Promise<void> {
    await this.em.execute(`delete from otp_rate_limits where window_start < now() - make_interval(secs => ?)`, [
      Math.max(PHONE_WINDOW_SECONDS, ADDRESS_WINDOW_SECONDS),
    ]);
    await this.em.execute(`delete from otp_codes where expires_at < now() - interval '1 hour'`);
  }

  /** Counts a hit in a fixed window with one upsert; over the limit is BAD_USER_INPUT (RATE_LIMITED). */
  private async hitRateLimit(em: EntityManager, key: string, windowSeconds: number, limit: number): Promise<void> {
    const [bucket] = await em.execute<{ hits: number; retry_after: number }[]>(
      `insert into otp_rate_limits (key, window_start, hits) values (?, now(), 1)
       on conflict (key) do update set
         hits = case when otp_rate_limits.window_start <= now() - make_interval(secs => ?) then 1 else otp_rate_limits.hits + 1 end,
         window_start = case when otp_rate_limits.window_start <= now() - make_interval(secs => ?) then now() else otp_rate_limits.window_start end
       returning hits, greatest(1, ceil(extract(epoch from window_start + make_interval(secs => ?) - now())))::int as retry_after`,
      [key, windowSeconds, windowSeconds, windowSeconds],
    );
    if (bucket.hits > limit) {
      const scope = key.startsWith('phone:') ? 'for this number' : 'from your network';
      throw badInput(`Too many code requests ${scope}: try again in ${bucket.retry_after} s`, {
        reason: 'RATE_LIMITED',
        retryAfterSeconds: bucket.retry_after,
      });
    }
  }

  /** Raises a user's role if it is lower, recording the change for the gateway; null when nothing changed. */
  private async raiseRoleIn(
    tx: EntityManager,
    user: { column: 'id' | 'phone'; value: string },
    role: Role,
  ): Promise<{ id: string; role: Role } | null> {
    const lower = ROLES.filter((r) => ROLE_RANK[r] < ROLE_RANK[role]);
    if (!lower.length) return null;
    await tx.execute('select pg_advisory_xact_lock(?)', [SESSION_FEED_LOCK]);
    const [changed] = await tx.execute<{ id: string; role: Role }[]>(
      `update users set role = ?, updated_at = now() where ${user.column} = ? and role in (${lower.map(() => '?').join(', ')})
       returning id, role`,
      [role, user.value, ...lower],
    );
    if (!changed) return null;
    await tx.execute(`insert into session_changes (kind, user_id, role, created_at) values ('ROLE_CHANGED', ?, ?, now())`, [
      changed.id,
      role,
    ]);
    return changed;
  }

  /** Why no attempt could be spent: the most useful of the reasons. */
  private async whyNoLiveCode(phone: string): Promise<AppError> {
    const [row] = await this.em.execute<{ attempts: number; consumed: boolean; expired: boolean }[]>(
      `select attempts, consumed_at is not null as consumed, expires_at <= now() as expired from otp_codes where phone = ?`,
      [phone],
    );
    if (!row || row.consumed) {
      return badInput('No code is waiting for this number: request one first', { reason: 'OTP_NOT_REQUESTED' });
    }
    if (row.attempts >= OTP_MAX_ATTEMPTS) {
      return badInput('Too many wrong attempts: this code no longer works, request a new one', {
        reason: 'OTP_TOO_MANY_ATTEMPTS',
      });
    }
    return badInput('This code has expired: request a new one', { reason: 'OTP_EXPIRED' });
  }

  private requireClient(): InternalClient {
    if (!this.client) throw new Error('AuthService needs an InternalClient to send codes');
    return this.client;
  }
}

function snapshot(user: User): UserSnapshot {
  return { id: user.id, phone: user.phone, name: user.name ?? null, role: user.role };
}

import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../lib/config';
import { type Clock, systemClock } from '../../lib/clock';
import { AppError, badInput, isAppError, notFound } from '../../lib/errors';
import { type Caller, type Role, ROLES } from '../../lib/internal-auth';
import type { InternalClient } from '../../lib/internal-client';
import { newId, isId } from '../../lib/ids';
import { signSessionToken } from '../../lib/tokens';
import { parseInput } from '../../lib/validation';
import { User } from './entities/user.entity';
import { Session } from './entities/session.entity';
import { generateOtp, hashOtp, isOtpShaped, OTP_MAX_ATTEMPTS, otpMatches } from './otp';
import { normalisePhone, requirePhone } from './phone';
import { rateLimitKeyOf } from './client-address';

/** Rate-limit windows: per phone (SMS-pumping and harassment), per client address (enumeration). */
const PHONE_WINDOW_SECONDS = 600;
const ADDRESS_WINDOW_SECONDS = 60;
/** The "day" of the per-phone failure budget, counted from the first wrong code. */
const FAILURE_WINDOW_SECONDS = 24 * 3600;

/** Serialises writers of session_changes so that its sequence order is its commit order. */
const SESSION_FEED_LOCK = 727301;
const FEED_PAGE = 1000;

/** Roles only go up through the role endpoint: a late or replayed outbox call can never demote anyone. */
const ROLE_RANK: Record<Role, number> = { BUYER: 0, FACTORY_OWNER: 1, ADMIN: 2 };

const updateMeSchema = z.object({ name: z.string().trim().min(1, 'must not be empty').max(100).nullish() });
const roleSchema = z.object({ role: z.enum(ROLES as [Role, ...Role[]]) });
const cursorSchema = z.string().regex(/^\d{1,19}$/, 'must be a cursor from an earlier answer, or 0');
const pageSchema = z.coerce.number().int().min(1).max(FEED_PAGE);

export interface OtpChallengeResult {
  phone: string;
  expiresAt: Date;
  resendAfterSeconds: number;
}

/** A code just issued and not yet sent. */
export interface IssuedCode {
  phone: string;
  code: string;
  challengeId: string;
  expiresAt: Date;
}

export interface AuthPayloadResult {
  token: string;
  user: User;
}

/** Feed entries carry when they stop mattering (ISO-8601): the gateway drops them then. */
export interface SessionChanges {
  cursor: string;
  revokedSessions: { sessionId: string; expiresAt: string }[];
  roleChanges: { userId: string; role: Role; expiresAt: string }[];
}

/** A page of the changes that matter now; `before` continues the same snapshot, null on its last page. */
export interface CurrentSessionChanges extends SessionChanges {
  before: string | null;
}

interface FeedRow {
  seq: string;
  kind: string;
  user_id: string;
  session_id: string | null;
  role: Role | null;
  expires_at: Date;
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
 * limit, reuse a code or spend more attempts than allowed. The OTP rules (resend wait, expiry, rate-limit
 * windows, failure budget and backoff) read the time from `clock`, passed to SQL as a parameter, so tests
 * can move it; sessions and the gateway's feed stay on the database clock, as the tokens' expiry is
 * checked against real time.
 */
export class AuthService {
  constructor(
    private readonly em: EntityManager,
    private readonly config: Config,
    private readonly client?: InternalClient,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Sends a fresh code over WhatsApp. Refusals (all BAD_USER_INPUT, `extensions.reason` tells them apart):
   * RATE_LIMITED (per address or per phone, with `retryAfterSeconds`), OTP_RESEND_TOO_SOON and
   * OTP_TOO_MANY_FAILURES (both with `retryAfterSeconds`), WHATSAPP_UNDELIVERABLE.
   */
  async requestOtp(input: string, clientAddress?: string): Promise<OtpChallengeResult> {
    // Counted before anything else, so malformed numbers spend the address's budget too.
    if (clientAddress) {
      await this.hitRateLimit(
        this.em,
        `address:${rateLimitKeyOf(clientAddress)}`,
        ADDRESS_WINDOW_SECONDS,
        this.config.OTP_RATE_LIMIT_PER_ADDRESS,
      );
    }
    const { phone, code, challengeId, expiresAt } = await this.issueCode(requirePhone(input));

    try {
      await this.requireClient().post(
        'whatsapp',
        '/api/whatsapp/send-otp',
        { phone, code },
        {
          // whatsapp retries the Cloud API itself (up to ~20 s); one retry here covers a blip reaching it.
          retries: 1,
          timeoutMs: 30_000,
        },
      );
    } catch (error) {
      // A code nobody received must not be usable, and must not hold the cool-down.
      await this.em.execute('delete from otp_codes where phone = ? and challenge_id = ?', [phone, challengeId]);
      if (isAppError(error) && error.code === 'BAD_USER_INPUT') {
        throw badInput(error.message, { reason: 'WHATSAPP_UNDELIVERABLE' });
      }
      if (isAppError(error)) throw error;
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        'The code could not be sent over WhatsApp right now: try again in a minute',
      );
    }
    return { phone, expiresAt, resendAfterSeconds: this.config.OTP_RESEND_SECONDS };
  }

  /**
   * requestOtp's rules for a phone, without sending: refuses while the phone waits after wrong codes or the
   * resend wait is not over, counts the phone's rate limit, and stores a fresh code, which it answers.
   */
  async issueCode(phone: string): Promise<IssuedCode> {
    const now = this.clock.now();
    const [waiting] = await this.em.execute<{ wait: number }[]>(
      `select ${WAIT_SECONDS} as wait from otp_failures where phone = ? and retry_at > ?`,
      [now, phone, now],
    );
    if (waiting) throw tooManyFailures(waiting.wait);
    const code = generateOtp();
    const challengeId = newId();
    const codeHash = hashOtp(code, phone, challengeId, this.config.JWT_SECRET);

    const expiresAt = await this.em.transactional(async (tx) => {
      // Replaces the phone's code only when the cool-down since the last one has passed.
      const replaced = await tx.execute<{ expires_at: Date }[]>(
        `insert into otp_codes (phone, challenge_id, code_hash, attempts, expires_at, sent_at, consumed_at)
         values (?, ?, ?, 0, ?::timestamptz + make_interval(secs => ?), ?, null)
         on conflict (phone) do update set challenge_id = excluded.challenge_id, code_hash = excluded.code_hash,
           attempts = 0, expires_at = excluded.expires_at, sent_at = excluded.sent_at, consumed_at = null
         where otp_codes.sent_at <= ?::timestamptz - make_interval(secs => ?)
         returning expires_at`,
        [phone, challengeId, codeHash, now, this.config.OTP_TTL_SECONDS, now, now, this.config.OTP_RESEND_SECONDS],
      );
      if (!replaced.length) {
        const [row] = await tx.execute<{ wait: number }[]>(
          `select greatest(1, ceil(extract(epoch from sent_at + make_interval(secs => ?) - ?::timestamptz)))::int as wait
           from otp_codes where phone = ?`,
          [this.config.OTP_RESEND_SECONDS, now, phone],
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
    return { phone, code, challengeId, expiresAt: new Date(expiresAt) };
  }

  /**
   * Exchanges a code for a session token; a new phone becomes a BUYER. Refusals (BAD_USER_INPUT, with
   * `extensions.reason`): OTP_WRONG_CODE (with `attemptsLeft`, and `retryAfterSeconds` once the phone must
   * wait), OTP_TOO_MANY_FAILURES (with `retryAfterSeconds`), OTP_TOO_MANY_ATTEMPTS, OTP_EXPIRED,
   * OTP_NOT_REQUESTED. No session is created on any refusal.
   */
  async verifyOtp(input: string, code: string): Promise<AuthPayloadResult> {
    const phone = requirePhone(input);
    if (!isOtpShaped(code))
      throw badInput('code: the code has 6 digits', { fields: ['code'], reason: 'OTP_WRONG_CODE' });

    // One transaction holding the phone's code row: verifies of a phone queue behind each other, so
    // parallel guesses cannot slip past the code's attempts, the failure budget or the backoff. A refusal
    // is returned, not thrown, so that the attempt and the failure it spent are committed.
    const outcome = await this.em.transactional(
      async (tx): Promise<{ refusal: AppError } | { user: User; session: Session }> => {
        const now = this.clock.now();
        const [current] = await tx.execute<LockedCode[]>(
          `select challenge_id, code_hash, attempts, consumed_at is not null as consumed, expires_at <= ? as expired
         from otp_codes where phone = ? for update`,
          [now, phone],
        );
        const [waiting] = await tx.execute<{ wait: number }[]>(
          `select ${WAIT_SECONDS} as wait from otp_failures where phone = ? and retry_at > ?`,
          [now, phone, now],
        );
        if (waiting) return { refusal: tooManyFailures(waiting.wait) };
        if (!isLive(current)) return { refusal: whyCodeIsDead(current) };

        await tx.execute('update otp_codes set attempts = attempts + 1 where phone = ?', [phone]);
        if (!otpMatches(code, phone, current.challenge_id, this.config.JWT_SECRET, current.code_hash)) {
          return { refusal: wrongCode(OTP_MAX_ATTEMPTS - current.attempts - 1, await this.spendFailure(tx, phone)) };
        }

        await tx.execute('update otp_codes set consumed_at = ? where phone = ?', [now, phone]);
        // The person holds the phone: earlier typos no longer count against them.
        await tx.execute('delete from otp_failures where phone = ?', [phone]);
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
      },
    );
    if ('refusal' in outcome) throw outcome.refusal;
    const { user, session } = outcome;
    // The token expires with its session (not a moment later), so the gateway may forget a revocation then.
    const token = await signSessionToken(
      { userId: user.id, role: user.role, sessionId: session.id },
      this.config.JWT_SECRET,
      session.expiresAt,
    );
    return { token, user };
  }

  /** Revokes the caller's session; false when the caller has none (an operator acting by headers). */
  async logout(caller: Caller): Promise<boolean> {
    const sessionId = caller.sessionId;
    if (!sessionId || !isId(sessionId)) return false;
    return this.em.transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [SESSION_FEED_LOCK]);
      const [revoked] = await tx.execute<{ expires_at: Date }[]>(
        'update sessions set revoked_at = now() where id = ? and user_id = ? and revoked_at is null returning expires_at',
        [sessionId, caller.userId],
      );
      if (revoked) {
        await tx.execute(
          `insert into session_changes (kind, user_id, session_id, created_at, expires_at) values ('SESSION_REVOKED', ?, ?, now(), ?)`,
          [caller.userId, sessionId, revoked.expires_at],
        );
        return true;
      }
      const [existing] = await tx.execute('select 1 from sessions where id = ? and user_id = ?', [
        sessionId,
        caller.userId,
      ]);
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
      const [current] = await tx.execute<{ id: string; role: Role }[]>('select id, role from users where id = ?', [
        userId,
      ]);
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

  /**
   * The gateway's feed: changes after `since`, oldest first, a page of at most FEED_PAGE. The cursor
   * moves past changes that no longer matter (expired) without returning them. Ordered by the table's
   * bigint `seq`, not the text it is selected as (which would put 10 before 9).
   */
  async sessionChanges(since: unknown): Promise<SessionChanges> {
    const cursor = parseInput(cursorSchema, since ?? '0');
    const rows = await this.em.execute<(FeedRow & { live: boolean })[]>(
      `select seq::text as seq, kind, user_id, session_id, role, expires_at, expires_at > now() as live
       from session_changes where seq > ? order by session_changes.seq limit ?`,
      [cursor, FEED_PAGE],
    );
    return { cursor: rows.length ? rows[rows.length - 1].seq : cursor, ...feedEntries(rows.filter((row) => row.live)) };
  }

  /**
   * Where a gateway starts: the changes that still matter (unexpired), newest first, in pages of `limit`
   * (at most FEED_PAGE), and the `cursor` to follow the feed from afterwards. The first page (no cursor)
   * fixes the snapshot's cursor; later pages pass it back with `before` from the page they follow.
   */
  async currentSessionChanges(query: {
    cursor?: unknown;
    before?: unknown;
    limit?: unknown;
  }): Promise<CurrentSessionChanges> {
    if (query.cursor === undefined && query.before !== undefined) {
      throw badInput('before: only together with the cursor of the first page', { fields: ['before'] });
    }
    const cursor =
      query.cursor === undefined
        ? (
            await this.em.execute<{ seq: string }[]>('select coalesce(max(seq), 0)::text as seq from session_changes')
          )[0].seq
        : parseInput(cursorSchema, query.cursor);
    const before = query.before === undefined ? undefined : parseInput(cursorSchema, query.before);
    const limit = parseInput(pageSchema, query.limit ?? FEED_PAGE);
    const rows = await this.em.execute<FeedRow[]>(
      `select seq::text as seq, kind, user_id, session_id, role, expires_at from session_changes
       where seq <= ? ${before ? 'and seq < ?' : ''} and expires_at > now() order by session_changes.seq desc limit ?`,
      [cursor, ...(before ? [before] : []), limit],
    );
    return { cursor, ...feedEntries(rows), before: rows.length === limit ? rows[rows.length - 1].seq : null };
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

  /** Drops rate-limit windows, failure budgets, codes and feed entries that no longer matter (background task). */
  async pruneExpired(): Promise<void> {
    const now = this.clock.now();
    await this.em.execute(
      `delete from otp_rate_limits where window_start < ?::timestamptz - make_interval(secs => ?)`,
      [now, Math.max(PHONE_WINDOW_SECONDS, ADDRESS_WINDOW_SECONDS)],
    );
    await this.em.execute(
      `delete from otp_failures where window_start < ?::timestamptz - make_interval(secs => ?) and (retry_at is null or retry_at < ?)`,
      [now, FAILURE_WINDOW_SECONDS, now],
    );
    await this.em.execute(`delete from otp_codes where expires_at < ?::timestamptz - interval '1 hour'`, [now]);
    await this.em.execute('delete from session_changes where expires_at < now()');
  }

  /**
   * Counts a wrong code against the phone's day (the caller holds the phone's code row). Past
   * OTP_FAILURES_BEFORE_BACKOFF each wrong code makes the phone wait, doubling from
   * OTP_FAILURE_BACKOFF_SECONDS; the last one the budget allows locks it until its day is over.
   * Answers how long the phone must now wait (0: not at all).
   */
  private async spendFailure(tx: EntityManager, phone: string): Promise<number> {
    const {
      OTP_MAX_FAILURES_PER_DAY: max,
      OTP_FAILURES_BEFORE_BACKOFF: free,
      OTP_FAILURE_BACKOFF_SECONDS: backoff,
    } = this.config;
    const now = this.clock.now();
    await tx.execute(
      `insert into otp_failures (phone, window_start, failures, retry_at) values (?, ?, 0, null)
       on conflict (phone) do update set window_start = excluded.window_start, failures = 0, retry_at = null
       where otp_failures.window_start <= ?::timestamptz - make_interval(secs => ?)`,
      [phone, now, now, FAILURE_WINDOW_SECONDS],
    );
    const [spent] = await tx.execute<{ wait: number }[]>(
      `update otp_failures set
         failures = failures + 1,
         retry_at = case
           when failures + 1 >= ? then window_start + make_interval(secs => ?)
           when failures + 1 > ? then least(window_start + make_interval(secs => ?), ?::timestamptz + make_interval(secs => ? * power(2, failures - ?)))
           else null end
       where phone = ?
       returning case when retry_at > ? then ${WAIT_SECONDS} else 0 end as wait`,
      [max, FAILURE_WINDOW_SECONDS, free, FAILURE_WINDOW_SECONDS, now, backoff, free, phone, now, now],
    );
    return spent.wait;
  }

  /** Counts a hit in a fixed window with one upsert; over the limit is BAD_USER_INPUT (RATE_LIMITED). */
  private async hitRateLimit(em: EntityManager, key: string, windowSeconds: number, limit: number): Promise<void> {
    const now = this.clock.now();
    const [bucket] = await em.execute<{ hits: number; retry_after: number }[]>(
      `insert into otp_rate_limits (key, window_start, hits) values (?, ?, 1)
       on conflict (key) do update set
         hits = case when otp_rate_limits.window_start <= ?::timestamptz - make_interval(secs => ?) then 1 else otp_rate_limits.hits + 1 end,
         window_start = case when otp_rate_limits.window_start <= ?::timestamptz - make_interval(secs => ?) then excluded.window_start else otp_rate_limits.window_start end
       returning hits, greatest(1, ceil(extract(epoch from window_start + make_interval(secs => ?) - ?::timestamptz)))::int as retry_after`,
      [key, now, now, windowSeconds, now, windowSeconds, windowSeconds, now],
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
    // Tokens from before the change carry the old role: the change matters until the last of them expires,
    // including one a login in flight right now is about to sign.
    await tx.execute(
      `insert into session_changes (kind, user_id, role, created_at, expires_at)
       values ('ROLE_CHANGED', ?, ?, now(), greatest(now() + make_interval(secs => ?), (select max(expires_at) from sessions where user_id = ?)))`,
      [changed.id, role, this.config.JWT_TTL_SECONDS, changed.id],
    );
    return changed;
  }

  private requireClient(): InternalClient {
    if (!this.client) throw new Error('AuthService needs an InternalClient to send codes');
    return this.client;
  }
}

function snapshot(user: User): UserSnapshot {
  return { id: user.id, phone: user.phone, name: user.name ?? null, role: user.role };
}

interface LockedCode {
  challenge_id: string;
  code_hash: string;
  attempts: number;
  consumed: boolean;
  expired: boolean;
}

function isLive(code: LockedCode | undefined): code is LockedCode {
  return Boolean(code && !code.consumed && !code.expired && code.attempts < OTP_MAX_ATTEMPTS);
}

/** Why the phone's code cannot take an attempt: the most useful of the reasons. */
function whyCodeIsDead(code: LockedCode | undefined): AppError {
  if (!code || code.consumed) {
    return badInput('No code is waiting for this number: request one first', { reason: 'OTP_NOT_REQUESTED' });
  }
  if (code.attempts >= OTP_MAX_ATTEMPTS) {
    return badInput('Too many wrong attempts: this code no longer works, request a new one', {
      reason: 'OTP_TOO_MANY_ATTEMPTS',
    });
  }
  return badInput('This code has expired: request a new one', { reason: 'OTP_EXPIRED' });
}

/** Seconds until `retry_at` (at least 1 while it is ahead), in SQL over otp_failures; its `?` is the clock's now. */
const WAIT_SECONDS = `greatest(1, ceil(extract(epoch from retry_at - ?::timestamptz)))::int`;

function tooManyFailures(waitSeconds: number): AppError {
  return badInput(`Too many wrong codes for this number: try again in ${formatWait(waitSeconds)}`, {
    reason: 'OTP_TOO_MANY_FAILURES',
    retryAfterSeconds: waitSeconds,
  });
}

function wrongCode(attemptsLeft: number, waitSeconds: number): AppError {
  const left =
    attemptsLeft > 0
      ? `Wrong code: ${attemptsLeft} ${attemptsLeft === 1 ? 'attempt' : 'attempts'} left`
      : 'Wrong code, and that was the last attempt: request a new code';
  if (!waitSeconds) return badInput(left, { reason: 'OTP_WRONG_CODE', attemptsLeft });
  return badInput(`${left}; too many wrong codes for this number: try again in ${formatWait(waitSeconds)}`, {
    reason: 'OTP_WRONG_CODE',
    attemptsLeft,
    retryAfterSeconds: waitSeconds,
  });
}

function formatWait(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}

function feedEntries(rows: FeedRow[]): Omit<SessionChanges, 'cursor'> {
  return {
    revokedSessions: rows
      .filter((row) => row.kind === 'SESSION_REVOKED' && row.session_id)
      .map((row) => ({ sessionId: row.session_id!, expiresAt: new Date(row.expires_at).toISOString() })),
    roleChanges: rows
      .filter((row) => row.kind === 'ROLE_CHANGED' && row.role)
      .map((row) => ({ userId: row.user_id, role: row.role!, expiresAt: new Date(row.expires_at).toISOString() })),
  };
}

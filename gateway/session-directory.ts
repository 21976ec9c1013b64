import { GraphQLError } from 'graphql';
import type { InternalClient } from '../lib/internal-client';
import type { Logger } from '../lib/logger';
import type { Role } from '../lib/internal-auth';

/** Auth's feed (docs/internal-api.md): each entry says when it stops mattering (the token it is about expires). */
interface SessionChanges {
  cursor: string;
  revokedSessions: { sessionId: string; expiresAt: string }[];
  roleChanges: { userId: string; role: Role; expiresAt: string }[];
}

interface CurrentSessionChanges extends SessionChanges {
  before: string | null;
}

/** Whether a token's session may act: still open, ended (logout), or not knowable right now. */
export type SessionStanding = 'OPEN' | 'REVOKED' | 'UNCONFIRMED';

/** Pages read per refresh: a long outage's backlog is caught up over several ticks. */
const MAX_PAGES_PER_REFRESH = 50;
const POLL_INTERVAL_MS = 1000;
/** How long a request waits for the first load after the gateway starts before it is refused. */
const FIRST_LOAD_WAIT_MS = 2000;

/**
 * Refusal of a token whose session cannot be checked: UNAUTHENTICATED, since the call is not served as
 * the user, but with HTTP 503 and a retry hint rather than 401, because the token itself may be fine
 * and an app must not throw it away and send the user back to sign-in.
 */
export function sessionUnconfirmed(): GraphQLError {
  const retryAfterSeconds = Math.ceil((2 * POLL_INTERVAL_MS) / 1000);
  // Apollo Server takes response headers from `extensions.http` as a Map (typed loosely here because
  // another package's type augmentation expects a plain object).
  const extensions: Record<string, unknown> = {
    code: 'UNAUTHENTICATED',
    reason: 'SESSION_UNCONFIRMED',
    retryAfterSeconds,
    http: { status: 503, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
  };
  return new GraphQLError('Your sign-in cannot be confirmed right now: try again in a few seconds', { extensions });
}

/**
 * The gateway's view of revoked sessions and role changes, fed by auth's change feed every second:
 * logout takes effect within seconds without a call to auth on every request, and a buyer who opens a
 * factory acts as FACTORY_OWNER with the token they already hold.
 *
 * It fails closed: while its last complete read of the feed is older than `maxStalenessMs` (auth
 * unreachable, or never read since the gateway started), no session is OPEN, so a token revoked
 * meanwhile cannot slip through. Entries are dropped when the token they are about expires (the JWT
 * check refuses it from then on), so memory holds only what still matters.
 */
export class SessionDirectory {
  /** Revoked session id → when its token expires (ms). */
  private readonly revoked = new Map<string, number>();
  private readonly roles = new Map<string, { role: Role; until: number }>();
  /** Where to follow the feed from; unset until the starting snapshot is read to its end. */
  private cursor?: string;
  /** The starting snapshot's position and its next page, while it is being read. */
  private snapshot?: { cursor: string; before: string };
  /** When the last read that reached the end of the feed began. */
  private confirmedAt?: number;
  private nextExpiry = Infinity;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private firstRefresh?: Promise<void>;

  constructor(
    private readonly client: InternalClient,
    private readonly logger: Logger,
    private readonly enabled: boolean,
    private readonly maxStalenessMs: number,
  ) {}

  /**
   * A token's session: REVOKED when auth ended it, UNCONFIRMED while the feed is stale (right after start
   * this waits a moment for the first load), OPEN otherwise.
   */
  async standing(sessionId: string): Promise<SessionStanding> {
    if (!this.enabled) return 'OPEN';
    if (this.confirmedAt === undefined && this.firstRefresh) await this.firstLoad();
    if (this.revoked.has(sessionId)) return 'REVOKED';
    return this.isCurrent() ? 'OPEN' : 'UNCONFIRMED';
  }

  /** The user's role when it rose after their tokens were issued. */
  currentRole(userId: string): Role | undefined {
    const entry = this.roles.get(userId);
    return entry && entry.until > Date.now() ? entry.role : undefined;
  }

  /** Revocations held in memory (what pruning keeps small). */
  get revokedCount(): number {
    return this.revoked.size;
  }

  /** Reads the feed up to its end; one read at a time, so cursors never go backwards. */
  refresh(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return (this.refreshing ??= this.readFeed().finally(() => (this.refreshing = undefined)));
  }

  start(intervalMs = POLL_INTERVAL_MS): void {
    if (!this.enabled) return;
    const tick = () =>
      this.refresh().catch((error) =>
        this.logger.warn({ err: error }, 'session feed unavailable; refusing tokens once it is stale'),
      );
    this.firstRefresh = tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private isCurrent(): boolean {
    return this.confirmedAt !== undefined && Date.now() - this.confirmedAt <= this.maxStalenessMs;
  }

  private async firstLoad(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstRefresh,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_LOAD_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private async readFeed(): Promise<void> {
    try {
      await this.readPages();
    } finally {
      this.pruneExpired();
    }
  }

  private async readPages(): Promise<void> {
    for (let page = 0; page < MAX_PAGES_PER_REFRESH; page += 1) {
      const startedAt = Date.now();
      if (this.cursor === undefined) {
        // Starting: what matters now, newest first, instead of all history oldest first.
        const query = this.snapshot ? `?cursor=${this.snapshot.cursor}&before=${this.snapshot.before}` : '';
        const current = await this.get<CurrentSessionChanges>(`/api/auth/session-changes/current${query}`);
        this.apply(current, 'snapshot');
        if (current.before) this.snapshot = { cursor: current.cursor, before: current.before };
        else [this.snapshot, this.cursor] = [undefined, current.cursor];
        continue;
      }
      const changes = await this.get<SessionChanges>(
        `/api/auth/session-changes?since=${encodeURIComponent(this.cursor)}`,
      );
      this.apply(changes, 'feed');
      if (changes.cursor === this.cursor) {
        this.confirmedAt = startedAt;
        return;
      }
      this.cursor = changes.cursor;
    }
  }

  private get<T>(path: string): Promise<T> {
    return this.client.get<T>('auth', path, { retries: 0, timeoutMs: 2000 });
  }

  /**
   * The snapshot comes newest first, so there a user's first role seen is their latest; the feed comes
   * oldest first, so there the last one is.
   */
  private apply(changes: SessionChanges, order: 'snapshot' | 'feed'): void {
    const now = Date.now();
    for (const { sessionId, expiresAt } of changes.revokedSessions) {
      const until = Date.parse(expiresAt);
      if (until <= now) continue;
      this.revoked.set(sessionId, until);
      this.nextExpiry = Math.min(this.nextExpiry, until);
    }
    for (const { userId, role, expiresAt } of changes.roleChanges) {
      const until = Date.parse(expiresAt);
      if (until <= now || (order === 'snapshot' && this.roles.has(userId))) continue;
      this.roles.set(userId, { role, until });
      this.nextExpiry = Math.min(this.nextExpiry, until);
    }
  }

  /** Forgets entries whose token has expired; scans only once something has. */
  private pruneExpired(): void {
    const now = Date.now();
    if (now < this.nextExpiry) return;
    this.nextExpiry = Infinity;
    for (const [sessionId, until] of this.revoked) {
      if (until <= now) this.revoked.delete(sessionId);
      else this.nextExpiry = Math.min(this.nextExpiry, until);
    }
    for (const [userId, entry] of this.roles) {
      if (entry.until <= now) this.roles.delete(userId);
      else this.nextExpiry = Math.min(this.nextExpiry, entry.until);
    }
  }
}

import { InternalClient } from '../lib/internal-client';
import { Logger } from '../lib/logger';
import { Role } from '../lib/internal-auth';

interface SessionChanges {
  cursor: string;
  revokedSessionIds: string[];
  roleChanges: { userId: string; role: Role }[];
}

/** Pages read per refresh: catching up from `since=0` on start is bounded, the rest comes next tick. */
const MAX_PAGES_PER_REFRESH = 50;

/**
 * The gateway's view of revoked sessions and role changes, fed by auth's change feed every second or
 * so: logout takes effect within seconds without a call to auth on every request, and a buyer who
 * opens a factory acts as FACTORY_OWNER with the token they already hold.
 */
export class SessionDirectory {
  private readonly revoked = new Set<string>();
  private readonly roles = new Map<string, Role>();
  private cursor = '0';
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private firstRefresh?: Promise<void>;
  private firstRefreshSettled = false;

  constructor(
    private readonly client: InternalClient,
    private readonly logger: Logger,
    private readonly enabled: boolean,
  ) {}

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  currentRole(userId: string): Role | undefined {
    return this.roles.get(userId);
  }

  /**
   * Resolves once the first read of the feed has finished (successfully or not), so a token revoked
   * before this gateway started is not accepted in its first second. If auth is unreachable the
   * gateway does not wait longer than `timeoutMs` (it keeps serving; the feed catches up later).
   */
  async ready(timeoutMs = 2000): Promise<void> {
    if (!this.firstRefresh || this.firstRefreshSettled) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstRefresh,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Reads the feed up to its end; one read at a time, so cursors never go backwards. */
  refresh(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return (this.refreshing ??= this.readFeed().finally(() => (this.refreshing = undefined)));
  }

  start(intervalMs = 1000): void {
    if (!this.enabled) return;
    const tick = () => this.refresh().catch((error) => this.logger.warn({ err: error }, 'session feed unavailable; retrying'));
    this.firstRefresh = tick().then(() => {
      this.firstRefreshSettled = true;
    });
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async readFeed(): Promise<void> {
    for (let page = 0; page < MAX_PAGES_PER_REFRESH; page += 1) {
      const changes = await this.client.get<SessionChanges>(
        'auth',
        `/api/auth/session-changes?since=${encodeURIComponent(this.cursor)}`,
        { retries: 0, timeoutMs: 2000 },
      );
      for (const id of changes.revokedSessionIds) this.revoked.add(id);
      for (const change of changes.roleChanges) this.roles.set(change.userId, change.role);
      const advanced = changes.cursor !== this.cursor;
      this.cursor = changes.cursor;
      if (!advanced) return;
    }
  }
}

import { InternalClient } from '../lib/internal-client';
import { Logger } from '../lib/logger';
import { Role } from '../lib/internal-auth';

interface SessionChanges {
  cursor: string;
  revokedSessionIds: string[];
  roleChanges: { userId: string; role: Role }[];
}

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

  async refresh(): Promise<void> {
    if (!this.enabled) return;
    const changes = await this.client.get<SessionChanges>(
      'auth',
      `/api/auth/session-changes?since=${encodeURIComponent(this.cursor)}`,
      { retries: 0, timeoutMs: 2000 },
    );
    for (const id of changes.revokedSessionIds) this.revoked.add(id);
    for (const change of changes.roleChanges) this.roles.set(change.userId, change.role);
    this.cursor = changes.cursor;
  }

  start(intervalMs = 1000): void {
    if (!this.enabled) return;
    const tick = () =>
      this.refresh().catch((error) => this.logger.warn({ err: error }, 'session feed unavailable; retrying'));
    void tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

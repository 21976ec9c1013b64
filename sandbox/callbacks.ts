import type { Logger } from '../lib/logger';

/**
 * Xendit retries an undelivered callback over a day (15 m … 24 h); the sandbox keeps the shape of that
 * behaviour but compresses it into seconds so tests and local runs see the retry happen.
 */
const CALLBACK_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/** Xendit counts a receiver that has not answered within 30 s as failed; locally 10 s is plenty. */
const CALLBACK_TIMEOUT_MS = 10_000;

export interface CallbackAttempt {
  /** The receiver's HTTP status; null when it could not be reached. */
  status: number | null;
  body: unknown;
  error?: string;
}

export interface CallbackDelivery {
  url: string;
  body: unknown;
  /** Sent with every attempt besides the token (Xendit's newer callbacks carry a `webhook-id`). */
  headers: Record<string, string>;
  attempts: number;
  delivered: boolean;
  /** True once every retry failed: the callback stays undelivered. */
  gaveUp: boolean;
  lastAttempt?: CallbackAttempt;
}

/** Posts callbacks with `x-callback-token`, as Xendit does, retrying until a 2xx or the schedule runs out. */
export class CallbackSender {
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Bumped by cancelRetries, so an attempt in flight at that moment schedules nothing after it. */
  private generation = 0;

  constructor(
    private readonly callbackToken: string,
    private readonly logger: Logger,
    private readonly retryDelaysMs: readonly number[] = CALLBACK_RETRY_DELAYS_MS,
  ) {}

  /**
   * Delivers `body` and resolves with the first attempt, so a caller can report what the receiver
   * answered; retries after a failure go on in the background and update the returned delivery.
   */
  async send(
    url: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ delivery: CallbackDelivery; firstAttempt: CallbackAttempt }> {
    const delivery: CallbackDelivery = { url, body, headers, attempts: 0, delivered: false, gaveUp: false };
    const generation = this.generation;
    const firstAttempt = await this.attempt(delivery);
    this.retryUnlessDelivered(delivery, 0, generation);
    return { delivery, firstAttempt };
  }

  /** Drops every pending retry (on reset and shutdown), so no callback arrives afterwards. */
  cancelRetries(): void {
    this.generation += 1;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }

  private retryUnlessDelivered(delivery: CallbackDelivery, retryIndex: number, generation: number): void {
    if (delivery.delivered || generation !== this.generation) return;
    if (retryIndex >= this.retryDelaysMs.length) {
      delivery.gaveUp = true;
      this.logger.warn({ url: delivery.url, attempts: delivery.attempts }, 'callback undelivered, giving up');
      return;
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.attempt(delivery).then(() => this.retryUnlessDelivered(delivery, retryIndex + 1, generation));
    }, this.retryDelaysMs[retryIndex]);
    // Pending retries alone must not keep a process (or a test run) alive.
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async attempt(delivery: CallbackDelivery): Promise<CallbackAttempt> {
    delivery.attempts += 1;
    let attempt: CallbackAttempt;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { ...delivery.headers, 'content-type': 'application/json', 'x-callback-token': this.callbackToken },
        body: JSON.stringify(delivery.body),
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      attempt = { status: response.status, body: await readBody(response) };
      delivery.delivered = response.ok;
    } catch (error) {
      attempt = { status: null, body: null, error: describeFailure(error) };
    }
    delivery.lastAttempt = attempt;
    const facts = { url: delivery.url, attempt: delivery.attempts, status: attempt.status, error: attempt.error };
    if (delivery.delivered) this.logger.info(facts, 'callback delivered');
    else this.logger.warn(facts, 'callback not accepted');
    return attempt;
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, timeout…) is in its cause. */
function describeFailure(error: unknown): string {
  const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
  const reason = cause?.code ?? cause?.message;
  return reason ? `${message}: ${reason}` : message;
}

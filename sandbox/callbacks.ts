import type { Logger } from '../lib/logger';

/**
 * Xendit retries an undelivered callback over a day (15 m … 24 h); the sandbox keeps the shape of that
 * behaviour but compresses it into seconds so tests and local runs see the retry happen.
 */
export const CALLBACK_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

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
  attempts: number;
  delivered: boolean;
  /** True once every retry failed: the callback stays undelivered. */
  gaveUp: boolean;
  lastAttempt?: CallbackAttempt;
}

/** Posts callbacks with `x-callback-token`, as Xendit does, retrying until a 2xx or the schedule runs out. */
export class CallbackSender {
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly callbackToken: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Delivers `body` and resolves with the first attempt, so a caller can report what the receiver
   * answered; retries after a failure go on in the background and update the returned delivery.
   */
  async send(url: string, body: unknown): Promise<{ delivery: CallbackDelivery; firstAttempt: CallbackAttempt }> {
    const delivery: CallbackDelivery = { url, body, attempts: 0, delivered: false, gaveUp: false };
    const firstAttempt = await this.attempt(delivery);
    if (!delivery.delivered) this.scheduleRetry(delivery, 0);
    return { delivery, firstAttempt };
  }

  /** Drops every pending retry (on reset and shutdown), so no callback arrives afterwards. */
  cancelRetries(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }

  private scheduleRetry(delivery: CallbackDelivery, retryIndex: number): void {
    if (retryIndex >= CALLBACK_RETRY_DELAYS_MS.length) {
      delivery.gaveUp = true;
      this.logger.warn({ url: delivery.url, attempts: delivery.attempts }, 'callback undelivered, giving up');
      return;
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.attempt(delivery).then(() => {
        if (!delivery.delivered) this.scheduleRetry(delivery, retryIndex + 1);
      });
    }, CALLBACK_RETRY_DELAYS_MS[retryIndex]);
    this.retryTimers.add(timer);
  }

  private async attempt(delivery: CallbackDelivery): Promise<CallbackAttempt> {
    delivery.attempts += 1;
    let attempt: CallbackAttempt;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-callback-token': this.callbackToken },
        body: JSON.stringify(delivery.body),
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      attempt = { status: response.status, body: await readBody(response) };
      delivery.delivered = response.ok;
    } catch (error) {
      attempt = { status: null, body: null, error: (error as Error).message };
    }
    delivery.lastAttempt = attempt;
    this.logger.info(
      { url: delivery.url, attempt: delivery.attempts, status: attempt.status, error: attempt.error },
      delivery.delivered ? 'callback delivered' : 'callback not accepted',
    );
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

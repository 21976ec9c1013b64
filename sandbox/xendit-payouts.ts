import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../lib/logger';
import type { CallbackAttempt, CallbackDelivery, CallbackSender } from './callbacks';
import { SANDBOX_BUSINESS_ID, XenditError } from './xendit-account';

/** Xendit's Indonesian payout channels (banks, then e-wallets), as ../shared/EXTERNAL.md lists them. */
export const PAYOUT_CHANNEL_CODES = [
  'ID_BCA',
  'ID_MANDIRI',
  'ID_BNI',
  'ID_BRI',
  'ID_PERMATA',
  'ID_CIMB',
  'ID_BSI',
  'ID_DANA',
  'ID_OVO',
  'ID_GOPAY',
  'ID_SHOPEEPAY',
  'ID_LINKAJA',
] as const;

/** Xendit's own test scenario: a payout to this account number stays ACCEPTED, so it can be cancelled. */
export const STAYS_ACCEPTED_ACCOUNT_NUMBER = '131313';
/** The sandbox's failing destination: account numbers ending in this fail with INVALID_DESTINATION. */
const INVALID_DESTINATION_SUFFIX = '000';
/** What `estimated_arrival_time` promises after creation (Xendit quotes minutes for ID bank transfers). */
const ESTIMATED_ARRIVAL_MS = 15 * 60_000;

export type PayoutStatus = 'ACCEPTED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REVERSED';
export const PAYOUT_FAILURE_CODES = [
  'INSUFFICIENT_BALANCE',
  'REJECTED_BY_CHANNEL',
  'TEMPORARY_TRANSFER_ERROR',
  'INVALID_DESTINATION',
  'TRANSFER_ERROR',
] as const;
export type PayoutFailureCode = (typeof PAYOUT_FAILURE_CODES)[number];
export type PayoutEvent = 'payout.succeeded' | 'payout.failed' | 'payout.reversed';

/** A payout as Xendit's Payouts API v2 answers it (snake_case; what xendit-node's Payout model reads). */
export interface XenditPayout {
  id: string;
  reference_id: string;
  business_id: string;
  channel_code: string;
  channel_properties: { account_number: string; account_holder_name: string; account_type?: string };
  amount: number;
  currency: 'IDR';
  description?: string;
  receipt_notification?: { email_to?: string[]; email_cc?: string[]; email_bcc?: string[] };
  metadata?: Record<string, unknown>;
  status: PayoutStatus;
  /** Only on a FAILED payout. */
  failure_code?: PayoutFailureCode;
  created: string;
  updated: string;
  estimated_arrival_time: string;
}

/** The callback Xendit posts on each outcome: its event envelope around the payout. */
export interface PayoutCallbackBody {
  event: PayoutEvent;
  business_id: string;
  created: string;
  data: XenditPayout & { idempotency_key: string };
}

export interface PayoutCallback {
  event: PayoutEvent;
  /** The `webhook-id` header: one per event, the same on every retry and re-delivery of it. */
  webhookId: string;
  body: PayoutCallbackBody;
  /** SENT: handed to the sender (`delivery` tells how it went); HELD: waits for a release; LOST: never sent. */
  state: 'SENT' | 'HELD' | 'LOST';
  delivery?: CallbackDelivery;
}

export interface PayoutRecord {
  payout: XenditPayout;
  idempotencyKey: string;
  /** Every callback of this payout, oldest first (a re-delivery is listed again). */
  callbacks: PayoutCallback[];
}

const emails = z.array(z.string().email()).max(3).optional();
export const createPayoutSchema = z.object({
  reference_id: z.string().min(1).max(255),
  channel_code: z.enum(PAYOUT_CHANNEL_CODES),
  channel_properties: z.object({
    account_number: z.string().trim().min(1).max(100),
    account_holder_name: z.string().trim().min(1).max(100),
    account_type: z.string().optional(),
  }),
  // Rupiah has no minor unit: Xendit refuses fractions of IDR.
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  // Every ID_ channel pays out in rupiah.
  currency: z.literal('IDR'),
  description: z.string().max(100).optional(),
  receipt_notification: z.object({ email_to: emails, email_cc: emails, email_bcc: emails }).optional(),
  metadata: z.record(z.unknown()).optional(),
});
export type CreatePayoutInput = z.infer<typeof createPayoutSchema>;

/** `POST /__sandbox/xendit/payouts/:id/complete` body: the outcome to force; empty means the sandbox's rule. */
export const completePayoutSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('SUCCEEDED') }),
  z.object({ status: z.literal('FAILED'), failure_code: z.enum(PAYOUT_FAILURE_CODES).default('TRANSFER_ERROR') }),
]);
export type PayoutOutcome = z.infer<typeof completePayoutSchema>;

export interface XenditPayoutsSettings {
  webhookBaseUrl: string;
  callbacks: CallbackSender;
  /** How long a payout stays ACCEPTED before its outcome (SANDBOX_PAYOUT_DELAY_MS). */
  delayMs: number;
  logger: Logger;
}

/**
 * The simulated account's payouts (Xendit Payouts API v2): created ACCEPTED, then after `delayMs` SUCCEEDED
 * with `payout.succeeded`, or FAILED (INVALID_DESTINATION) with `payout.failed` for an account number
 * ending in 000. In memory, like the invoices; the HTTP router only translates.
 */
export class XenditPayouts {
  private readonly payouts = new Map<string, PayoutRecord>();
  private readonly byIdempotencyKey = new Map<string, { payoutId: string; fingerprint: string }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private delayMs: number;
  private callbacksToLose = 0;
  private holding = false;
  /** Held callbacks in the order their events happened. */
  private held: PayoutCallback[] = [];

  constructor(private readonly settings: XenditPayoutsSettings) {
    this.delayMs = settings.delayMs;
  }

  /**
   * Accepts a payout, or answers the one already made under the same idempotency key. The same key with a
   * different request is refused with 409 DUPLICATE_ERROR, as Xendit documents for Payouts.
   */
  create(input: CreatePayoutInput, idempotencyKey: string): XenditPayout {
    // The parsed input lists its fields in schema order, so the raw body's key order does not matter.
    const fingerprint = JSON.stringify(input);
    const earlier = this.byIdempotencyKey.get(idempotencyKey);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new XenditError(
          409,
          'DUPLICATE_ERROR',
          'A payout with this idempotency key already exists. If you meant to execute a different request, please use another idempotency key.',
        );
      }
      return this.find(earlier.payoutId).payout;
    }

    const now = new Date();
    const payout: XenditPayout = {
      id: `disb-${randomBytes(12).toString('hex')}`,
      reference_id: input.reference_id,
      business_id: SANDBOX_BUSINESS_ID,
      channel_code: input.channel_code,
      channel_properties: input.channel_properties,
      amount: input.amount,
      currency: input.currency,
      description: input.description,
      receipt_notification: input.receipt_notification,
      metadata: input.metadata,
      status: 'ACCEPTED',
      created: now.toISOString(),
      updated: now.toISOString(),
      estimated_arrival_time: new Date(now.getTime() + ESTIMATED_ARRIVAL_MS).toISOString(),
    };
    this.payouts.set(payout.id, { payout, idempotencyKey, callbacks: [] });
    this.byIdempotencyKey.set(idempotencyKey, { payoutId: payout.id, fingerprint });
    if (input.channel_properties.account_number !== STAYS_ACCEPTED_ACCOUNT_NUMBER) this.schedule(payout.id);
    return payout;
  }

  find(payoutId: string): PayoutRecord {
    const record = this.payouts.get(payoutId);
    if (!record) throw new XenditError(404, 'DATA_NOT_FOUND', `Payout ${payoutId} not found`);
    return record;
  }

  /** Oldest first; each filter applies when given. */
  list(filter: { referenceId?: string; idempotencyKey?: string } = {}): PayoutRecord[] {
    return [...this.payouts.values()].filter(
      (r) =>
        (filter.referenceId === undefined || r.payout.reference_id === filter.referenceId) &&
        (filter.idempotencyKey === undefined || r.idempotencyKey === filter.idempotencyKey),
    );
  }

  /**
   * The merchant cancels a payout Xendit has not sent yet. Only an ACCEPTED payout can be; Xendit's test mode
   * answers a later cancel with 400 CANCELLATION_NOT_ALLOWED. No callback: the merchant asked for it.
   */
  cancel(payoutId: string): XenditPayout {
    const { payout } = this.find(payoutId);
    if (payout.status !== 'ACCEPTED') {
      throw new XenditError(
        400,
        'CANCELLATION_NOT_ALLOWED',
        `Payout ${payoutId} is ${payout.status} and can no longer be cancelled`,
      );
    }
    this.unschedule(payoutId);
    setStatus(payout, 'CANCELLED');
    return payout;
  }

  /** Decides an ACCEPTED payout now (by default: the sandbox's rule on the account number) and sends its callback. */
  async complete(payoutId: string, forced?: PayoutOutcome): Promise<PayoutRecord> {
    const record = this.find(payoutId);
    if (record.payout.status !== 'ACCEPTED') {
      throw new XenditError(409, 'INVALID_STATUS', `Payout ${payoutId} is ${record.payout.status}, not ACCEPTED`);
    }
    this.unschedule(payoutId);
    const outcome = forced ?? outcomeFor(record.payout);
    if (outcome.status === 'FAILED') {
      setStatus(record.payout, 'FAILED', outcome.failure_code);
      await this.sendCallback(record, 'payout.failed');
    } else {
      setStatus(record.payout, 'SUCCEEDED');
      await this.sendCallback(record, 'payout.succeeded');
    }
    return record;
  }

  /** The bank returns the money of a SUCCEEDED payout (e.g. a closed account): REVERSED with `payout.reversed`. */
  async reverse(payoutId: string): Promise<PayoutRecord> {
    const record = this.find(payoutId);
    if (record.payout.status !== 'SUCCEEDED') {
      throw new XenditError(409, 'INVALID_STATUS', `Payout ${payoutId} is ${record.payout.status}, not SUCCEEDED`);
    }
    setStatus(record.payout, 'REVERSED');
    await this.sendCallback(record, 'payout.reversed');
    return record;
  }

  /** Sends the payout's last callback once more, same `webhook-id`, as Xendit's retries do. */
  async redeliver(payoutId: string): Promise<CallbackAttempt> {
    const record = this.find(payoutId);
    const last = record.callbacks.at(-1);
    if (!last) throw new XenditError(409, 'NO_CALLBACK_SENT', `No callback was sent for payout ${payoutId} yet`);
    const again: PayoutCallback = { ...last, state: 'SENT', delivery: undefined };
    record.callbacks.push(again);
    return this.deliver(again);
  }

  setDelay(delayMs: number): void {
    this.delayMs = delayMs;
  }

  /** The next `count` payout callbacks are never sent (the outcome still happens), as when Xendit gives up. */
  loseCallbacks(count: number): void {
    this.callbacksToLose += count;
  }

  /** From now on callbacks wait (HELD) until `releaseCallbacks`; outcomes still happen and GET shows them. */
  holdCallbacks(): void {
    this.holding = true;
  }

  /** Stops holding and sends every held callback in the order the events happened; answers how many. */
  async releaseCallbacks(): Promise<number> {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const callback of held) {
      callback.state = 'SENT';
      await this.deliver(callback);
    }
    return held.length;
  }

  /** Forgets every payout and setting; pending outcomes never happen. */
  reset(): void {
    this.stop();
    this.payouts.clear();
    this.byIdempotencyKey.clear();
    this.delayMs = this.settings.delayMs;
    this.callbacksToLose = 0;
    this.holding = false;
    this.held = [];
  }

  /** Drops the pending outcomes (on shutdown), so no callback goes out afterwards. */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(payoutId: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(payoutId);
      this.complete(payoutId).catch((error: unknown) =>
        this.settings.logger.error({ err: error, payoutId }, 'sandbox payout completion failed'),
      );
    }, this.delayMs);
    // A pending outcome alone must not keep a process (or a test run) alive.
    timer.unref();
    this.timers.set(payoutId, timer);
  }

  private unschedule(payoutId: string): void {
    clearTimeout(this.timers.get(payoutId));
    this.timers.delete(payoutId);
  }

  private async sendCallback(record: PayoutRecord, event: PayoutEvent): Promise<void> {
    const body: PayoutCallbackBody = {
      event,
      business_id: SANDBOX_BUSINESS_ID,
      created: record.payout.updated,
      data: { ...record.payout, idempotency_key: record.idempotencyKey },
    };
    const callback: PayoutCallback = { event, webhookId: randomUUID(), body, state: 'SENT' };
    record.callbacks.push(callback);
    if (this.callbacksToLose > 0) {
      this.callbacksToLose -= 1;
      callback.state = 'LOST';
      return;
    }
    if (this.holding) {
      callback.state = 'HELD';
      this.held.push(callback);
      return;
    }
    await this.deliver(callback);
  }

  private async deliver(callback: PayoutCallback): Promise<CallbackAttempt> {
    const { delivery, firstAttempt } = await this.settings.callbacks.send(
      `${this.settings.webhookBaseUrl}/api/webhooks/xendit/payout`,
      callback.body,
      { 'webhook-id': callback.webhookId },
    );
    callback.delivery = delivery;
    return firstAttempt;
  }
}

/** The sandbox's rule: an account number ending in 000 is not a valid destination; anything else arrives. */
function outcomeFor(payout: XenditPayout): PayoutOutcome {
  return payout.channel_properties.account_number.endsWith(INVALID_DESTINATION_SUFFIX)
    ? { status: 'FAILED', failure_code: 'INVALID_DESTINATION' }
    : { status: 'SUCCEEDED' };
}

function setStatus(payout: XenditPayout, status: PayoutStatus, failureCode?: PayoutFailureCode): void {
  payout.status = status;
  if (failureCode) payout.failure_code = failureCode;
  payout.updated = new Date().toISOString();
}

import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseInput } from '../../lib/validation';
import { conflict } from '../../lib/errors';
import { isId, newId } from '../../lib/ids';
import type { Logger } from '../../lib/logger';
import { Payout } from './entities/payout.entity';
import { acceptPayout, settlePayout } from './payouts';
import { isPayoutOutcome } from './states';
import type { PayoutGateway } from './xendit';

/** Xendit's payout callback envelope; the fields we act on, the rest stored as received. */
const payoutCallbackSchema = z
  .object({
    event: z.string().max(60).nullish(),
    data: z
      .object({
        id: z.string().min(1).max(100),
        status: z.string().min(1).max(40),
        reference_id: z.string().max(255).nullish(),
        amount: z.number().nullish(),
        currency: z.string().max(10).nullish(),
        failure_code: z.string().max(100).nullish(),
      })
      .passthrough(),
  })
  .passthrough();
type PayoutCallbackData = z.infer<typeof payoutCallbackSchema>['data'];

const webhookIdSchema = z.string().trim().min(1).max(150).optional();

export type WebhookOutcome = 'APPLIED' | 'IGNORED' | 'UNMATCHED' | 'REJECTED' | 'DUPLICATE';

interface Verdict {
  outcome: WebhookOutcome;
  refusal?: string;
}

/**
 * Xendit payout callbacks (DESIGN.md §3 "Webhook", as payment does for invoices). Each event is recorded in
 * `webhook_events` under its dedupe key in the transaction that applies it; only a RECEIVED or APPLIED row
 * holds the key (a partial unique index), so a replay is a DUPLICATE that changes nothing, while a refused
 * (409) or ignored delivery leaves the key to the genuine one that may follow. Order is not guaranteed: the
 * transition table decides (REVERSED after SUCCEEDED applies, SUCCEEDED after FAILED is ignored).
 */
export class PayoutWebhooks {
  constructor(
    private readonly em: EntityManager,
    private readonly logger?: Logger,
  ) {}

  async payout(body: unknown, webhookId?: string): Promise<{ outcome: WebhookOutcome }> {
    const { data } = parseInput(payoutCallbackSchema, body);
    const deliveryId = parseInput(webhookIdSchema, webhookId);
    const dedupeKey = deliveryId ? `webhook:${deliveryId}` : `payout:${data.id}:${data.status}`;
    const { outcome, refusal } = await this.em.transactional(async (tx): Promise<Verdict> => {
      const eventId = await recordEvent(tx, dedupeKey, data, body as Record<string, unknown>);
      if (!eventId) return { outcome: 'DUPLICATE' };
      const payout = await findPayout(tx, data);
      const verdict: Verdict = payout ? await this.apply(tx, payout, data) : { outcome: 'UNMATCHED' };
      await tx.execute('update webhook_events set outcome = ?, payout_id = ? where id = ?', [
        verdict.outcome,
        payout?.id ?? null,
        eventId,
      ]);
      return verdict;
    });
    if (outcome === 'REJECTED') throw conflict(`Callback not applied: ${refusal}`);
    return { outcome };
  }

  /**
   * Xendit gives up on a callback after a day; a payout whose outcome never arrives would hold its money in
   * payout for ever. Payouts ACCEPTED more than `graceMs` ago are looked up at Xendit, and an outcome goes
   * through `payout()` like the callback it stands for: whichever comes second changes nothing.
   */
  async reconcileOverduePayouts(gateway: PayoutGateway, graceMs: number): Promise<number> {
    const overdue = await this.em
      .fork()
      .find(
        Payout,
        { status: 'ACCEPTED', acceptedAt: { $lt: new Date(Date.now() - graceMs) } },
        { orderBy: { acceptedAt: 'asc' }, limit: 50 },
      );
    let settled = 0;
    for (const payout of overdue) {
      // One payout Xendit cannot answer for must not hold up the ones behind it.
      const remote = await gateway.getPayout(payout.xenditPayoutId!).catch((error: unknown) => {
        this.logger?.warn({ err: error, payoutId: payout.id }, 'could not look up an overdue payout at Xendit');
        return null;
      });
      if (!remote || !isPayoutOutcome(remote.status)) continue;
      const data = {
        id: remote.id,
        status: remote.status,
        reference_id: remote.referenceId,
        amount: remote.amount,
        currency: remote.currency,
        failure_code: remote.failureCode,
      };
      const { outcome } = await this.payout({ event: `payout.${remote.status.toLowerCase()}`, data, reconciled: true });
      this.logger?.warn(
        { payoutId: payout.id, status: remote.status, outcome },
        'payout settled from Xendit without its callback',
      );
      if (outcome === 'APPLIED') settled += 1;
    }
    return settled;
  }

  private async apply(tx: EntityManager, payout: Payout, data: PayoutCallbackData): Promise<Verdict> {
    // Xendit hears of a payout only after its reservation: an unreserved one cannot be this event's.
    if (!payout.reservedAt) return { outcome: 'UNMATCHED' };
    const refusal = mismatch(payout, data);
    if (refusal) {
      this.logger?.error({ payoutId: payout.id, xenditPayoutId: data.id, refusal }, 'payout callback refused');
      return { outcome: 'REJECTED', refusal };
    }
    if (isPayoutOutcome(data.status)) {
      const settled = await settlePayout(tx, payout.id, data.status, {
        xenditPayoutId: data.id,
        failureCode: data.failure_code,
      });
      return { outcome: settled ? 'APPLIED' : 'IGNORED' };
    }
    // Xendit's own interim states (ACCEPTED, LOCKED…) only tell that it has the payout.
    if (payout.status === 'REQUESTED' && (await acceptPayout(tx, payout.id, data.id))) return { outcome: 'APPLIED' };
    return { outcome: 'IGNORED' };
  }
}

/** Why a callback cannot be about this payout's money, or null. */
function mismatch(payout: Payout, data: PayoutCallbackData): string | null {
  if (payout.xenditPayoutId && payout.xenditPayoutId !== data.id)
    return `Xendit payout ${data.id} is not this payout's ${payout.xenditPayoutId}`;
  if (data.amount != null && data.amount !== payout.amount)
    return `amount ${data.amount} is not the payout's ${payout.amount}`;
  if (data.currency != null && data.currency !== payout.currency)
    return `currency ${data.currency} is not the payout's ${payout.currency}`;
  return null;
}

/** Our payout id is Xendit's reference id; the recorded Xendit id is the fallback. */
async function findPayout(tx: EntityManager, data: PayoutCallbackData): Promise<Payout | null> {
  if (isId(data.reference_id)) {
    const payout = await tx.findOne(Payout, { id: data.reference_id });
    if (payout) return payout;
  }
  return tx.findOne(Payout, { xenditPayoutId: data.id });
}

/**
 * The event's row id, or null when an applied (or in-progress) delivery holds the key: a replay, or a
 * concurrent twin, whose transaction this insert waits for.
 */
async function recordEvent(
  tx: EntityManager,
  dedupeKey: string,
  data: PayoutCallbackData,
  payload: Record<string, unknown>,
): Promise<string | null> {
  const rows = await tx.execute(
    `insert into webhook_events (id, dedupe_key, external_id, status, outcome, payload, received_at)
     values (?, ?, ?, ?, 'RECEIVED', ?, now())
     on conflict (dedupe_key) where outcome in ('RECEIVED', 'APPLIED') do nothing returning id`,
    [newId(), dedupeKey, data.id, data.status, JSON.stringify(payload)],
  );
  return rows[0]?.id ?? null;
}

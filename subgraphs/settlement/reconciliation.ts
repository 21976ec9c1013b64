import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../lib/config';
import { withTimeout, xenditClient } from '../../lib/xendit';
import { type PayoutReconciliation, windowSchema } from '../../lib/contracts/reconciliation';
import { parseInput } from '../../lib/validation';
import { matchPayouts, type PayoutFact, type XenditPayoutFact } from './reconciliation-rules';

/** What reconciliation reads of Xendit Payouts; an interface so the rules can be driven without the network. */
export interface XenditPayoutLists {
  /** Every payout Xendit has under this reference id, all pages. */
  byReference(referenceId: string): Promise<XenditPayoutFact[]>;
}

/** Payouts looked up at Xendit at once. */
const LOOKUPS_IN_FLIGHT = 8;
/** Xendit's largest page. */
const PAGE = 100;

/** Xendit's payout list (xendit-node getPayouts: by reference id, newest first, `after_id` while `has_more`). */
export function xenditPayoutLists(config: Config): XenditPayoutLists {
  const payouts = xenditClient(config).Payout;
  return {
    async byReference(referenceId) {
      const found: XenditPayoutFact[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await withTimeout(
          payouts.getPayouts({ referenceId, limit: PAGE, afterId }),
          config.HTTP_TIMEOUT_MS,
          'getPayouts',
        );
        const data = page.data ?? [];
        found.push(
          ...data.map((p) => ({ id: p.id, referenceId: p.referenceId, amount: p.amount, status: p.status as string })),
        );
        if (!page.hasMore || data.length === 0) return found;
        afterId = data[data.length - 1].id;
      }
    },
  };
}

/**
 * Settlement's half of the reconciliation: its payouts made or moved in the window (once reserved: before that
 * Xendit has never heard of them), each against what Xendit lists under its id. Reads only; nothing is claimed or changed.
 */
export class PayoutReconciliationService {
  constructor(
    private readonly em: EntityManager,
    private readonly lists: XenditPayoutLists,
  ) {}

  async run(input: unknown): Promise<PayoutReconciliation> {
    const { from, to } = parseInput(windowSchema, input);
    const rows = await this.em
      .getConnection()
      .execute<{ id: string; amount: string | number; status: string; xendit_payout_id: string | null }[]>(
        // Made in the window, or moved in it: an outcome that came after its payout's window is reconciled too.
        `select id, amount, status, xendit_payout_id from payouts
          where reserved_at is not null
            and ((created_at >= ? and created_at < ?) or (updated_at >= ? and updated_at < ?)) order by id`,
        [from, to, from, to],
      );
    const payouts: PayoutFact[] = rows.map((row) => ({
      id: row.id,
      amount: Number(row.amount),
      status: row.status,
      xenditPayoutId: row.xendit_payout_id,
    }));
    const atXendit = new Map<string, XenditPayoutFact[]>();
    for (let i = 0; i < payouts.length; i += LOOKUPS_IN_FLIGHT) {
      const batch = payouts.slice(i, i + LOOKUPS_IN_FLIGHT);
      const found = await Promise.all(batch.map((payout) => this.lists.byReference(payout.id)));
      batch.forEach((payout, j) => atXendit.set(payout.id, found[j]));
    }
    return {
      payouts: payouts.map(({ id, amount, status }) => ({ id, amount, status })),
      mismatches: matchPayouts(payouts, atXendit),
    };
  }
}

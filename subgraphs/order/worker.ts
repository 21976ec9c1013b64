import type { Logger } from '../../lib/logger';
import { startOutboxWorker } from '../../lib/outbox';
import type { SubgraphDeps } from '../../lib/subgraph-server';

/** What order builds once at start (index.ts): its one outbox worker, shared by REST handlers and the timer. */
export interface OrderServices {
  outbox: ReturnType<typeof startOutboxWorker>;
}

export function orderServices(deps: SubgraphDeps): OrderServices {
  return { outbox: startOutboxWorker(deps) };
}

/**
 * REST handlers flush the outbox after their commit so follow-ups (stock commit, order links) go out at once;
 * the worker's timer retries whatever that attempt could not deliver.
 */
export function flushSoon({ outbox }: OrderServices, logger: Logger): void {
  outbox.flush().catch((error) => logger.warn({ err: error }, 'outbox flush failed; the worker will retry'));
}

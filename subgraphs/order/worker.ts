import { startOutboxWorker } from '../../lib/outbox';
import type { SubgraphDeps } from '../../lib/subgraph-server';

const workers = new WeakMap<SubgraphDeps, ReturnType<typeof startOutboxWorker>>();

/**
 * The process's one outbox worker. REST handlers flush it after their commit so follow-ups (stock
 * commit, order links) go out at once; the timer retries whatever that attempt could not deliver.
 */
export function outboxWorker(deps: SubgraphDeps) {
  let worker = workers.get(deps);
  if (!worker) {
    worker = startOutboxWorker(deps);
    workers.set(deps, worker);
  }
  return worker;
}

export function flushSoon(deps: SubgraphDeps): void {
  outboxWorker(deps)
    .flush()
    .catch((error) => deps.logger.warn({ err: error }, 'outbox flush failed; the worker will retry'));
}

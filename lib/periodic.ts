import type { Logger } from './logger';
import type { BackgroundTask } from './subgraph-server';

/**
 * Runs `work` every `intervalMs`, never two runs at once in this process (a tick during a run is skipped);
 * `stop()` waits for the run in progress. Work that must not run twice across replicas guards itself in
 * the database (claims, dedupe keys).
 */
export function startPeriodicTask(
  what: string,
  intervalMs: number,
  work: (stopped: () => boolean) => Promise<unknown>,
  logger: Logger,
): BackgroundTask {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = work(() => stopped)
      .catch((error) => logger.error({ err: error }, `${what} failed`))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * A periodic task that takes work in batches: while a batch comes back non-empty it goes straight on, so a
 * burst (many holds lapsing at once) drains in one tick instead of one batch per interval.
 */
export function startDrainingTask(
  what: string,
  intervalMs: number,
  takeBatch: () => Promise<number>,
  logger: Logger,
): BackgroundTask {
  return startPeriodicTask(
    what,
    intervalMs,
    async (stopped) => {
      while (!stopped() && (await takeBatch()) > 0);
    },
    logger,
  );
}

import { ConfigError } from './config';
import { flushTraces } from './telemetry';

/**
 * Runs a service as an OS process: stops it cleanly on SIGINT/SIGTERM, and also when the launcher that
 * spawned it (npm start, a test) goes away, even mid-start, so no orphaned service keeps its port.
 */
export function runAsProcess(name: string, start: () => Promise<{ stop(): Promise<void> }>): void {
  const running = start();
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    running
      .then((service) => service.stop())
      // Spans still waiting for their batch go out before the process ends.
      .then(() => flushTraces())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (process.send) process.once('disconnect', shutdown);
  running.catch((error) => {
    reportStartFailure(name, error);
    process.exit(1);
  });
}

/** What a launcher prints when a service cannot start: a refused configuration as its lines, not a stack. */
export function reportStartFailure(name: string, error: unknown): void {
  if (error instanceof ConfigError) console.error(`${name} refused to start. ${error.message}`);
  else console.error(`${name} failed to start:`, error);
}

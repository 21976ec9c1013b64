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
    running.then((service) => service.stop()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (process.send) process.once('disconnect', shutdown);
  running.catch((error) => {
    console.error(`${name} failed to start:`, error);
    process.exit(1);
  });
}

import { startSandbox } from './sandbox';

/** `npm run sandbox`: the sandbox on `config.sandboxPort` until SIGINT/SIGTERM. */
if (require.main === module) {
  startSandbox().then(
    (sandbox) => {
      const shutdown = () => {
        sandbox.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error) => {
      console.error('sandbox failed to start:', error);
      process.exit(1);
    },
  );
}

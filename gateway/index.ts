import { startGateway } from './server';

if (require.main === module) {
  startGateway().then(
    (gateway) => {
      const shutdown = () => gateway.stop().then(() => process.exit(0), () => process.exit(1));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error) => {
      console.error('gateway failed to start:', error);
      process.exit(1);
    },
  );
}

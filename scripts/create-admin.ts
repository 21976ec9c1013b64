import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { openSubgraphDatabase } from '../lib/database';
import { initOrm } from '../lib/orm';
import { AUTH_ENTITIES } from '../subgraphs/auth';
import { migrations } from '../subgraphs/auth/migrations';
import { AuthService } from '../subgraphs/auth/service';

/**
 * `npm run create-admin -- +6281234567890`: makes the phone's user an ADMIN in the auth database,
 * creating the user when the number is new. Existing tokens of that user act as ADMIN within seconds
 * (the change goes through the gateway's session feed); the user signs in by OTP as usual.
 */
async function main() {
  const phone = process.argv[2];
  if (!phone) throw new Error('Usage: npm run create-admin -- <phone, e.g. +6281234567890>');
  const config = loadConfig();
  const logger = createLogger('create-admin', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  // AUTH_DATABASE_URL when auth has a database of its own, as the auth service itself finds it.
  const database = await openSubgraphDatabase(config, 'auth', logger);
  try {
    const orm = await initOrm({
      clientUrl: database.url,
      entities: AUTH_ENTITIES,
      migrations,
      logger,
      poolMax: 2,
    });
    try {
      const user = await new AuthService(orm.em.fork(), config).promoteToAdmin(phone);
      console.log(`${user.phone} is ADMIN (user ${user.id})`);
    } finally {
      await orm.close();
    }
  } finally {
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

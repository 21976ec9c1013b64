import { Client } from 'pg';
import { loadConfig } from '../lib/config';
import { SUBGRAPHS } from '../lib/services';
import {
  CONNECTIONS_KEPT_BACK,
  connectionsOfOneOfEach,
  connectionsPerProcess,
  POSTGRES_DEFAULT_MAX_CONNECTIONS,
} from './support/connections';
import { startTestStack, type TestStack } from './support/e2e';

describe('PostgreSQL connection budget', () => {
  it('fits every subgraph of lib/services.ts, one process each, under the default max_connections', () => {
    const perProcess = connectionsOfOneOfEach(
      loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x' }, { databaseOnly: true }),
    );
    const total = Object.values(perProcess).reduce((sum, n) => sum + n, 0);
    expect(Object.keys(perProcess)).toEqual(Object.keys(SUBGRAPHS));
    expect(total).toBeLessThanOrEqual(POSTGRES_DEFAULT_MAX_CONNECTIONS - CONNECTIONS_KEPT_BACK);
  });

  it('grows with DB_POOL_MAX, so a larger pool needs a larger server', () => {
    const config = loadConfig({ NODE_ENV: 'test', DB_POOL_MAX: '20' });
    const total = Object.values(connectionsOfOneOfEach(config)).reduce((sum, n) => sum + n, 0);
    expect(total).toBeGreaterThan(POSTGRES_DEFAULT_MAX_CONNECTIONS);
  });
});

/** The count above is what a process really opens: the busiest subgraph under load, seen from pg_stat_activity. */
describe('connections of a running subgraph', () => {
  let stack: TestStack;
  let admin: Client;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['group-buying'], gateway: false, env: { DB_POOL_MAX: '3' } });
    admin = new Client({ connectionString: stack.env.DATABASE_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await stack?.stop();
  });

  it('never opens more than its pool and its LISTEN connections, however many requests are in flight', async () => {
    const database = `${stack.env.DB_PREFIX}_group_buying`;
    const query = '{ groupBuyingSessions(first: 20) { edges { node { id status } } } }';
    let peak = 0;
    const load = Promise.all(
      Array.from({ length: 60 }, () =>
        fetch(`${stack.serviceUrl('group-buying')}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-internal-token': stack.env.INTERNAL_TOKEN },
          body: JSON.stringify({ query }),
        }).then((response) => response.status),
      ),
    );
    const sample = async () => {
      const { rows } = await admin.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [database],
      );
      peak = Math.max(peak, rows[0].n);
    };
    let done = false;
    void load.finally(() => (done = true));
    while (!done) await sample();
    await sample();
    expect(new Set(await load)).toEqual(new Set([200]));
    const expected = connectionsPerProcess('group-buying', loadConfig({ NODE_ENV: 'test', DB_POOL_MAX: '3' }));
    expect(peak).toBeGreaterThan(2);
    expect(peak).toBeLessThanOrEqual(expected);
  });
});

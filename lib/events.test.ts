import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabases, ensureDatabase, withDatabase } from './database';
import { EventListener } from './events';
import { eventually } from '../test/support/eventually';
import { capturingLogger } from '../test/support/logs';

/** The LISTEN connection against real PostgreSQL, killed from the server side as a failover or restart would. */
describe('event listener', () => {
  const prefix = `events${randomBytes(4).toString('hex')}`;
  const database = `${prefix}_events`;
  const databaseUrl = withDatabase(process.env.TEST_DATABASE_URL!, database);
  const { logger, lines: logLines } = capturingLogger();
  let db: Client;
  /** On the server's own database, to change this one's settings. */
  let admin: Client;
  let listener: EventListener;

  beforeAll(async () => {
    await ensureDatabase(process.env.TEST_DATABASE_URL!, database);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    admin = new Client({ connectionString: process.env.TEST_DATABASE_URL! });
    await admin.connect();
  });
  afterAll(async () => {
    await listener?.stop();
    await db?.end();
    await admin?.end();
    await dropDatabases(process.env.TEST_DATABASE_URL!, prefix);
  });

  const notify = (payload: Record<string, unknown>) =>
    db.query('select pg_notify($1, $2)', ['progress', JSON.stringify(payload)]);
  /** Ends the listener's backend the way an administrator, a failover or a server restart would. */
  const terminateListener = async () =>
    (
      await db.query(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and query ilike 'listen%'`,
        [database],
      )
    ).rows;

  async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms)),
    );
    try {
      return (await Promise.race([iterator.next(), timeout])).value;
    } finally {
      clearTimeout(timer);
    }
  }

  it('reconnects after its backend is terminated, delivers later events, and tells subscribers to re-read', async () => {
    listener = await new EventListener(databaseUrl, ['progress'], logger, 1000).start();
    let resyncs = 0;
    listener.onResync(() => (resyncs += 1));
    let reads = 0;
    const events = listener.subscribe('progress', async () => ({ state: 'as read after reconnect', read: ++reads }));

    const first = events.next();
    await notify({ n: 1 });
    expect((await first).value).toEqual({ n: 1 });

    expect(await terminateListener()).toEqual([{ ended: true }]);
    // The subscriber is handed the state it re-read, since the events meanwhile are lost.
    expect(await nextWithin(events, 10_000)).toEqual({ state: 'as read after reconnect', read: 1 });
    expect(resyncs).toBe(1);
    const next = events.next();
    await notify({ n: 2 });
    expect(await nextWithin({ next: () => next }, 5000)).toEqual({ n: 2 });

    expect(logLines.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
      'event listener connection lost; reconnecting',
      'event listener reconnected; subscribers re-read their state',
    ]);

    // Again, and with a closed subscription: only the open one re-reads.
    await events.return!();
    const again = listener.subscribe('progress', async () => ({ state: 'second', read: ++reads }));
    const pending = again.next();
    expect(await terminateListener()).toEqual([{ ended: true }]);
    expect(await nextWithin({ next: () => pending }, 10_000)).toEqual({ state: 'second', read: 2 });
    await eventually('two resyncs', async () => resyncs === 2);
    await again.return!();
  });

  it('keeps trying with backoff while the database refuses connections, then resumes', async () => {
    await admin.query(`alter database "${database}" with allow_connections false`);
    const resynced = new Promise<void>((resolve) => listener.onResync(resolve));
    await terminateListener();
    await eventually(
      'reconnect attempts refused',
      async () =>
        logLines.filter((line) => line.msg === 'event listener could not reconnect; trying again').length >= 2,
    );
    await admin.query(`alter database "${database}" with allow_connections true`);
    await resynced;
    const events = listener.subscribe('progress');
    const next = events.next();
    await notify({ n: 3 });
    expect(await nextWithin({ next: () => next }, 5000)).toEqual({ n: 3 });
    await events.return!();
  });
});

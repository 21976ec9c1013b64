import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Client } from 'pg';
import { dropDatabases, ensureDatabase, withDatabase } from './database';
import { loadConfig } from './config';
import { initOrm, type Orm } from './orm';
import { InternalClient } from './internal-client';
import { enqueue, mountDeadLetters, OutboxMessage, startOutboxWorker } from './outbox';
import { restErrorHandler } from './rest';
import { newId } from './ids';
import type { SubgraphName } from './services';
import type { SubgraphDeps } from './subgraph-server';
import { migrations as orderMigrations } from '../subgraphs/order/migrations';
import { eventually } from '../test/support/eventually';
import { capturingLogger } from '../test/support/logs';

/** What a destination does with one call: answer a status now, or later (a held call). */
type Answer = number | Promise<number>;

/** A destination service on a real local HTTP server; `answer` decides per call, by the message's body. */
async function destination(answer: (body: Record<string, any>) => Answer = () => 200) {
  const calls: { path: string; body: Record<string, any>; at: number }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', async () => {
      const body = JSON.parse(raw || '{}');
      calls.push({ path: req.url!, body, at: Date.now() });
      const status = await answer(body);
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { error: { code: 'X', message: `answered ${status}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    callsFor: (key: string) => calls.filter((call) => call.body.key === key),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The outbox worker against real PostgreSQL (the order subgraph's migrations) and real HTTP destinations. */
describe('outbox', () => {
  const prefix = `outbox${randomBytes(4).toString('hex')}`;
  const databaseUrl = withDatabase(process.env.TEST_DATABASE_URL!, `${prefix}_order`);
  const { logger, lines: logLines } = capturingLogger();
  let orm: Orm;
  let db: Client;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await ensureDatabase(process.env.TEST_DATABASE_URL!, `${prefix}_order`);
    orm = await initOrm({ clientUrl: databaseUrl, entities: [OutboxMessage], migrations: orderMigrations, logger });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterEach(async () => {
    while (stops.length) await stops.pop()!();
    await db.query('delete from outbox');
  });
  afterAll(async () => {
    await db?.end();
    await orm?.close();
    await dropDatabases(process.env.TEST_DATABASE_URL!, prefix);
  });

  /** A worker whose destinations live at the given URLs; stopped after the test. */
  function worker(urls: Partial<Record<SubgraphName, string>>, env: Record<string, string> = {}) {
    const config = loadConfig({
      NODE_ENV: 'test',
      OUTBOX_RETRY_MS: '200',
      OUTBOX_TIMEOUT_MS: '5000',
      ...Object.fromEntries(
        Object.entries(urls).map(([name, url]) => [`${name.toUpperCase().replace(/-/g, '_')}_SERVICE_URL`, url]),
      ),
      ...env,
    });
    const deps: SubgraphDeps = { name: 'order', config, orm, databaseUrl, logger, client: new InternalClient(config) };
    const started = startOutboxWorker(deps);
    stops.push(async () => started.stop());
    return { deps, worker: started };
  }

  const send = (service: SubgraphName, key: string) =>
    orm.em
      .fork()
      .transactional((tx) =>
        enqueue(tx, { dedupeKey: `${service}:${key}`, service, path: '/api/test', body: { key } }),
      );

  const rowOf = async (key: string) =>
    (
      await db.query(
        'select attempts, delivered_at, dead_at, last_status, last_error from outbox where body->>$1 = $2',
        ['key', key],
      )
    ).rows[0];

  it('delivers to each destination in its own lane: a held destination does not delay another', async () => {
    let release!: () => void;
    const held = new Promise<number>((resolve) => (release = () => resolve(200)));
    const slow = await destination(() => held);
    const fast = await destination();
    stops.push(slow.close, fast.close);
    worker({ notification: slow.url, wallet: fast.url }, { OUTBOX_TIMEOUT_MS: '20000' });

    // The held destination's messages are older, so one worker for all destinations would send them first.
    for (const key of ['slow-1', 'slow-2', 'slow-3']) await send('notification', key);
    await eventually('the held destination received its first message', async () => slow.calls.length === 1);
    const sentAt = Date.now();
    for (const key of ['fast-1', 'fast-2', 'fast-3']) await send('wallet', key);
    await eventually('the other destination received all its messages', async () => fast.calls.length === 3, 2000);
    expect(Date.now() - sentAt).toBeLessThan(2000);
    expect(fast.calls.map((call) => call.body.key)).toEqual(['fast-1', 'fast-2', 'fast-3']);
    for (const key of ['fast-1', 'fast-2', 'fast-3']) expect((await rowOf(key)).delivered_at).not.toBeNull();
    // Still holding the first call: the held lane has sent nothing else meanwhile.
    expect(slow.calls.map((call) => call.body.key)).toEqual(['slow-1']);
    expect((await rowOf('slow-1')).delivered_at).toBeNull();

    release();
    await eventually('the held destination got the rest, in order', async () => slow.calls.length === 3);
    expect(slow.calls.map((call) => call.body.key)).toEqual(['slow-1', 'slow-2', 'slow-3']);
    await eventually(
      'all recorded as delivered',
      async () => (await db.query('select count(*)::int as n from outbox where delivered_at is null')).rows[0].n === 0,
    );
  });

  it('retries no answer, 5xx, 404, 401, 429 with backoff; 400, 409 and 422 are dead letters logged at error', async () => {
    const answered = new Map<string, number>();
    const target = await destination((body) => {
      const [status, times] = String(body.key).split('x').map(Number);
      const seen = (answered.get(body.key) ?? 0) + 1;
      answered.set(body.key, seen);
      return seen <= (times || 1) ? status : 200;
    });
    const nowhere = await destination();
    await nowhere.close();
    stops.push(target.close);
    worker({ notification: target.url, logistics: nowhere.url });

    const retryable = ['500x2', '503', '404', '401', '429', '408'];
    const terminal = ['400', '409', '422'];
    for (const key of [...retryable, ...terminal]) await send('notification', key);
    await send('logistics', 'down');

    for (const key of retryable) {
      const row = await eventually(`${key} delivered after its retries`, async () => {
        const current = await rowOf(key);
        return current.delivered_at && current;
      });
      expect(row).toMatchObject({ attempts: key === '500x2' ? 3 : 2, dead_at: null, last_status: null });
    }
    for (const key of terminal) {
      const row = await eventually(`${key} dead`, async () => {
        const current = await rowOf(key);
        return current.dead_at && current;
      });
      expect(row).toMatchObject({
        attempts: 1,
        delivered_at: null,
        last_status: Number(key),
        last_error: `answered ${key}`,
      });
      expect(target.callsFor(key)).toHaveLength(1);
      const logged = logLines.find((line) => line.level === 50 && line.dedupeKey === `notification:${key}`);
      expect(logged).toMatchObject({
        service: 'notification',
        path: '/api/test',
        status: Number(key),
        answer: `answered ${key}`,
      });
      expect(logged?.messageId).toEqual(expect.any(String));
    }
    // A destination that does not answer at all is retried, never given up on.
    const down = await eventually('the unreachable destination tried twice', async () => {
      const current = await rowOf('down');
      return current.attempts >= 2 && current;
    });
    expect(down).toMatchObject({ delivered_at: null, dead_at: null, last_status: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const key of terminal) expect(target.callsFor(key)).toHaveLength(1);
  });

  it('pauses the lane of a destination that does not answer instead of trying every message behind the first', async () => {
    const nowhere = await destination();
    await nowhere.close();
    worker({ logistics: nowhere.url });
    for (let i = 0; i < 20; i += 1) await send('logistics', `paused-${i}`);
    const attempts = async () =>
      (
        await db.query(`select attempts from outbox where body->>'key' like 'paused-%' order by created_at, id`)
      ).rows.map((row) => row.attempts);
    await eventually('the first message tried three times', async () => (await attempts())[0] >= 3);
    const all = await attempts();
    expect(all.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(all[0] + 2);
  });

  it('lists dead letters and retries one once its cause is fixed; 404 unknown, 409 not dead', async () => {
    let refusing = true;
    const target = await destination(() => (refusing ? 422 : 200));
    stops.push(target.close);
    const { deps } = worker({ wallet: target.url });
    const app = express();
    mountDeadLetters(app, deps);
    app.use(restErrorHandler(logger));
    const server = app.listen(0, '127.0.0.1');
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/outbox/dead`;
    const call = async (method: string, path = '') => {
      const response = await fetch(`${base}${path}`, { method });
      return { status: response.status, body: (await response.json()) as any };
    };

    await send('wallet', 'credit-1');
    const dead = await eventually('a dead letter listed', async () => (await call('GET')).body.deadLetters[0]);
    expect(dead).toMatchObject({
      dedupeKey: 'wallet:credit-1',
      service: 'wallet',
      path: '/api/test',
      body: { key: 'credit-1' },
      attempts: 1,
      lastStatus: 422,
    });

    refusing = false;
    expect(await call('POST', `/${dead.id}/retry`)).toEqual({ status: 200, body: { id: dead.id, status: 'PENDING' } });
    await eventually('the retried letter delivered', async () => (await rowOf('credit-1')).delivered_at);
    expect(target.callsFor('credit-1')).toHaveLength(2);
    expect((await call('GET')).body.deadLetters).toEqual([]);

    const notDead = await call('POST', `/${dead.id}/retry`);
    expect(notDead).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await call('POST', `/${newId()}/retry`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect(await call('POST', '/not-an-id/retry')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
  });

  it('two workers on one database deliver each message once', async () => {
    const target = await destination();
    stops.push(target.close);
    worker({ notification: target.url });
    worker({ notification: target.url });
    const keys = Array.from({ length: 40 }, (_, i) => `once-${i}`);
    await Promise.all(keys.map((key) => send('notification', key)));
    await eventually(
      'all delivered',
      async () =>
        (
          await db.query(
            `select count(*)::int as n from outbox where delivered_at is not null and body->>'key' like 'once-%'`,
          )
        ).rows[0].n === 40,
    );
    expect(target.calls.map((call) => call.body.key).sort()).toEqual([...keys].sort());
  });
});

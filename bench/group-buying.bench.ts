import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { withDatabase } from '../lib/database';
import { startBenchStack } from './bench-stack';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../lib/demo-data';
import { newId } from '../lib/ids';

/**
 * `npm run bench:group-buying`, loopback only and bounded:
 * (a) BENCH_JOINS (default 500) buyers join one session at once through the gateway (each join: address
 *     check, guarded counter update + participant insert, escrow invoice at payment); the session takes
 *     BENCH_MAX_QUANTITY (default 80 % of them), so the rest are refused. Printed next to the rate of a
 *     bare single-row INSERT on the same database with the same pool size (the ceiling), as a ratio.
 * (b) When the gateway serves subscriptions: BENCH_SUBSCRIBERS (default 1,000) graphql-ws clients on
 *     one session; the time from a payment callback to the last subscriber receiving the event, p50/p99.
 */
const JOINS = Math.min(Number(process.env.BENCH_JOINS ?? 500), 2000);
const MAX_QUANTITY = Math.min(Number(process.env.BENCH_MAX_QUANTITY ?? Math.floor(JOINS * 0.8)), JOINS);
const SUBSCRIBERS = Math.min(Number(process.env.BENCH_SUBSCRIBERS ?? 1000), 5000);
const PAYMENTS_MEASURED = 20;
const POOL_SIZE = 20; // the subgraph's own pool (lib/orm.ts)
const DEADLINE_MS = 120_000;
const INTERNAL_TOKEN = `bench-internal-${randomBytes(6).toString('hex')}`;
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const PRODUCT = DEMO_PRODUCTS[0];

function withDeadline<T>(work: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} exceeded ${ms} ms`)), ms)),
  );
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  const bench = await startBenchStack({
    subgraphs: ['product', 'factory', 'address', 'payment', 'notification', 'order', 'group-buying'],
    gateway: true,
    sandbox: true,
    // Every subscriber connects from loopback: lift the per-address socket cap above them (and the probe).
    env: { INTERNAL_TOKEN, SEED_DEMO_DATA: 'true', WS_MAX_CONNECTIONS_PER_ADDRESS: String(SUBSCRIBERS + 1) },
  });
  const { stack } = bench;
  const gatewayUrl = stack.urlOf('gateway');
  const graphql = async (query: string, variables: Record<string, unknown>, caller: Caller) => {
    const response = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [INTERNAL_TOKEN_HEADER]: INTERNAL_TOKEN,
        ...identityHeaders(caller),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  const ok = async (result: Promise<{ data?: any; errors?: unknown[] }>) => {
    const { data, errors } = await result;
    if (errors?.length) throw new Error(JSON.stringify(errors));
    return data;
  };
  const openSession = async (maxQuantity: number | null, endsInMs = 600_000) =>
    (
      await ok(
        graphql(
          `
            mutation ($input: CreateGroupBuyingSessionInput!) {
              createGroupBuyingSession(input: $input) {
                id
              }
            }
          `,
          {
            input: {
              productId: PRODUCT.id,
              variantId: PRODUCT.variants[0].id,
              moq: 10,
              groupPrice: 40000,
              endsAt: new Date(Date.now() + endsInMs).toISOString(),
              maxQuantity,
            },
          },
          OWNER,
        ),
      )
    ).createGroupBuyingSession.id as string;
  const newBuyer = async () => {
    const caller: Caller = { userId: newId(), role: 'BUYER' };
    const data = await ok(
      graphql(
        `
          mutation ($input: CreateAddressInput!) {
            createAddress(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            recipientName: 'Bench',
            phone: '081234567890',
            line1: 'Jl. Bench 1',
            city: 'Bandung',
            province: 'Jawa Barat',
            postalCode: '40111',
          },
        },
        caller,
      ),
    );
    return { caller, addressId: data.createAddress.id as string };
  };
  const join = (buyer: { caller: Caller; addressId: string }, sessionId: string) =>
    graphql(
      `
        mutation ($input: JoinGroupBuyingSessionInput!) {
          joinGroupBuyingSession(input: $input) {
            participant {
              id
            }
            paymentUrl
          }
        }
      `,
      { input: { sessionId, quantity: 1, addressId: buyer.addressId } },
      buyer.caller,
    );

  const pool = new Pool({
    connectionString: withDatabase(bench.serverUrl, `${bench.prefix}_group_buying`),
    max: POOL_SIZE,
  });
  const sockets: Client[] = [];
  try {
    const buyers = [];
    for (let i = 0; i < JOINS; i += 50)
      buyers.push(...(await Promise.all(Array.from({ length: Math.min(50, JOINS - i) }, newBuyer))));

    // (a) concurrent joins through the gateway
    await join(buyers[0], await openSession(null)); // warm every connection on the path
    const sessionId = await openSession(MAX_QUANTITY);
    const started = performance.now();
    const results = await withDeadline(Promise.all(buyers.map((buyer) => join(buyer, sessionId))), 'the joins');
    const joinSeconds = (performance.now() - started) / 1000;
    const joined = results.filter((r) => !r.errors).length;
    const refusals = new Map<string, number>();
    for (const r of results)
      if (r.errors)
        refusals.set(r.errors[0].extensions?.code ?? '?', (refusals.get(r.errors[0].extensions?.code ?? '?') ?? 0) + 1);
    const { rows } = await pool.query('select joined_quantity from group_buying_sessions where id = $1', [sessionId]);
    if (Number(rows[0].joined_quantity) > MAX_QUANTITY) throw new Error('maxQuantity exceeded');

    await pool.query(
      'create table bench_inserts (id uuid primary key, session_id uuid not null, quantity int not null)',
    );
    const insertStarted = performance.now();
    await Promise.all(
      buyers.map(() => pool.query('insert into bench_inserts values ($1, $2, 1)', [newId(), sessionId])),
    );
    const insertRate = JOINS / ((performance.now() - insertStarted) / 1000);
    await pool.query('drop table bench_inserts');

    const joinRate = results.length / joinSeconds;
    console.log(`(a) ${JOINS} concurrent joins on one session (maxQuantity ${MAX_QUANTITY}) through the gateway`);
    console.log(
      `    ${joined} joined, ${results.length - joined} refused (${[...refusals].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}), joinedQuantity ${rows[0].joined_quantity}`,
    );
    console.log(
      `    ${joinRate.toFixed(0)} joins/s (${(joined / joinSeconds).toFixed(0)} successful/s) vs bare INSERT ${insertRate.toFixed(0)}/s → ratio ${(joinRate / insertRate).toFixed(3)}`,
    );

    // (b) subscribers through the gateway, when it serves subscriptions
    const wsUrl = `${gatewayUrl.replace('http', 'ws')}/graphql`;
    const probe = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const served = await withDeadline(
      new Promise<boolean>((resolve) => {
        probe.on('connected', () => resolve(true));
        probe.on('closed', () => resolve(false));
        probe.on('error', () => resolve(false));
      }),
      'probing the gateway',
      10_000,
    ).catch(() => false);
    await probe.dispose();
    if (!served) {
      console.log('(b) skipped: the gateway does not serve graphql-ws subscriptions yet');
      return;
    }

    const progressSession = await openSession(null);
    const payers = buyers.slice(0, PAYMENTS_MEASURED);
    const paymentUrls: string[] = [];
    for (const payer of payers)
      paymentUrls.push((await ok(join(payer, progressSession))).joinGroupBuyingSession.paymentUrl);

    let onPaid: (paid: number) => void = () => undefined;
    let subscribed = 0;
    for (let i = 0; i < SUBSCRIBERS; i += 1) {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      sockets.push(client);
      client.subscribe(
        {
          query: `subscription ($id: ID!) { groupBuyingSessionProgress(sessionId: $id) { id paidQuantity } }`,
          variables: { id: progressSession },
        },
        {
          next: (message) => {
            const paid = (message.data as any)?.groupBuyingSessionProgress?.paidQuantity;
            if (typeof paid === 'number') onPaid(paid);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      subscribed += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // graphql-ws does not acknowledge subscribes

    const latencies: number[] = [];
    for (const [i, url] of paymentUrls.entries()) {
      const expected = i + 1;
      let received = 0;
      const done = new Promise<void>((resolve) => {
        onPaid = (paid) => {
          if (paid === expected && ++received === subscribed) resolve();
        };
      });
      const sent = performance.now();
      await fetch(`${stack.urlOf('sandbox')}/__sandbox/xendit/invoices/${url.split('/').pop()}/pay`, {
        method: 'POST',
      });
      await withDeadline(done, `event ${expected} reaching every subscriber`, 30_000);
      latencies.push(performance.now() - sent);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `(b) ${subscribed} graphql-ws subscribers on one session through the gateway, ${latencies.length} payments`,
    );
    console.log(
      `    payment callback → last subscriber: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
    );
  } finally {
    await Promise.all(sockets.map((client) => client.dispose()));
    await pool.end();
    await bench.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

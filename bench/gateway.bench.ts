/**
 * `npm run bench:gateway`: requests/s and p50/p99 of the federated `myOrders` query (order → product →
 * factory, address, payment) through our gateway, Hive Gateway and a plain @apollo/gateway, all from the
 * same composed supergraph.graphql and the same subgraph processes, each gateway in its own process.
 * Env: BENCH_SECONDS (per gateway and load shape, default 15), BENCH_CONCURRENCY (default 16), DATABASE_URL (else an
 * embedded PostgreSQL in a temp folder).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import type { SubgraphName } from '../lib/services';
import { identityHeaders, INTERNAL_TOKEN_HEADER, USER_ID_HEADER, USER_ROLE_HEADER } from '../lib/internal-auth';
import { newId } from '../lib/ids';
import { DEMO_PRODUCTS } from '../lib/demo-data';
import { SUPERGRAPH_SDL } from '../gateway/compose';
import { freePort } from '../test/support/ports';
import { scrapeMetrics, sumOf } from '../test/support/metrics';
import { BENCH_NODE_ENV, startBenchStack } from './bench-stack';

const INTERNAL_TOKEN = 'bench-internal-token-0123456789';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ORDERS = 20;
const ROUNDS = 3;
const SUBGRAPHS_USED: SubgraphName[] = ['product', 'factory', 'address', 'warehouse', 'order', 'payment'];

const QUERY = `query($first: Int) { myOrders(first: $first) { totalCount edges { node {
  id status total createdAt
  items { quantity unitPrice productName product { id name factory { id name } } variant { id sku } }
  shippingAddress { id city }
  payment { id status }
} } } }`;

/** The supergraph with each subgraph's routing URL moved by the stack's port offset. */
function supergraphAt(offset: number): string {
  return fs
    .readFileSync(SUPERGRAPH_SDL, 'utf8')
    .replace(
      /url: "http:\/\/localhost:(\d+)\/graphql"/g,
      (_m, port: string) => `url: "http://localhost:${Number(port) + offset}/graphql"`,
    );
}

// ---- gateway processes (the same file, run with --serve) ----

async function serveHive(port: number, supergraph: string) {
  const { createGatewayRuntime } = await import('@graphql-hive/gateway-runtime');
  const runtime = createGatewayRuntime({
    supergraph,
    logging: false,
    propagateHeaders: {
      // Like our gateway: the internal token plus the caller's identity on every subgraph fetch.
      fromClientToSubgraphs: ({ request }) => ({
        [INTERNAL_TOKEN_HEADER]: INTERNAL_TOKEN,
        [USER_ID_HEADER]: request.headers.get(USER_ID_HEADER),
        [USER_ROLE_HEADER]: request.headers.get(USER_ROLE_HEADER),
      }),
    },
  });
  http.createServer(runtime).listen(port, '127.0.0.1');
}

async function serveApollo(port: number, supergraph: string) {
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');
  type Context = { headers: http.IncomingHttpHeaders };
  // Defaults throughout; only the headers our subgraphs require are added.
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<Context>({
        url,
        willSendRequest({ request, context }) {
          request.http!.headers.set(INTERNAL_TOKEN_HEADER, INTERNAL_TOKEN);
          for (const name of [USER_ID_HEADER, USER_ROLE_HEADER]) {
            const value = context.headers?.[name];
            if (typeof value === 'string') request.http!.headers.set(name, value);
          }
        },
      }),
  });
  const server = new ApolloServer<Context>({ gateway });
  await startStandaloneServer(server, {
    listen: { port, host: '127.0.0.1' },
    context: async ({ req }) => ({ headers: req.headers }),
  });
}

// ---- load ----

interface Result {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

interface Sample {
  latencies: number[];
  errors: number;
  seconds: number;
}

function summarise(samples: Sample[]): Result {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    rps: latencies.length / seconds,
    p50: pct(50),
    p99: pct(99),
  };
}

async function answer(
  url: string,
  headers: Record<string, string>,
): Promise<{ ok: boolean; json: { errors?: unknown; data?: { myOrders?: { edges: unknown[] } } } }> {
  const body = JSON.stringify({ query: QUERY, variables: { first: ORDERS } });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { ok: response.ok, json: (await response.json()) as never };
}

/** One myOrders request; false when it failed or answered anything but the full page. */
async function query(url: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const { ok, json } = await answer(url, headers);
    return ok && !json.errors && json.data?.myOrders?.edges.length === ORDERS;
  } catch {
    return false;
  }
}

/** Fixed concurrency for a fixed time: each client sends its next request when the last one answered. */
async function load(url: string, headersFor: Scenario['headersFor'], seconds: number): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async (_: unknown, index: number) => {
    const headers = headersFor(index);
    while (performance.now() < deadline) {
      const start = performance.now();
      if (!(await query(url, headers))) errors += 1;
      latencies.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}

async function waitForGraphql(url: string, child?: ChildProcess) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`gateway process exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not come up`);
}

function spawnGateway(kind: 'hive' | 'apollo', port: number, sdlFile: string, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  // Profiled like the stack's services when STACK_NODE_FLAGS asks for it (scripts/stack.ts).
  const nodeFlags = (process.env.STACK_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // The same mode as the stack's services (bench-stack.ts), so graphql-js does the same checks in every gateway.
  return spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', __filename, '--serve', kind, String(port), sdlFile],
    {
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_ENV: BENCH_NODE_ENV },
    },
  );
}

/** CPU milliseconds (user + system) a process has used so far, from /proc; 0 where there is no /proc. */
function cpuMillis(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

/**
 * Loads every gateway in alternating rounds, each round starting with the next gateway (so none profits
 * from a fixed place in the order), and
 * prints throughput, latency and the CPU each query costs in the gateway process and in all subgraph
 * processes together: on a shared machine a gateway's throughput is bounded by both.
 */
async function measure(scenario: Scenario, targets: Target[], subgraphPids: (number | undefined)[]) {
  const subgraphCpu = () => subgraphPids.reduce<number>((sum, pid) => sum + cpuMillis(pid), 0);
  const runs = targets.map(() => ({ samples: [] as Sample[], gatewayCpu: 0, subgraphsCpu: 0 }));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let turn = 0; turn < targets.length; turn += 1) {
      const index = (round + turn) % targets.length;
      const [target, run] = [targets[index], runs[index]];
      const gatewayBefore = cpuMillis(target.pid);
      const subgraphsBefore = subgraphCpu();
      run.samples.push(await load(target.url, scenario.headersFor, SECONDS / ROUNDS));
      run.gatewayCpu += cpuMillis(target.pid) - gatewayBefore;
      run.subgraphsCpu += subgraphCpu() - subgraphsBefore;
    }
  }
  const results = runs.map((run) => ({
    ...summarise(run.samples),
    gatewayCpu: run.gatewayCpu,
    subgraphsCpu: run.subgraphsCpu,
  }));
  const base = results[0];
  console.log(`\n${scenario.title}`);
  console.log(
    'gateway                         req/s    p50 ms   p99 ms  errors  req/s vs ours  p99 vs ours  gateway cpu ms/q  subgraphs cpu ms/q',
  );
  for (const [index, result] of results.entries()) {
    console.log(
      `${targets[index].name.padEnd(30)} ${result.rps.toFixed(1).padStart(7)} ${result.p50.toFixed(1).padStart(9)} ${result.p99.toFixed(1).padStart(8)} ${String(result.errors).padStart(7)} ${(result.rps / base.rps).toFixed(2).padStart(14)}x ${(result.p99 / base.p99).toFixed(2).padStart(11)}x ${(result.gatewayCpu / result.requests).toFixed(2).padStart(17)} ${(result.subgraphsCpu / result.requests).toFixed(2).padStart(19)}`,
    );
  }
}

async function graphqlAs(
  gatewayUrl: string,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown>,
) {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await response.json()) as { data?: any; errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

interface Target {
  name: string;
  url: string;
  pid?: number;
}

interface Scenario {
  title: string;
  /** The identity headers client number `worker` sends. */
  headersFor(worker: number): Record<string, string>;
}

async function main() {
  const bench = await startBenchStack({
    subgraphs: SUBGRAPHS_USED,
    gateway: true,
    sandbox: true,
    // Each buyer keeps ORDERS unpaid orders to page through.
    env: { INTERNAL_TOKEN, SEED_DEMO_DATA: 'true', MAX_UNPAID_ORDERS: String(ORDERS) },
  });
  const { stack, workDir, portOffset: offset } = bench;
  const children: ChildProcess[] = [];
  try {
    const gatewayUrl = stack.urlOf('gateway');
    // One buyer per client, each with ORDERS orders of its own.
    const buyers = await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, buyer) => {
        const headers = {
          [INTERNAL_TOKEN_HEADER]: INTERNAL_TOKEN,
          ...identityHeaders({ userId: newId(), role: 'BUYER' }),
        };
        const address = await graphqlAs(
          gatewayUrl,
          headers,
          `mutation($i: CreateAddressInput!) { createAddress(input: $i) { id } }`,
          {
            i: {
              recipientName: 'Bench',
              phone: '081234567890',
              line1: `Jl. Bench ${buyer}`,
              city: 'Bandung',
              province: 'Jawa Barat',
              postalCode: '40111',
            },
          },
        );
        const variants: string[] = DEMO_PRODUCTS.flatMap((product) => product.variants.map((variant) => variant.id));
        for (let i = 0; i < ORDERS; i += 1) {
          await graphqlAs(
            gatewayUrl,
            headers,
            `mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }`,
            {
              i: {
                addressId: address.createAddress.id,
                items: [{ variantId: variants[(buyer + i) % variants.length], quantity: 1 }],
              },
            },
          );
        }
        return headers;
      }),
    );

    const sdlFile = path.join(workDir, 'supergraph.graphql');
    fs.writeFileSync(sdlFile, supergraphAt(offset));
    const targets: Target[] = [
      { name: 'ours (@apollo/gateway, tuned)', url: `${gatewayUrl}/graphql`, pid: stack.pidOf('gateway') },
    ];
    const notes: string[] = [];
    for (const kind of ['hive', 'apollo'] as const) {
      const port = await freePort();
      const child = spawnGateway(kind, port, sdlFile, path.join(workDir, `${kind}.log`));
      children.push(child);
      const url = `http://127.0.0.1:${port}/graphql`;
      try {
        await waitForGraphql(url, child);
        targets.push({ name: kind === 'hive' ? 'Hive Gateway' : 'plain @apollo/gateway', url, pid: child.pid });
      } catch (error) {
        const log = fs
          .readFileSync(path.join(workDir, `${kind}.log`), 'utf8')
          .trim()
          .split('\n')
          .slice(-5)
          .join(' | ');
        notes.push(`${kind} gateway could not run here: ${(error as Error).message}: ${log}`);
      }
    }

    // Every gateway must give the same answer, or the comparison means nothing.
    for (const headers of [buyers[0], buyers[buyers.length - 1]]) {
      const reference = JSON.stringify((await answer(targets[0].url, headers)).json);
      for (const target of targets.slice(1)) {
        if (JSON.stringify((await answer(target.url, headers)).json) !== reference)
          throw new Error(`${target.name} answers differently from ours`);
      }
    }
    // Subgraph fetches and SQL statements one query costs behind each gateway (explains the ratios).
    const totals = async () => {
      const all = await Promise.all(
        SUBGRAPHS_USED.map(async (name) => {
          const samples = await scrapeMetrics(stack.urlOf(name), INTERNAL_TOKEN);
          return {
            sqlStatements: sumOf(samples, 'sql_statements_total'),
            graphqlRequests: sumOf(samples, 'graphql_operation_duration_seconds_count'),
          };
        }),
      );
      return {
        fetches: all.reduce((n, m) => n + m.graphqlRequests, 0),
        sql: all.reduce((n, m) => n + m.sqlStatements, 0),
      };
    };
    // Warm every gateway (query plans, connections, JIT in gateways and subgraphs) before measuring any.
    const perQuery: { fetches: number; sql: number }[] = [];
    for (const target of targets) {
      await load(target.url, (worker) => buyers[worker], Math.min(2, SECONDS));
      const before = await totals();
      for (let i = 0; i < 5; i += 1) await query(target.url, buyers[0]);
      const after = await totals();
      perQuery.push({ fetches: (after.fetches - before.fetches) / 5, sql: (after.sql - before.sql) / 5 });
    }
    console.log(
      `\nmyOrders(first: ${ORDERS}) with product/factory/address/payment; ${CONCURRENCY} concurrent clients, ${SECONDS}s per gateway in ${ROUNDS} alternating rounds, loopback, ${os.cpus().length} cores`,
    );
    console.log(
      `one query, sequentially: ${targets.map((target, index) => `${target.name}: ${perQuery[index].fetches.toFixed(1)} subgraph fetches, ${perQuery[index].sql.toFixed(1)} SQL statements`).join('; ')}`,
    );
    const scenarios: Scenario[] = [
      { title: `${CONCURRENCY} buyers, each asking for its own orders`, headersFor: (worker) => buyers[worker] },
      {
        title: `one buyer asking ${CONCURRENCY} times at once (identical requests in flight)`,
        headersFor: () => buyers[0],
      },
    ];
    for (const scenario of scenarios) await measure(scenario, targets, stack.pidsOf(SUBGRAPHS_USED));
    for (const note of notes) console.log(`note: ${note}`);
  } finally {
    // Hive's runtime drains instead of exiting on SIGTERM; give each gateway two seconds, then kill it.
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await bench.stop();
  }
}

if (process.argv[2] === '--serve') {
  const [, , , kind, port, sdlFile] = process.argv;
  const supergraph = fs.readFileSync(sdlFile, 'utf8');
  (kind === 'hive' ? serveHive : serveApollo)(Number(port), supergraph).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Stack } from '../../scripts/stack';
import { type SubgraphName, SUBGRAPHS, GATEWAY_PORT, SANDBOX_PORT } from '../../lib/services';
import { dropDatabases } from '../../lib/database';
import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../../lib/internal-auth';
import type { Client } from 'pg';
import WebSocket from 'ws';
import { createClient, type Client as SocketClient } from 'graphql-ws';
import { freePortOffset } from './ports';

export const TEST_INTERNAL_TOKEN = 'test-internal-token-0123456789';
export const TEST_CALLBACK_TOKEN = 'test-callback-token-0123456789';
/** XENDIT_SECRET_KEY's default in lib/config.ts: the key the sandbox expects unless a test's env sets another. */
const DEFAULT_XENDIT_KEY = 'xnd_development_sandbox_key';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown>; path?: unknown[] }[];
}

export interface RequestAs {
  /** A Bearer token from verifyOtp. */
  token?: string;
  /** A trusted identity, sent with the internal token (operators and test drivers only). */
  caller?: Caller;
}

export interface TestStack {
  stack: Stack;
  gatewayUrl: string;
  sandboxUrl: string;
  env: Record<string, string>;
  /** Where each process writes its log (`<name>.log`). */
  logDir: string;
  serviceUrl(name: SubgraphName): string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>, as?: RequestAs): Promise<GraphQLResponse<T>>;
  /** Internal REST call to a subgraph with the internal token. */
  internal(name: SubgraphName, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Pays an invoice (`…/checkout/<invoiceId>`) in the Xendit sandbox as the buyer would; answers the sandbox's report. */
  payInvoice(invoiceUrl: string): Promise<any>;
  /** A call to the Xendit sandbox (its API or its `/__sandbox` controls) with the stack's Xendit key. */
  sandbox(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/**
 * Starts the named services in their own processes against fresh databases (unique prefix) and on
 * free ports, so test files never share state, and a test can kill and restart a service.
 */
export async function startTestStack(options: {
  subgraphs: SubgraphName[];
  sandbox?: boolean;
  gateway?: boolean;
  env?: Record<string, string>;
}): Promise<TestStack> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (globalSetup)');
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const offset = await freePortOffset([...Object.values(SUBGRAPHS), GATEWAY_PORT, SANDBOX_PORT]);
  const logDir = path.join(__dirname, '..', '..', 'test-artifacts', 'logs', prefix);
  fs.mkdirSync(logDir, { recursive: true });
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    DB_PREFIX: prefix,
    PORT_OFFSET: String(offset),
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    XENDIT_CALLBACK_TOKEN: TEST_CALLBACK_TOKEN,
    SEED_DEMO_DATA: 'true',
    EXPIRY_SWEEP_MS: '500',
    OUTBOX_RETRY_MS: '300',
    HTTP_RETRIES: '3',
    ...options.env,
  };
  const stack = new Stack({
    subgraphs: options.subgraphs,
    gateway: options.gateway ?? true,
    sandbox: options.sandbox ?? false,
    env,
    logDir,
    // dist/, built for this run by test/global-setup.ts.
    compiled: true,
  });
  try {
    await stack.start();
  } catch (error) {
    await stack.stop();
    throw new Error(`${(error as Error).message} (logs in ${logDir})`);
  }
  const gatewayUrl = stack.urlOf('gateway');
  return {
    stack,
    gatewayUrl,
    sandboxUrl: stack.urlOf('sandbox'),
    env,
    logDir,
    serviceUrl: (name) => stack.urlOf(name),
    async graphql(query, variables, as) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (as?.token) headers.authorization = `Bearer ${as.token}`;
      if (as?.caller)
        Object.assign(headers, { [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN }, identityHeaders(as.caller));
      const response = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse;
    },
    async internal(name, method, urlPath, body) {
      const response = await fetch(`${stack.urlOf(name)}${urlPath}`, {
        method,
        headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: TEST_INTERNAL_TOKEN },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async payInvoice(invoiceUrl) {
      const invoiceId = invoiceUrl.split('/').pop();
      const response = await fetch(`${stack.urlOf('sandbox')}/__sandbox/xendit/invoices/${invoiceId}/pay`, {
        method: 'POST',
      });
      if (response.status !== 200)
        throw new Error(`sandbox refused to pay ${invoiceId}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async sandbox(method, urlPath, body) {
      const key = env.XENDIT_SECRET_KEY ?? DEFAULT_XENDIT_KEY;
      const response = await fetch(`${stack.urlOf('sandbox')}${urlPath}`, {
        method,
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await stack.stop();
      await dropDatabases(databaseUrl, prefix).catch(() => undefined);
    },
  };
}

/**
 * A create-payment call that outlives its caller: `caller` is restarted to give up after 500 ms without
 * retrying, and the sandbox makes the next Xendit invoice take 2 s, so payment goes on after the caller
 * stopped waiting. Answers a function that restarts `caller` with its usual settings.
 */
export async function outliveCaller(stack: TestStack, caller: SubgraphName): Promise<() => Promise<void>> {
  await stack.stack.restart(caller, { HTTP_TIMEOUT_MS: '500', HTTP_RETRIES: '0' });
  const slowdown = await fetch(`${stack.sandboxUrl}/__sandbox/xendit/slowdowns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ delayMs: 2000, path: 'invoices' }),
  });
  if (slowdown.status !== 204) throw new Error(`sandbox slowdown refused: ${slowdown.status}`);
  return () => stack.stack.restart(caller);
}

/** An aggregate's audit trail (lib/status-history.ts), oldest first, as [from, to] pairs. */
export async function statusHistoryOf(
  db: Client,
  historyTable: string,
  subjectColumn: string,
  id: string,
): Promise<[string | null, string][]> {
  const { rows } = await db.query(
    `select from_status, to_status from "${historyTable}" where "${subjectColumn}" = $1 order by id`,
    [id],
  );
  return rows.map((row) => [row.from_status, row.to_status]);
}

/** A lazy graphql-ws client straight to a subgraph, as the gateway reaches it (the internal token unless told otherwise). */
export function subgraphSocket(
  stack: TestStack,
  name: SubgraphName,
  connectionParams: Record<string, string> = { internalToken: TEST_INTERNAL_TOKEN },
): SocketClient {
  return createClient({
    url: `${stack.serviceUrl(name).replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: true,
    retryAttempts: 0,
  });
}

/** The error code of the first error, for terse assertions. */
export function errorCode(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}

/** A response's data, or a throw with its errors: for calls that must succeed. */
export function ok<T = any>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) throw new Error(JSON.stringify(response.errors));
  return response.data as T;
}

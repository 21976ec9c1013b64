import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Stack } from '../scripts/stack';
import { dropDatabases } from '../lib/database';
import { newId } from '../lib/ids';
import { identityHeaders, INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import { GATEWAY_PORT, SANDBOX_PORT, SUBGRAPHS } from '../lib/services';
import { freePortOffset } from './support/ports';

const ROOT = path.join(__dirname, '..');

/** Starts one service entry point with exactly this environment; resolves with its exit code and stderr. */
function runService(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

/** Strong secrets and the real providers' URLs: what a deployment gives every process. */
const DEPLOYMENT = {
  INTERNAL_TOKEN: randomBytes(24).toString('base64url'),
  JWT_SECRET: randomBytes(32).toString('base64url'),
  XENDIT_CALLBACK_TOKEN: randomBytes(24).toString('base64url'),
  XENDIT_SECRET_KEY: `xnd_production_${randomBytes(24).toString('hex')}`,
  WHATSAPP_TOKEN: randomBytes(48).toString('base64url'),
  // Nothing calls the providers at start; .invalid never resolves, so nothing could reach them anyway.
  XENDIT_API_URL: 'https://api.xendit.invalid',
  WHATSAPP_API_URL: 'https://graph.whatsapp.invalid',
  WHATSAPP_PHONE_NUMBER_ID: '109876543210987',
  LOG_LEVEL: 'warn',
};

describe('a process started in production with development settings', () => {
  const unsafe = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres',
    // Left unset: JWT_SECRET, XENDIT_SECRET_KEY, WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID fall back to their development defaults.
    INTERNAL_TOKEN: 'a-real-looking-but-short-token',
    XENDIT_CALLBACK_TOKEN: 'dev-xendit-callback-token',
    XENDIT_API_URL: `http://localhost:${SANDBOX_PORT}`,
    WHATSAPP_API_URL: 'http://127.0.0.1:9999',
  };
  const offending = [
    'INTERNAL_TOKEN',
    'JWT_SECRET',
    'XENDIT_CALLBACK_TOKEN',
    'XENDIT_SECRET_KEY',
    'WHATSAPP_TOKEN',
    'XENDIT_API_URL',
    'WHATSAPP_API_URL',
    'WHATSAPP_PHONE_NUMBER_ID',
  ];

  it.each([['subgraphs/product/index.ts'], ['gateway/index.ts'], ['sandbox/index.ts']])(
    '%s exits non-zero with one line per offending variable and no stack',
    async (entry) => {
      const { code, stderr } = await runService(entry, unsafe);
      expect(code).not.toBe(0);
      const lines = stderr.trim().split('\n');
      for (const name of offending) {
        expect({ name, lines: lines.filter((line) => line.trimStart().startsWith(`${name}:`)).length }).toEqual({
          name,
          lines: 1,
        });
      }
      expect(lines).toHaveLength(offending.length + 1);
      expect(lines[0]).toMatch(/refused to start/);
      expect(stderr).not.toMatch(/^\s+at /m);
    },
  );

  it('the sandbox refuses production even with a deployment configuration', async () => {
    const { code, stderr } = await runService('sandbox/index.ts', { ...DEPLOYMENT, NODE_ENV: 'production' });
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/refused to start/),
      expect.stringMatching(/^\s+NODE_ENV: the sandbox/),
    ]);
  });

  it('a subgraph refuses production without DATABASE_URL rather than start an embedded PostgreSQL', async () => {
    const { code, stderr } = await runService('subgraphs/product/index.ts', DEPLOYMENT);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/^\s+DATABASE_URL: not set/m);
  });
});

describe('a bare start with NODE_ENV unset', () => {
  let stack: Stack;
  let gatewayUrl: string;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const databaseUrl = process.env.TEST_DATABASE_URL!;

  beforeAll(async () => {
    const logDir = path.join(ROOT, 'test-artifacts', 'logs', prefix);
    fs.mkdirSync(logDir, { recursive: true });
    const offset = await freePortOffset([...Object.values(SUBGRAPHS), GATEWAY_PORT, SANDBOX_PORT]);
    stack = new Stack({
      subgraphs: ['product'],
      gateway: true,
      // Jest runs with NODE_ENV=test; the services must not inherit it.
      env: {
        ...DEPLOYMENT,
        NODE_ENV: undefined,
        DATABASE_URL: databaseUrl,
        DB_PREFIX: prefix,
        PORT_OFFSET: String(offset),
      },
      logDir,
    });
    await stack.start();
    gatewayUrl = stack.urlOf('gateway');
  });

  afterAll(async () => {
    await stack?.stop();
    await dropDatabases(databaseUrl, prefix);
  });

  const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return (await response.json()) as {
      data?: any;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
      extensions?: Record<string, unknown>;
    };
  };
  const admin = () => ({
    [INTERNAL_TOKEN_HEADER]: DEPLOYMENT.INTERNAL_TOKEN,
    ...identityHeaders({ userId: newId(), role: 'ADMIN' }),
  });

  it('answers no introspection, at the gateway or at the subgraph', async () => {
    const query = '{ __schema { queryType { name } } }';
    const viaGateway = await post(`${gatewayUrl}/graphql`, { query });
    expect(viaGateway.data).toBeUndefined();
    expect(viaGateway.errors?.[0].message).toMatch(/introspection/i);
    const atSubgraph = await post(`${stack.urlOf('product')}/graphql`, { query }, admin());
    expect(atSubgraph.errors?.[0].message).toMatch(/introspection/i);
  });

  it('sends no stack traces, for the gateway’s own errors or a subgraph’s', async () => {
    const invalid = await post(`${gatewayUrl}/graphql`, { query: '{ noSuchField }' });
    expect(invalid.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const refused = await post(
      `${gatewayUrl}/graphql`,
      {
        query:
          'mutation { createProduct(input: { factoryId: "x", categoryId: "y", name: "n", basePrice: 1, variants: [] }) { id } }',
      },
      admin(),
    );
    expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    for (const error of [...invalid.errors!, ...refused.errors!])
      expect(error.extensions).not.toHaveProperty('stacktrace');
  });

  it('shows no query plans and no sandbox link', async () => {
    const answer = await post(
      `${gatewayUrl}/graphql`,
      { query: '{ products(first: 1) { totalCount } }' },
      { 'apollo-query-plan-experimental': '1' },
    );
    expect(answer.data?.products).toBeDefined();
    expect(answer.extensions?.queryPlan).toBeUndefined();
    for (const page of ['demo', 'console']) {
      const config = await (await fetch(`${gatewayUrl}/${page}/config.json`)).json();
      expect(config).toEqual({ sandboxUrl: null });
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { startTestStack, TestStack, errorCode, TEST_INTERNAL_TOKEN } from '../../test/support/e2e';
import { DEMO_FACTORIES } from '../../lib/demo-data';
import { INTERNAL_TOKEN_HEADER, Role } from '../../lib/internal-auth';
import { withDatabase } from '../../lib/database';
import { newId } from '../../lib/ids';

const user = (role: Role = 'BUYER') => ({ caller: { userId: newId(), role } });

const CREATE_FACTORY = `mutation ($input: CreateFactoryInput!) {
  createFactory(input: $input) { id name city description owner { id } createdAt }
}`;
const UPDATE_FACTORY = `mutation ($id: ID!, $input: UpdateFactoryInput!) {
  updateFactory(id: $id, input: $input) { id name city description }
}`;
const FACTORY = `query ($id: ID!) { factory(id: $id) { id name city description } }`;
const FACTORY_COUNT = `{ factories(first: 0) { totalCount } }`;

interface RoleCall {
  path: string;
  body: unknown;
  internalToken: string | undefined;
}

/** Stands in for auth's role endpoint; it answers 503 to the first call, as an auth that is down would. */
function startFakeAuth() {
  const calls: RoleCall[] = [];
  let refusalsLeft = 1;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !/^\/api\/auth\/users\/[^/]+\/role$/.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"no"}}');
        return;
      }
      if (refusalsLeft > 0) {
        refusalsLeft -= 1;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL_SERVER_ERROR","message":"down"}}');
        return;
      }
      calls.push({ path: req.url!, body: JSON.parse(text), internalToken: req.headers[INTERNAL_TOKEN_HEADER] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ role: 'FACTORY_OWNER' }));
    });
  });
  return new Promise<{ url: string; calls: RoleCall[]; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('factory subgraph', () => {
  let stack: TestStack;
  let auth: Awaited<ReturnType<typeof startFakeAuth>>;

  const factoryCount = async (): Promise<number> => (await stack.graphql(FACTORY_COUNT)).data.factories.totalCount;

  beforeAll(async () => {
    auth = await startFakeAuth();
    stack = await startTestStack({ subgraphs: ['factory'], env: { AUTH_SERVICE_URL: auth.url } });
  });
  afterAll(async () => {
    await stack?.stop();
    await auth?.close();
  });

  it('seeds the demo factories once', async () => {
    expect(await factoryCount()).toBe(DEMO_FACTORIES.length);
    const seeded = await stack.graphql(FACTORY, { id: DEMO_FACTORIES[1].id });
    expect(seeded.data.factory).toEqual({
      id: DEMO_FACTORIES[1].id,
      name: DEMO_FACTORIES[1].name,
      city: DEMO_FACTORIES[1].city,
      description: DEMO_FACTORIES[1].description,
    });
  });

  it('makes the caller the owner and promotes them once through the outbox, retrying while auth is down', async () => {
    const founder = user();
    const first = await stack.graphql(CREATE_FACTORY, { input: { name: 'Tenun Troso', city: 'Jepara', description: '  ' } }, founder);
    expect(first.errors).toBeUndefined();
    expect(first.data.createFactory).toMatchObject({ name: 'Tenun Troso', city: 'Jepara', description: null, owner: { id: founder.caller.userId } });
    const second = await stack.graphql(CREATE_FACTORY, { input: { name: 'Tenun Troso 2', city: 'Kudus' } }, founder);
    expect(second.errors).toBeUndefined();

    const rolePath = `/api/auth/users/${founder.caller.userId}/role`;
    await waitFor(() => auth.calls.some((call) => call.path === rolePath));
    expect(auth.calls.find((call) => call.path === rolePath)).toEqual({
      path: rolePath,
      body: { role: 'FACTORY_OWNER' },
      internalToken: TEST_INTERNAL_TOKEN,
    });

    // One message per owner, however many factories they open.
    const db = new Client({ connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_factory`) });
    await db.connect();
    try {
      const { rows } = await db.query('select path, attempts, delivered_at from outbox where dedupe_key = $1', [
        `promote-owner:${founder.caller.userId}`,
      ]);
      expect(rows).toHaveLength(1);
      expect(rows[0].delivered_at).not.toBeNull();
      expect(rows[0].attempts).toBe(1);
    } finally {
      await db.end();
    }
    expect(auth.calls.filter((call) => call.path === rolePath)).toHaveLength(1);

    const mine = await stack.graphql(`{ myFactories { id } }`, undefined, founder);
    expect(mine.data.myFactories.map((f: { id: string }) => f.id)).toEqual([first.data.createFactory.id, second.data.createFactory.id]);
  });

  it.each([
    ['an empty name', { name: '', city: 'Bandung' }],
    ['a blank city', { name: 'Pabrik', city: '   ' }],
    ['a name over 200 characters', { name: 'x'.repeat(201), city: 'Bandung' }],
  ])('refuses %s with BAD_USER_INPUT, and creates nothing', async (_what, input) => {
    const before = await factoryCount();
    const result = await stack.graphql(CREATE_FACTORY, { input }, user());
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(await factoryCount()).toBe(before);
  });

  it('needs a signed-in caller to create a factory or list their own', async () => {
    const before = await factoryCount();
    expect(errorCode(await stack.graphql(CREATE_FACTORY, { input: { name: 'Anon', city: 'Solo' } }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await stack.graphql(`{ myFactories { id } }`))).toBe('UNAUTHENTICATED');
    expect(await factoryCount()).toBe(before);
  });

  describe('updateFactory', () => {
    const owner = user();
    let factoryId: string;
    beforeAll(async () => {
      const created = await stack.graphql(CREATE_FACTORY, { input: { name: 'Rotan Cirebon', city: 'Cirebon', description: 'Rattan chairs.' } }, owner);
      factoryId = created.data.createFactory.id;
    });

    it('lets the owner change some fields and keeps the rest', async () => {
      const result = await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { city: 'Kabupaten Cirebon' } }, owner);
      expect(result.errors).toBeUndefined();
      expect(result.data.updateFactory).toEqual({ id: factoryId, name: 'Rotan Cirebon', city: 'Kabupaten Cirebon', description: 'Rattan chairs.' });
    });

    it('clears the description when given null', async () => {
      const result = await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { description: null } }, owner);
      expect(result.data.updateFactory.description).toBeNull();
    });

    it('refuses anyone but the owner with FORBIDDEN, and changes nothing', async () => {
      const before = (await stack.graphql(FACTORY, { id: factoryId })).data.factory;
      const result = await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { name: 'Hijacked' } }, user('FACTORY_OWNER'));
      expect(errorCode(result)).toBe('FORBIDDEN');
      expect((await stack.graphql(FACTORY, { id: factoryId })).data.factory).toEqual(before);
    });

    it('lets an admin change it', async () => {
      const result = await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { name: 'Rotan Cirebon Jaya' } }, user('ADMIN'));
      expect(result.errors).toBeUndefined();
      expect(result.data.updateFactory.name).toBe('Rotan Cirebon Jaya');
    });

    it('refuses a null name with BAD_USER_INPUT, and an unknown factory with NOT_FOUND', async () => {
      expect(errorCode(await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { name: null } }, owner))).toBe('BAD_USER_INPUT');
      expect((await stack.graphql(FACTORY, { id: factoryId })).data.factory.name).toBe('Rotan Cirebon Jaya');
      expect(errorCode(await stack.graphql(UPDATE_FACTORY, { id: newId(), input: { name: 'X' } }, owner))).toBe('NOT_FOUND');
    });
  });

  describe('internal REST', () => {
    it('answers a factory summary, and 404 for an unknown or malformed id', async () => {
      const demo = DEMO_FACTORIES[0];
      const found = await stack.internal('factory', 'GET', `/api/factories/${demo.id}`);
      expect(found).toEqual({ status: 200, body: { id: demo.id, ownerId: demo.ownerId, name: demo.name, city: demo.city } });
      for (const id of [newId(), 'not-an-id']) {
        const missing = await stack.internal('factory', 'GET', `/api/factories/${id}`);
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('NOT_FOUND');
      }
    });

    it('lists the factories a user owns', async () => {
      const owned = await stack.internal('factory', 'GET', `/api/factories/owned-by/${DEMO_FACTORIES[0].ownerId}`);
      expect(owned).toEqual({ status: 200, body: { factoryIds: [DEMO_FACTORIES[0].id, DEMO_FACTORIES[2].id] } });
      expect((await stack.internal('factory', 'GET', `/api/factories/owned-by/${newId()}`)).body).toEqual({ factoryIds: [] });
    });

    it('refuses a call without the internal token', async () => {
      const response = await fetch(`${stack.serviceUrl('factory')}/api/factories/${DEMO_FACTORIES[0].id}`);
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('UNAUTHENTICATED');
    });
  });
});

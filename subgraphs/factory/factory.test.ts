import { Client } from 'pg';
import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { eventually } from '../../test/support/eventually';
import { logIn } from '../../test/support/users';
import { DEMO_FACTORIES } from '../../lib/demo-data';
import type { Role } from '../../lib/internal-auth';
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

describe('factory subgraph', () => {
  let stack: TestStack;

  const factoryCount = async (): Promise<number> => (await stack.graphql(FACTORY_COUNT)).data.factories.totalCount;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['factory', 'auth', 'whatsapp'],
      sandbox: true,
      // The owner keeps working while auth is down (the outbox is what is tested there), however slow this machine.
      env: { SESSION_FEED_MAX_STALENESS_MS: '600000' },
    });
  });
  afterAll(() => stack?.stop());

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
    const signedIn = await logIn(stack);
    const founder = { token: signedIn.token };
    const promotion = async () => {
      const db = new Client({
        connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_factory`),
      });
      await db.connect();
      try {
        return (
          await db.query('select path, attempts, delivered_at from outbox where dedupe_key = $1', [
            `promote-owner:${signedIn.userId}`,
          ])
        ).rows;
      } finally {
        await db.end();
      }
    };

    await stack.stack.kill('auth');
    let first;
    let second;
    try {
      first = await stack.graphql(
        CREATE_FACTORY,
        { input: { name: 'Tenun Troso', city: 'Jepara', description: '  ' } },
        founder,
      );
      expect(first.errors).toBeUndefined();
      expect(first.data.createFactory).toMatchObject({
        name: 'Tenun Troso',
        city: 'Jepara',
        description: null,
        owner: { id: signedIn.userId },
      });
      second = await stack.graphql(CREATE_FACTORY, { input: { name: 'Tenun Troso 2', city: 'Kudus' } }, founder);
      expect(second.errors).toBeUndefined();
      // The factory exists; the promotion waits in the outbox while auth is down.
      const pending = await eventually('a failed delivery attempt', async () => {
        const rows = await promotion();
        return rows.length === 1 && rows[0].attempts >= 1 && rows;
      });
      expect(pending[0].delivered_at).toBeNull();
    } finally {
      await stack.stack.startOne('auth');
    }

    // One message per owner, however many factories they open, delivered once auth is back.
    const delivered = await eventually('the promotion', async () => {
      const rows = await promotion();
      return rows.length === 1 && rows[0].delivered_at && rows;
    });
    expect(delivered[0].path).toBe(`/api/auth/users/${signedIn.userId}/role`);
    expect((await stack.internal('auth', 'GET', `/api/auth/users/${signedIn.userId}`)).body.role).toBe('FACTORY_OWNER');
    await eventually(
      'the token acting as owner',
      async () => (await stack.graphql(`{ me { role } }`, undefined, founder)).data?.me?.role === 'FACTORY_OWNER',
    );

    const mine = await stack.graphql(`{ myFactories { id } }`, undefined, founder);
    expect(mine.data.myFactories.map((f: { id: string }) => f.id)).toEqual([
      first.data.createFactory.id,
      second.data.createFactory.id,
    ]);
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
    expect(errorCode(await stack.graphql(CREATE_FACTORY, { input: { name: 'Anon', city: 'Solo' } }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(errorCode(await stack.graphql(`{ myFactories { id } }`))).toBe('UNAUTHENTICATED');
    expect(await factoryCount()).toBe(before);
  });

  describe('updateFactory', () => {
    const owner = user();
    let factoryId: string;
    beforeAll(async () => {
      const created = await stack.graphql(
        CREATE_FACTORY,
        { input: { name: 'Rotan Cirebon', city: 'Cirebon', description: 'Rattan chairs.' } },
        owner,
      );
      factoryId = created.data.createFactory.id;
    });

    it('lets the owner change some fields and keeps the rest', async () => {
      const result = await stack.graphql(
        UPDATE_FACTORY,
        { id: factoryId, input: { city: 'Kabupaten Cirebon' } },
        owner,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.updateFactory).toEqual({
        id: factoryId,
        name: 'Rotan Cirebon',
        city: 'Kabupaten Cirebon',
        description: 'Rattan chairs.',
      });
    });

    it('clears the description when given null', async () => {
      const result = await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { description: null } }, owner);
      expect(result.data.updateFactory.description).toBeNull();
    });

    it('refuses anyone but the owner with FORBIDDEN, and changes nothing', async () => {
      const before = (await stack.graphql(FACTORY, { id: factoryId })).data.factory;
      const result = await stack.graphql(
        UPDATE_FACTORY,
        { id: factoryId, input: { name: 'Hijacked' } },
        user('FACTORY_OWNER'),
      );
      expect(errorCode(result)).toBe('FORBIDDEN');
      expect((await stack.graphql(FACTORY, { id: factoryId })).data.factory).toEqual(before);
    });

    it('lets an admin change it', async () => {
      const result = await stack.graphql(
        UPDATE_FACTORY,
        { id: factoryId, input: { name: 'Rotan Cirebon Jaya' } },
        user('ADMIN'),
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.updateFactory.name).toBe('Rotan Cirebon Jaya');
    });

    it('refuses a null name with BAD_USER_INPUT, and an unknown factory with NOT_FOUND', async () => {
      expect(errorCode(await stack.graphql(UPDATE_FACTORY, { id: factoryId, input: { name: null } }, owner))).toBe(
        'BAD_USER_INPUT',
      );
      expect((await stack.graphql(FACTORY, { id: factoryId })).data.factory.name).toBe('Rotan Cirebon Jaya');
      expect(errorCode(await stack.graphql(UPDATE_FACTORY, { id: newId(), input: { name: 'X' } }, owner))).toBe(
        'NOT_FOUND',
      );
    });
  });

  describe('internal REST', () => {
    it('answers a factory summary, and 404 for an unknown or malformed id', async () => {
      const demo = DEMO_FACTORIES[0];
      const found = await stack.internal('factory', 'GET', `/api/factories/${demo.id}`);
      expect(found).toEqual({
        status: 200,
        body: { id: demo.id, ownerId: demo.ownerId, name: demo.name, city: demo.city, verified: true },
      });
      for (const id of [newId(), 'not-an-id']) {
        const missing = await stack.internal('factory', 'GET', `/api/factories/${id}`);
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('NOT_FOUND');
      }
    });

    it('lists the factories a user owns', async () => {
      const owned = await stack.internal('factory', 'GET', `/api/factories/owned-by/${DEMO_FACTORIES[0].ownerId}`);
      expect(owned).toEqual({ status: 200, body: { factoryIds: [DEMO_FACTORIES[0].id, DEMO_FACTORIES[2].id] } });
      expect((await stack.internal('factory', 'GET', `/api/factories/owned-by/${newId()}`)).body).toEqual({
        factoryIds: [],
      });
    });

    it('refuses a call without the internal token', async () => {
      const response = await fetch(`${stack.serviceUrl('factory')}/api/factories/${DEMO_FACTORIES[0].id}`);
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('UNAUTHENTICATED');
    });
  });
});

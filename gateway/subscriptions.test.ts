import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestStack, TestStack } from '../test/support/e2e';
import { eventually } from '../test/support/eventually';
import { signSessionToken } from '../lib/tokens';
import { newId } from '../lib/ids';

const JWT_SECRET = 'subscriptions-test-jwt-secret-0123456789';
const ADDED = `subscription { notificationAdded { id type title } }`;

/** Federated subscriptions through the gateway (DESIGN.md §6), with real graphql-ws clients. */
describe('gateway subscriptions', () => {
  let stack: TestStack;
  const clients: Client[] = [];
  beforeAll(async () => {
    // auth too: the gateway refuses tokens while it cannot read auth's session feed.
    stack = await startTestStack({ subgraphs: ['notification', 'auth'], env: { JWT_SECRET } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await stack?.stop();
  });

  const tokenFor = (userId: string) =>
    signSessionToken({ userId, role: 'BUYER', sessionId: newId() }, JWT_SECRET, 600);

  function connect(authorization?: string): Client {
    const client = createClient({
      url: `${stack.gatewayUrl.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    return client;
  }

  /** Collects events until `count` arrived (or errors), with a bounded wait. */
  function collect(client: Client, query: string, count: number, timeoutMs = 10_000) {
    const events: any[] = [];
    let unsubscribe = () => {};
    const done = new Promise<any[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} events`)), timeoutMs);
      unsubscribe = client.subscribe(
        { query },
        {
          next: (event) => {
            events.push(event);
            if (events.length >= count || event.errors) {
              clearTimeout(timer);
              resolve(events);
            }
          },
          error: (error) => {
            clearTimeout(timer);
            reject(error);
          },
          complete: () => {
            clearTimeout(timer);
            resolve(events);
          },
        },
      );
    });
    return { done, unsubscribe: () => unsubscribe() };
  }

  const notify = (userId: string, title: string) =>
    stack.internal('notification', 'POST', '/api/notifications', {
      dedupeKey: `test:${newId()}`,
      userId,
      type: 'PAYMENT_SUCCEEDED',
      title,
      body: 'Payment received.',
    });

  const upstreamSockets = async () =>
    (await stack.internal('notification', 'GET', '/internal/metrics')).body.wsConnections as number;

  it('delivers the signed-in user’s own new notifications and nobody else’s', async () => {
    const alice = newId();
    const bob = newId();
    const aliceClient = connect(`Bearer ${await tokenFor(alice)}`);
    const subscription = collect(aliceClient, ADDED, 2);
    await eventually('an upstream socket', async () => (await upstreamSockets()) >= 1);

    expect((await notify(bob, 'For Bob')).status).toBe(200);
    expect((await notify(alice, 'First for Alice')).status).toBe(200);
    expect((await notify(alice, 'Second for Alice')).status).toBe(200);

    const events = await subscription.done;
    expect(events.map((e) => e.errors)).toEqual([undefined, undefined]);
    expect(events.map((e) => e.data.notificationAdded.title)).toEqual(['First for Alice', 'Second for Alice']);
    subscription.unsubscribe();
  });

  it('closes the upstream subscription when the client leaves', async () => {
    await eventually('no upstream socket', async () => (await upstreamSockets()) === 0);
    const client = connect(`Bearer ${await tokenFor(newId())}`);
    const subscription = collect(client, ADDED, 1, 20_000);
    subscription.done.catch(() => undefined);
    await eventually('one upstream socket', async () => (await upstreamSockets()) === 1);
    await client.dispose();
    await eventually('no upstream socket', async () => (await upstreamSockets()) === 0);
  });

  it('answers UNAUTHENTICATED to a subscription that needs a user, without a token', async () => {
    const events = await collect(connect(), ADDED, 1).done;
    expect(events[0].errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses the connection for a forged token', async () => {
    const forged = `Bearer ${await signSessionToken({ userId: newId(), role: 'BUYER', sessionId: newId() }, 'another-secret-0123456789abcdef', 600)}`;
    await expect(collect(connect(forged), ADDED, 1).done).rejects.toMatchObject({ code: 4403 });
  });

  it('rejects an invalid operation with a clear error', async () => {
    await expect(collect(connect(), `subscription { notificationAdded { nope } }`, 1).done).rejects.toEqual([
      expect.objectContaining({ message: expect.stringContaining('nope') }),
    ]);
  });
});

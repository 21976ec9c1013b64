import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from '../test/support/e2e';
import { eventually } from '../test/support/eventually';
import { metricValue } from '../test/support/metrics';
import { freshPhone, logIn } from '../test/support/users';
import { signSessionToken } from '../lib/tokens';
import { newId } from '../lib/ids';

const JWT_SECRET = 'subscriptions-test-jwt-secret-0123456789';
const ADDED = `subscription { notificationAdded { id type title } }`;
const OTP_RATE_LIMIT_PER_ADDRESS = 3;
const WS_MAX_SUBSCRIPTIONS_PER_CONNECTION = 3;
const WS_MAX_CONNECTIONS_PER_ADDRESS = 3;
const REQUEST_OTP = `mutation($phone: String!) { requestOtp(phone: $phone) { phone } }`;

type Result = { data?: any; errors?: any[] };

let addressCounter = 0;
/** A documentation address (TEST-NET-2) per client, so the per-address caps of one test never touch another's. */
const freshAddress = () => `198.51.100.${(addressCounter += 1)}`;

/** A `ws` WebSocket that says it was forwarded for `address` (the gateway trusts loopback proxies here). */
const forwardedFor = (address: string) =>
  class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': address } });
    }
  };

/** Federated subscriptions through the gateway (DESIGN.md §6), with real graphql-ws clients. */
describe('gateway subscriptions', () => {
  let stack: TestStack;
  const clients: Client[] = [];
  beforeAll(async () => {
    // auth too: the gateway refuses tokens while it cannot read auth's session feed; whatsapp and the sandbox to log in.
    stack = await startTestStack({
      subgraphs: ['notification', 'auth', 'whatsapp'],
      sandbox: true,
      env: {
        JWT_SECRET,
        TRUST_PROXY: 'loopback',
        OTP_RATE_LIMIT_PER_ADDRESS: String(OTP_RATE_LIMIT_PER_ADDRESS),
        WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(WS_MAX_SUBSCRIPTIONS_PER_CONNECTION),
        WS_MAX_CONNECTIONS_PER_ADDRESS: String(WS_MAX_CONNECTIONS_PER_ADDRESS),
        WS_SESSION_CHECK_MS: '300',
      },
    });
    await sessionsConfirmed();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await stack?.stop();
  });

  const wsUrl = () => `${stack.gatewayUrl.replace('http', 'ws')}/graphql`;
  const tokenFor = (userId: string, ttlSeconds = 600) =>
    signSessionToken({ userId, role: 'BUYER', sessionId: newId() }, JWT_SECRET, ttlSeconds);

  /** Until the gateway has read auth's session feed, it refuses every token (fail closed). */
  const sessionsConfirmed = async () => {
    const token = await tokenFor(newId());
    await eventually(
      'the gateway confirming sessions',
      async () => !(await stack.graphql(`{ me { id } }`, {}, { token })).errors,
    );
  };

  function connect(authorization?: string, options: { lazy?: boolean; address?: string } = {}): Client {
    const client = createClient({
      url: wsUrl(),
      webSocketImpl: forwardedFor(options.address ?? freshAddress()),
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: options.lazy ?? true,
    });
    clients.push(client);
    return client;
  }

  /**
   * Collects events until `count` arrived, an event carries errors, or the server completes the operation;
   * rejects with the protocol's `error` payload or the close event. Unsubscribing ends it with what arrived.
   */
  function collect(client: Client, query: string, count = Infinity, timeoutMs = 10_000) {
    const events: Result[] = [];
    let cancel = () => {};
    let finish: (events: Result[]) => void = () => {};
    const done = new Promise<Result[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${events.length} events in ${timeoutMs} ms`)), timeoutMs);
      finish = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      cancel = client.subscribe(
        { query },
        {
          next: (event) => {
            events.push(event as Result);
            if (events.length >= count || event.errors) finish(events);
          },
          error: (error) => {
            clearTimeout(timer);
            reject(error);
          },
          complete: () => finish(events),
        },
      );
    });
    return {
      done,
      events,
      unsubscribe: () => {
        cancel();
        finish(events);
      },
    };
  }

  /** One query or mutation over the socket: its result, or `{ errors }` when it was refused before running. */
  function run(client: Client, query: string, variables?: Record<string, unknown>): Promise<Result> {
    return new Promise((resolve, reject) => {
      let result: Result = {};
      client.subscribe(
        { query, variables },
        {
          next: (value) => (result = value as Result),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => resolve(result),
        },
      );
    });
  }

  /** A raw socket speaking graphql-transport-ws, initialised; rejects with the HTTP status of a refused upgrade. */
  function rawSocket(address: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl(), 'graphql-transport-ws', { headers: { 'x-forwarded-for': address } });
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init' }));
        resolve(socket);
      });
      socket.once('unexpected-response', (_request, response) => reject(new Error(`status ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  const closed = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  const notify = (userId: string, title: string) =>
    stack.internal('notification', 'POST', '/api/notifications', {
      dedupeKey: `test:${newId()}`,
      userId,
      type: 'PAYMENT_SUCCEEDED',
      title,
      body: 'Payment received.',
    });

  const upstreamSockets = () => metricValue(stack, 'notification', 'graphql_ws_connections');

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
    collect(client, ADDED, 1, 20_000).done.catch(() => undefined);
    await eventually('one upstream socket', async () => (await upstreamSockets()) === 1);
    await client.dispose();
    await eventually('no upstream socket', async () => (await upstreamSockets()) === 0);
  });

  it('answers UNAUTHENTICATED to a subscription that needs a user, without a token', async () => {
    const events = await collect(connect(), ADDED, 1).done;
    expect(events[0].errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses the connection for a forged token', async () => {
    const forged = `Bearer ${await signSessionToken({ userId: newId(), role: 'BUYER', sessionId: newId() }, 'another-secret-0123456789abcdef', 600)}`;
    await expect(collect(connect(forged), ADDED, 1).done).rejects.toMatchObject({ code: 4403 });
  });

  it('rejects an invalid or oversized subscription as HTTP rejects a query: same code, message and limit', async () => {
    const invalid = `subscription { notificationAdded { nope } }`;
    const overHttp = await stack.graphql(
      invalid.replace('subscription', 'query').replace('notificationAdded', 'myNotifications'),
    );
    expect(overHttp.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    await expect(collect(connect(), invalid).done).rejects.toEqual([
      expect.objectContaining({
        message: expect.stringContaining('nope'),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      }),
    ]);
    const tooLong = `subscription { notificationAdded { id ${'__typename '.repeat(1000)}} }`;
    await expect(collect(connect(), tooLong).done).rejects.toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/more tha[nt] 1000 tokens/),
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      }),
    ]);
  });

  it('after logout, ends the session’s open subscription and answers its next operation on the open socket UNAUTHENTICATED', async () => {
    const user = await logIn(stack);
    const client = connect(`Bearer ${user.token}`, { lazy: false });
    expect(await run(client, `{ me { id } }`)).toEqual({ data: { me: { id: user.userId } } });
    const subscription = collect(client, ADDED, Infinity, 20_000);
    // The upstream subscription may still be starting on a loaded machine: notify until one event arrives.
    await eventually('the event before logout', async () => {
      if (subscription.events.length === 0) expect((await notify(user.userId, 'Before logout')).status).toBe(200);
      return subscription.events.length > 0;
    });

    const loggedOut = await stack.graphql(`mutation { logout }`, {}, { token: user.token });
    expect(loggedOut.data.logout).toBe(true);

    // The last event is the refusal, then the subscription completes (collect resolves on complete).
    const events = await subscription.done;
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events.slice(0, -1)) expect(event.data.notificationAdded.title).toBe('Before logout');
    expect(events.at(-1)!.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) }),
    ]);
    expect(events.at(-1)!.errors![0].extensions.http).toBeUndefined();
    const next = await run(client, `{ me { id } }`);
    expect(next.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('ends a subscription when its token expires', async () => {
    const client = connect(`Bearer ${await tokenFor(newId(), 2)}`);
    const events = await collect(client, ADDED, Infinity, 15_000).done;
    expect(events).toHaveLength(1);
    expect(events[0].errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it(`refuses more than ${WS_MAX_SUBSCRIPTIONS_PER_CONNECTION} operations at once on one connection`, async () => {
    const client = connect(`Bearer ${await tokenFor(newId())}`, { lazy: false });
    const open = Array.from({ length: WS_MAX_SUBSCRIPTIONS_PER_CONNECTION }, () => collect(client, ADDED, 1, 30_000));
    await expect(collect(client, ADDED).done).rejects.toEqual([
      expect.objectContaining({
        message: `Too many operations on this connection: at most ${WS_MAX_SUBSCRIPTIONS_PER_CONNECTION} (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION)`,
        extensions: { code: 'BAD_USER_INPUT', limit: 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION' },
      }),
    ]);
    open[0].unsubscribe();
    await eventually('room for one more', async () => !(await run(client, `{ __typename }`)).errors);
    for (const subscription of open) subscription.unsubscribe();
  });

  it(`refuses more than ${WS_MAX_CONNECTIONS_PER_ADDRESS} sockets from one client address with 429`, async () => {
    const [crowded, other] = [freshAddress(), freshAddress()];
    const sockets = await Promise.all(Array.from({ length: WS_MAX_CONNECTIONS_PER_ADDRESS }, () => rawSocket(crowded)));
    await expect(rawSocket(crowded)).rejects.toThrow('status 429');
    sockets.push(await rawSocket(other));
    const first = sockets.shift()!;
    const gone = closed(first);
    first.close();
    await gone;
    sockets.push(await eventually('a socket again once one closed', () => rawSocket(crowded).catch(() => null)));
    for (const socket of sockets) socket.close();
  });

  it('closes a socket that sends a message over 1 MiB (1009)', async () => {
    const socket = await rawSocket(freshAddress());
    const code = closed(socket);
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: `{ __typename }`, extensions: { padding: 'x'.repeat(1_048_576) } },
      }),
    );
    expect(await code).toBe(1009);
  });

  it('keys the OTP limits by the client a trusted proxy names, over HTTP and over the socket, and ignores X-Forwarded-For without TRUST_PROXY', async () => {
    const requestOtp = async (address: string) => {
      const response = await fetch(`${stack.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ query: REQUEST_OTP, variables: { phone: freshPhone() } }),
      });
      return (await response.json()) as Result;
    };
    const rateLimited = (result: Result) =>
      result.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT' && /too many/i.test(result.errors[0].message);

    const [busy, quiet, elsewhere] = [freshAddress(), freshAddress(), freshAddress()];
    for (let i = 0; i < OTP_RATE_LIMIT_PER_ADDRESS; i += 1) expect((await requestOtp(busy)).errors).toBeUndefined();
    expect(rateLimited(await requestOtp(busy))).toBe(true);
    expect((await requestOtp(quiet)).errors).toBeUndefined();
    // Over the socket the address is the upgrade request's, through the same trust setting.
    expect(rateLimited(await run(connect(undefined, { address: busy }), REQUEST_OTP, { phone: freshPhone() }))).toBe(
      true,
    );
    expect(
      (await run(connect(undefined, { address: elsewhere }), REQUEST_OTP, { phone: freshPhone() })).errors,
    ).toBeUndefined();

    await stack.stack.restart('gateway', { TRUST_PROXY: '' });
    try {
      // Without a trusted proxy every request counts against the socket's address, whatever it claims.
      const results = [];
      for (let i = 0; i <= OTP_RATE_LIMIT_PER_ADDRESS; i += 1) results.push(await requestOtp(freshAddress()));
      expect(results.some(rateLimited)).toBe(true);
    } finally {
      await stack.stack.restart('gateway');
    }
  });
});

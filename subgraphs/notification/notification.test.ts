import fs from 'node:fs';
import path from 'node:path';
import type { Client as WsClient } from 'graphql-ws';
import { startTestStack, subgraphSocket, type TestStack, errorCode, TEST_INTERNAL_TOKEN } from '../../test/support/e2e';
import { newId } from '../../lib/ids';
import { NOTIFICATION_TYPES } from '../../lib/contracts/notification';

describe('notification subgraph', () => {
  let stack: TestStack;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['notification'] });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack?.stop();
  });

  const send = (userId: string, overrides: Record<string, unknown> = {}) =>
    stack.internal('notification', 'POST', '/api/notifications', {
      dedupeKey: `test:${newId()}`,
      userId,
      type: 'PAYMENT_SUCCEEDED',
      title: 'Payment received',
      body: 'We received your payment of Rp150.000.',
      data: { paymentId: newId() },
      ...overrides,
    });
  const as = (userId: string) => ({ caller: { userId, role: 'BUYER' as const } });
  const LIST = `query($unread: Boolean) { myNotifications(first: 10, unreadOnly: $unread) { totalCount edges { node { id type title readAt } } } }`;

  it("serves exactly the contract's notification types", () => {
    const schema = fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8');
    const values = /enum NotificationType \{([^}]*)\}/
      .exec(schema)![1]
      .replace(/"""[^"]*"""/g, '')
      .split(/\s+/)
      .filter(Boolean);
    expect(values).toEqual([...NOTIFICATION_TYPES]);
  });

  it('stores a notification once per dedupe key and refuses bad input', async () => {
    const userId = newId();
    const dedupeKey = `payment:${newId()}:PAYMENT_SUCCEEDED`;
    const [a, b] = await Promise.all([send(userId, { dedupeKey }), send(userId, { dedupeKey })]);
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect((await send(userId, { dedupeKey })).body).toEqual(a.body);
    expect((await send(userId, { type: 'SOMETHING_ELSE' })).status).toBe(400);
    expect((await send('not-an-id')).status).toBe(400);
    expect((await send(userId, { title: '' })).status).toBe(400);

    const list = await stack.graphql(LIST, {}, as(userId));
    expect(list.data.myNotifications.totalCount).toBe(1);
    expect(list.data.myNotifications.edges[0].node).toEqual({
      id: a.body.id,
      type: 'PAYMENT_SUCCEEDED',
      title: 'Payment received',
      readAt: null,
    });
    expect(errorCode(await stack.graphql(LIST, {}))).toBe('UNAUTHENTICATED');
  });

  it('marks only the caller’s own notifications read', async () => {
    const owner = newId();
    const intruder = newId();
    const { body } = await send(owner);
    await send(owner, { type: 'ESCROW_RELEASED' });
    const MARK = `mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }`;

    expect(errorCode(await stack.graphql(MARK, { id: body.id }, as(intruder)))).toBe('NOT_FOUND');
    expect(errorCode(await stack.graphql(MARK, { id: 'nope' }, as(owner)))).toBe('BAD_USER_INPUT');
    const one = `query($id: ID!) { notification(id: $id) { id readAt } }`;
    expect((await stack.graphql(one, { id: body.id }, as(intruder))).data.notification).toBeNull();

    const marked = await stack.graphql(MARK, { id: body.id }, as(owner));
    expect(marked.data.markNotificationRead.readAt).toEqual(expect.any(String));
    const again = await stack.graphql(MARK, { id: body.id }, as(owner));
    expect(again.data.markNotificationRead.readAt).toBe(marked.data.markNotificationRead.readAt);

    const unread = await stack.graphql(LIST, { unread: true }, as(owner));
    expect(unread.data.myNotifications.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual([
      'ESCROW_RELEASED',
    ]);
    expect((await stack.graphql(LIST, { unread: false }, as(owner))).data.myNotifications.totalCount).toBe(2);
    expect((await stack.graphql(one, { id: body.id }, as(owner))).data.notification.id).toBe(body.id);
  });

  /** The subgraph's own graphql-ws endpoint, as the gateway reaches it. */
  const subscriber = (connectionParams: Record<string, string>) => {
    const client = subgraphSocket(stack, 'notification', connectionParams);
    clients.push(client);
    return client;
  };

  it('pushes a new notification to its owner only, over graphql-ws', async () => {
    const userId = newId();
    const client = subscriber({ internalToken: TEST_INTERNAL_TOKEN, 'x-user-id': userId, 'x-user-role': 'BUYER' });
    const events = client.iterate<{
      notificationAdded: { id: string; type: string; title: string; readAt: string | null };
    }>({
      query: 'subscription { notificationAdded { id type title readAt createdAt } }',
    });
    // Subscribing is asynchronous; keep sending until the first event for this user arrives.
    const first = events.next();
    let mine: { body: { id: string } } | undefined;
    for (let i = 0; i < 50; i += 1) {
      await send(newId(), { type: 'SESSION_FAILED' });
      mine = await send(userId, { type: 'REFUND_COMPLETED', dedupeKey: `test:sub:${userId}:${i}` });
      const winner = await Promise.race([first.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
      if (winner) break;
    }
    const { value } = await first;
    expect(value.data.notificationAdded).toMatchObject({
      type: 'REFUND_COMPLETED',
      title: 'Payment received',
      readAt: null,
    });
    expect(value.errors).toBeUndefined();
    // Whatever arrives next is this user's too, never the other user's SESSION_FAILED.
    const last = await send(userId, { type: 'ORDER_SHIPPED' });
    let next = await events.next();
    while (next.value.data.notificationAdded.id !== last.body.id) {
      expect(next.value.data.notificationAdded.type).toBe('REFUND_COMPLETED');
      next = await events.next();
    }
    expect(mine).toBeDefined();
    await events.return?.();
  });

  it('refuses a subscription without a caller, and a connection without the internal token', async () => {
    const anonymous = subscriber({ internalToken: TEST_INTERNAL_TOKEN });
    const result = await anonymous.iterate({ query: 'subscription { notificationAdded { id } }' }).next();
    expect(result.value.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const outsider = subscriber({ internalToken: 'wrong-token-123', 'x-user-id': newId(), 'x-user-role': 'BUYER' });
    await expect(outsider.iterate({ query: 'subscription { notificationAdded { id } }' }).next()).rejects.toBeDefined();
  });
});

import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { newId } from '../../lib/ids';

const MY_WALLET = `query ($first: Int) {
  myWallet { id balance currency transactions(first: $first) {
    totalCount pageInfo { hasNextPage } edges { node { id amount type balanceAfter description createdAt } }
  } }
}`;

const buyer = () => ({ userId: newId(), role: 'BUYER' as const });

describe('wallet: credits, debits and myWallet', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['wallet'] });
  });
  afterAll(() => stack?.stop());

  const credit = (body: Record<string, unknown>) => stack.internal('wallet', 'POST', '/api/wallets/credit', body);
  const debit = (body: Record<string, unknown>) => stack.internal('wallet', 'POST', '/api/wallets/debit', body);
  const summary = async (userId: string) => {
    const response = await stack.internal('wallet', 'GET', `/api/wallets/${userId}`);
    expect(response.status).toBe(200);
    return response.body as { userId: string; balance: number; transactions: number };
  };
  const myWallet = async (caller: ReturnType<typeof buyer>, first = 20) => {
    const result = await stack.graphql(MY_WALLET, { first }, { caller });
    expect(result.errors).toBeUndefined();
    return result.data.myWallet;
  };

  it('shows a credit in myWallet, and a replayed reference changes nothing', async () => {
    const user = buyer();
    const reference = newId();
    const first = await credit({
      userId: user.userId,
      amount: 150000,
      reference,
      description: 'Refund: session failed',
    });
    expect(first).toEqual({ status: 200, body: { transactionId: expect.any(String), balanceAfter: 150000 } });

    const replay = await credit({
      userId: user.userId,
      amount: 150000,
      reference,
      description: 'Refund: session failed',
    });
    expect(replay).toEqual(first);

    const wallet = await myWallet(user);
    expect(wallet.balance).toBe(150000);
    expect(wallet.currency).toBe('IDR');
    expect(wallet.transactions.totalCount).toBe(1);
    expect(wallet.transactions.edges[0].node).toMatchObject({
      id: first.body.transactionId,
      amount: 150000,
      type: 'REFUND_CREDIT',
      balanceAfter: 150000,
      description: 'Refund: session failed',
    });
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 150000, transactions: 1 });
  });

  it('refuses a reference reused for a different movement with CONFLICT', async () => {
    const user = buyer();
    const reference = newId();
    expect((await credit({ userId: user.userId, amount: 5000, reference })).status).toBe(200);
    const otherAmount = await credit({ userId: user.userId, amount: 6000, reference });
    expect(otherAmount.status).toBe(409);
    expect(otherAmount.body.error.code).toBe('CONFLICT');
    const otherUser = await credit({ userId: newId(), amount: 5000, reference });
    expect(otherUser.status).toBe(409);
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 5000, transactions: 1 });
  });

  it('applies 100 concurrent credits exactly once each, with balanceAfter 1..100 in listing order', async () => {
    const user = buyer();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => credit({ userId: user.userId, amount: 1, reference: newId() })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.map((a) => a.body.balanceAfter).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );

    const wallet = await myWallet(user, 100);
    expect(wallet.balance).toBe(100);
    expect(wallet.transactions.totalCount).toBe(100);
    // Newest first: the ids were taken under the wallet lock, so listing order is balance order.
    expect(wallet.transactions.edges.map((e: any) => e.node.balanceAfter)).toEqual(
      Array.from({ length: 100 }, (_, i) => 100 - i),
    );
  });

  it('keeps one transaction when the same reference arrives many times at once', async () => {
    const user = buyer();
    const reference = newId();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => credit({ userId: user.userId, amount: 700, reference })),
    );
    expect(new Set(answers.map((a) => `${a.status}:${a.body.transactionId}:${a.body.balanceAfter}`))).toEqual(
      new Set([`200:${answers[0].body.transactionId}:700`]),
    );
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 700, transactions: 1 });
  });

  it.each([
    ['zero', { amount: 0 }],
    ['negative', { amount: -1 }],
    ['fractional', { amount: 1.5 }],
    ['a string', { amount: '5' }],
    ['no reference', { reference: undefined }],
    ['a malformed user id', { userId: 'not-an-id' }],
  ])('refuses a credit with %s with 400 BAD_USER_INPUT and changes nothing', async (_label, override) => {
    const user = buyer();
    expect((await credit({ userId: user.userId, amount: 1000, reference: newId() })).status).toBe(200);
    const response = await credit({ userId: user.userId, amount: 1000, reference: newId(), ...override });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('BAD_USER_INPUT');
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 1000, transactions: 1 });
  });

  it('debits within the balance, once per reference, and refuses more than the balance with 409', async () => {
    const user = buyer();
    await credit({ userId: user.userId, amount: 10000, reference: newId() });

    const tooMuch = await debit({ userId: user.userId, amount: 10001, reference: newId() });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('CONFLICT');
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 10000, transactions: 1 });

    const reference = newId();
    const spent = await debit({ userId: user.userId, amount: 4000, reference, description: 'Order payment' });
    expect(spent).toEqual({ status: 200, body: { transactionId: expect.any(String), balanceAfter: 6000 } });
    expect(await debit({ userId: user.userId, amount: 4000, reference, description: 'Order payment' })).toEqual(spent);

    const wallet = await myWallet(user);
    expect(wallet.balance).toBe(6000);
    expect(wallet.transactions.edges[0].node).toMatchObject({
      amount: -4000,
      type: 'PURCHASE_DEBIT',
      balanceAfter: 6000,
    });

    const bad = await debit({ userId: user.userId, amount: -5, reference: newId() });
    expect(bad.status).toBe(400);
    const stranger = await debit({ userId: newId(), amount: 1, reference: newId() });
    expect(stranger.status).toBe(409);
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 6000, transactions: 2 });
  });

  it('never overdraws under concurrent debits', async () => {
    const user = buyer();
    await credit({ userId: user.userId, amount: 10, reference: newId() });
    const answers = await Promise.all(
      Array.from({ length: 15 }, () => debit({ userId: user.userId, amount: 1, reference: newId() })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(5);
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 0, transactions: 11 });
  });

  it('gives a new user an empty wallet, once, and refuses an anonymous caller', async () => {
    const user = buyer();
    expect(await summary(user.userId)).toEqual({ userId: user.userId, balance: 0, transactions: 0 });
    const first = await myWallet(user);
    expect(first).toMatchObject({ balance: 0, currency: 'IDR', transactions: { totalCount: 0, edges: [] } });
    expect((await myWallet(user)).id).toBe(first.id);

    const anonymous = await stack.graphql(MY_WALLET, {});
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
    expect(errorCode(await stack.graphql(MY_WALLET, { first: 1000 }, { caller: user }))).toBe('BAD_USER_INPUT');
  });
});

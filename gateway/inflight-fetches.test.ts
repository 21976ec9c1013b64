import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InflightFetches, OPERATION_KIND_HEADER } from './inflight-fetches';
import { USER_ID_HEADER, USER_ROLE_HEADER } from '../lib/internal-auth';

/**
 * A subgraph stand-in that holds every answer until released, so the test decides which fetches are in
 * flight together; each answer says which request number it was.
 */
function startHeldSubgraph() {
  const received: string[] = [];
  const kindHeaders: (string | undefined)[] = [];
  let held: { body: string; response: http.ServerResponse; number: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      kindHeaders.push(req.headers[OPERATION_KIND_HEADER] as string | undefined);
      held.push({ body, response: res, number: received.length });
    });
  });
  return {
    received,
    kindHeaders,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`),
        ),
      ),
    /** Answers what was received so far (only bodies starting with `prefix`, when given). */
    release: (prefix = '') => {
      const [now, later] = [
        held.filter((h) => h.body.startsWith(prefix)),
        held.filter((h) => !h.body.startsWith(prefix)),
      ];
      held = later;
      for (const { response, number } of now)
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { number } }));
    },
    /** Drops the connection of everything received so far, unanswered. */
    fail: () => held.splice(0).forEach(({ response }) => response.socket?.destroy()),
    waitForRequests: async (count: number) => {
      while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const asBuyer = (userId: string, kind: 'query' | 'mutation' | null = 'query') => ({
  'content-type': 'application/json',
  [USER_ID_HEADER]: userId,
  [USER_ROLE_HEADER]: 'BUYER',
  ...(kind ? { [OPERATION_KIND_HEADER]: kind } : {}),
});
const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });
const READ = body('query Orders__order__0{myOrders{id}}');

describe('InflightFetches', () => {
  let subgraph: ReturnType<typeof startHeldSubgraph>;
  let url: string;
  beforeEach(async () => {
    subgraph = startHeldSubgraph();
    url = await subgraph.listen();
  });
  afterEach(() => subgraph.close());

  async function numberOf(response: Promise<{ json(): Promise<unknown> }>) {
    return ((await (await response).json()) as { data: { number: number } }).data.number;
  }

  it('sends identical reads of one caller in flight together once, and each gets its own copy', async () => {
    const fetches = new InflightFetches();
    const answers = Array.from({ length: 10 }, () =>
      fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ }),
    );
    await subgraph.waitForRequests(1);
    subgraph.release();
    const parsed = await Promise.all(answers.map(async (answer) => (await answer).json()));
    expect(subgraph.received).toHaveLength(1);
    expect(fetches.shared).toBe(9);
    expect(parsed.every((copy) => JSON.stringify(copy) === JSON.stringify({ data: { number: 1 } }))).toBe(true);
    expect(new Set(parsed).size).toBe(10);
  });

  it('never shares between callers, different variables, or once the first answer is in', async () => {
    const fetches = new InflightFetches();
    const first = fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ });
    const otherCaller = fetches.fetch(url, { method: 'POST', headers: asBuyer('u2'), body: READ });
    const otherVariables = fetches.fetch(url, {
      method: 'POST',
      headers: asBuyer('u1'),
      body: body('query Orders__order__0{myOrders{id}}', { first: 5 }),
    });
    await subgraph.waitForRequests(3);
    subgraph.release();
    expect(new Set(await Promise.all([first, otherCaller, otherVariables].map(numberOf))).size).toBe(3);

    const later = fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ });
    await subgraph.waitForRequests(4);
    subgraph.release();
    expect(await numberOf(later)).toBe(4);
    expect(fetches.shared).toBe(0);
  });

  it('shares only what the planner marked a query, and the mark never reaches the subgraph', async () => {
    const fetches = new InflightFetches();
    const shorthand = body('{products{id}}');
    const marked = [1, 2, 3].map(() => fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: shorthand }));
    const unmarked = [1, 2].map(() =>
      fetches.fetch(url, { method: 'POST', headers: asBuyer('u2', null), body: shorthand }),
    );
    await subgraph.waitForRequests(3);
    subgraph.release();
    expect(await Promise.all(marked.map(numberOf))).toEqual([1, 1, 1]);
    expect((await Promise.all(unmarked.map(numberOf))).sort()).toEqual([2, 3]);
    expect(subgraph.kindHeaders).toEqual([undefined, undefined, undefined]);
  });

  it('never shares mutations', async () => {
    const fetches = new InflightFetches();
    const write = body('mutation Pay__payment__0{pay{id}}');
    const writes = [1, 2].map(() =>
      fetches.fetch(url, { method: 'POST', headers: asBuyer('u1', 'mutation'), body: write }),
    );
    await subgraph.waitForRequests(2);
    subgraph.release();
    expect((await Promise.all(writes.map(numberOf))).sort()).toEqual([1, 2]);
  });

  it("does not hand a read sent after the caller's write an answer fetched before that write", async () => {
    const fetches = new InflightFetches();
    const before = fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ });
    const otherCallersRead = fetches.fetch(url, { method: 'POST', headers: asBuyer('u2'), body: READ });
    const write = fetches.fetch(url, {
      method: 'POST',
      headers: asBuyer('u1', 'mutation'),
      body: body('mutation Order__order__0{createOrder{id}}'),
    });
    await subgraph.waitForRequests(3);
    // The write answers while both reads are still in flight.
    subgraph.release('{"query":"mutation');
    await write;
    const after = fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ });
    const otherCallerAgain = fetches.fetch(url, { method: 'POST', headers: asBuyer('u2'), body: READ });
    await subgraph.waitForRequests(4);
    subgraph.release();
    expect(await numberOf(before)).toBe(1);
    expect(await numberOf(after)).toBe(4);
    // u2 wrote nothing: its second read shares the first one still in flight.
    expect([await numberOf(otherCallersRead), await numberOf(otherCallerAgain)]).toEqual([2, 2]);
    expect(subgraph.received).toHaveLength(4);
  });

  it('passes a failed fetch to every caller that shared it, then fetches afresh', async () => {
    const fetches = new InflightFetches();
    const answers = [1, 2].map(() => fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ }));
    await subgraph.waitForRequests(1);
    subgraph.fail();
    for (const answer of answers) await expect(answer).rejects.toThrow();
    const retry = fetches.fetch(url, { method: 'POST', headers: asBuyer('u1'), body: READ });
    await subgraph.waitForRequests(2);
    subgraph.release();
    expect(await numberOf(retry)).toBe(2);
  });
});

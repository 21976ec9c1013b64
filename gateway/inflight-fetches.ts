import { Agent, request } from 'undici';
import { Response, type RequestInit } from 'node-fetch';
import { SESSION_ID_HEADER, USER_ID_HEADER, USER_ROLE_HEADER } from '../lib/internal-auth';

/** A subgraph's HTTP answer, read whole. */
export interface SubgraphAnswer {
  status: number;
  headers: [string, string][];
  body: string;
}

export type SubgraphSend = (url: string, init: RequestInit) => Promise<SubgraphAnswer>;

// Kept-alive sockets to each subgraph, dropped after 30 s idle (before the subgraphs' own 65 s). undici
// rather than node-fetch on http.Agent: the fetch machinery was most of the gateway's CPU per query.
const subgraphDispatcher = new Agent({
  keepAliveTimeout: 30_000,
  connections: 256,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
});

/** POSTs one GraphQL operation to a subgraph over the kept-alive pool. */
export const sendToSubgraph: SubgraphSend = async (url, init) => {
  const response = await request(url, {
    method: 'POST',
    headers: init.headers as Record<string, string>,
    body: init.body as string,
    dispatcher: subgraphDispatcher,
  });
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers.push([name, Array.isArray(value) ? value.join(', ') : value]);
  }
  return { status: response.statusCode, headers, body: await response.body.text() };
};

/**
 * The kind of the subgraph operation, as the query planner parsed it: set by the data source
 * (server.ts) and taken off again here, so it never reaches the subgraph. A fetch without it is never shared.
 */
export const OPERATION_KIND_HEADER = 'x-gateway-operation-kind';

/**
 * Lets identical subgraph reads that are in flight at the same time share one fetch: a page that asks the
 * same thing from several components, a refresh storm, many tabs of one buyer. Only queries are shared, and
 * only between requests of the same caller (identity headers are part of the key), so no one sees an answer
 * meant for someone else. Once a caller's mutation has answered, that caller's reads in flight are no longer
 * joinable, so a read sent after a write never receives an answer fetched before it.
 */
export class InflightFetches {
  /** caller identity → fetch key → the answer being fetched */
  private readonly byCaller = new Map<string, Map<string, Promise<SubgraphAnswer>>>();
  private sharedCount = 0;

  constructor(private readonly send: SubgraphSend = sendToSubgraph) {}

  /** How many fetches were answered from another one in flight (for tests and metrics). */
  get shared(): number {
    return this.sharedCount;
  }

  readonly fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const body = typeof init.body === 'string' ? init.body : undefined;
    const headers = { ...(init.headers as Record<string, string>) };
    const kind = headers[OPERATION_KIND_HEADER];
    delete headers[OPERATION_KIND_HEADER];
    init = { ...init, headers };
    const caller = callerKey(headers);
    if (kind === 'mutation') {
      try {
        return responseOf(await this.send(url, init));
      } finally {
        this.byCaller.delete(caller);
      }
    }
    if (!body || kind !== 'query') return responseOf(await this.send(url, init));

    const key = `${url}\n${body}`;
    let inflight = this.byCaller.get(caller);
    const existing = inflight?.get(key);
    if (existing) {
      this.sharedCount += 1;
      return responseOf(await existing);
    }
    if (!inflight) {
      inflight = new Map();
      this.byCaller.set(caller, inflight);
    }
    const answer = this.send(url, init);
    inflight.set(key, answer);
    const forget = () => {
      // A mutation may have replaced the caller's map meanwhile; only remove what this fetch added.
      const current = this.byCaller.get(caller);
      if (current?.get(key) !== answer) return;
      current.delete(key);
      if (current.size === 0) this.byCaller.delete(caller);
    };
    try {
      return responseOf(await answer);
    } finally {
      forget();
    }
  };
}

/** Each sharer parses its own copy: the gateway merges later fetches into the parsed objects. */
function responseOf(answer: SubgraphAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

function callerKey(headers: RequestInit['headers']): string {
  const bag = (headers ?? {}) as Record<string, string>;
  return [bag[USER_ID_HEADER], bag[USER_ROLE_HEADER], bag[SESSION_ID_HEADER]].map((value) => value ?? '').join('|');
}

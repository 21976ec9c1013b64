import { type Caller, identityHeaders, INTERNAL_TOKEN_HEADER } from '../lib/internal-auth';
import type { SubgraphName } from '../lib/services';

/** Every call the soak makes gives up after this long: a process killed mid-call must not stall a buyer. */
const CALL_TIMEOUT_MS = 15_000;

export interface GraphQLAnswer<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Who sends a GraphQL call: a buyer with the Bearer token from verifyOtp, or an owner as a trusted driver. */
export type Identity = { token: string } | { caller: Caller };

/**
 * A refusal the workload expects from the system (its own rules, e.g. CONFLICT for a join to an ended
 * session), as opposed to an outage (a process down, a timeout, a 5xx) that the soak tolerates and counts.
 */
export class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A call that failed because something was down or slow, not because the system said no. */
export class Outage extends Error {}

/** Counts of what the workload did, by kind: ok, refused (a rule said no) and failed (an outage). */
export class Tally {
  readonly counts = new Map<string, { ok: number; refused: number; failed: number }>();
  /** The first refusal or failure of each kind, to tell an outage from a rule. */
  readonly firstErrors = new Map<string, string>();

  private of(kind: string) {
    let entry = this.counts.get(kind);
    if (!entry) this.counts.set(kind, (entry = { ok: 0, refused: 0, failed: 0 }));
    return entry;
  }

  /** Runs one operation and files its outcome; answers its value, or undefined when it did not succeed. */
  async run<T>(kind: string, operation: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await operation();
      this.of(kind).ok += 1;
      return value;
    } catch (error) {
      if (error instanceof Refused) this.of(kind).refused += 1;
      else this.of(kind).failed += 1;
      if (!this.firstErrors.has(kind)) this.firstErrors.set(kind, (error as Error).message.slice(0, 200));
      return undefined;
    }
  }

  count(kind: string, outcome: 'ok' | 'refused' | 'failed' = 'ok'): void {
    this.of(kind)[outcome] += 1;
  }
}

/** The soak's HTTP calls: GraphQL through the gateway, the sandbox's controls, and subgraphs' internal REST. */
export class ChaosClient {
  constructor(
    private readonly urls: { gateway: string; sandbox: string; service: (name: SubgraphName) => string },
    private readonly internalToken: string,
    private readonly xenditKey: string,
  ) {}

  /** A GraphQL call that must succeed: answers its data, throws Refused for a rule's refusal, Outage otherwise. */
  async graphql<T = any>(query: string, variables: Record<string, unknown>, as?: Identity): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (as && 'token' in as) headers.authorization = `Bearer ${as.token}`;
    if (as && 'caller' in as)
      Object.assign(headers, { [INTERNAL_TOKEN_HEADER]: this.internalToken }, identityHeaders(as.caller));
    const { status, body } = await this.call(`${this.urls.gateway}/graphql`, 'POST', headers, { query, variables });
    const answer = body as GraphQLAnswer<T> | undefined;
    const error = answer?.errors?.[0];
    if (error) {
      const code = error.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
      if (RULE_CODES.has(code)) throw new Refused(code, error.message);
      throw new Outage(`${code}: ${error.message}`);
    }
    if (status !== 200 || !answer?.data) throw new Outage(`gateway answered ${status}`);
    return answer.data;
  }

  /** A call to the sandbox (never killed): its Xendit API with the key, or its `/__sandbox` controls. */
  async sandbox<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const authorization = `Basic ${Buffer.from(`${this.xenditKey}:`).toString('base64')}`;
    const answer = await this.call(`${this.urls.sandbox}${path}`, method, { authorization }, body);
    if (answer.status >= 400)
      throw new Outage(`sandbox ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as T;
  }

  /** A subgraph's internal REST with the internal token; answers whatever it answered. */
  async internal(
    name: SubgraphName,
    method: string,
    path: string,
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<{ status: number; body: any }> {
    const headers = { [INTERNAL_TOKEN_HEADER]: this.internalToken };
    return this.call(`${this.urls.service(name)}${path}`, method, headers, undefined, timeoutMs);
  }

  /** A Xendit callback posted to the gateway as Xendit posts it (the sandbox's recorded body and headers). */
  async postCallback(path: string, body: unknown, headers: Record<string, string>, callbackToken: string) {
    return this.call(`${this.urls.gateway}${path}`, 'POST', { ...headers, 'x-callback-token': callbackToken }, body);
  }

  private async call(
    url: string,
    method: string,
    headers: Record<string, string>,
    body?: unknown,
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new Outage(`${method} ${url}: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  }
}

/** Error codes that are the system's rules answering (lib/errors.ts); anything else counts as an outage. */
const RULE_CODES = new Set(['BAD_USER_INPUT', 'CONFLICT', 'FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED']);

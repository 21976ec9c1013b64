import { z } from 'zod';
import { SUBGRAPHS, GATEWAY_PORT, SANDBOX_PORT, type SubgraphName, envPrefix } from './services';

/**
 * The one place that reads process.env. Every value has a working default for local development;
 * `PORT_OFFSET` shifts every default port so a test run can bring up a second stack beside `npm start`.
 * In production those defaults are refused (productionProblems below): a process started for real money
 * must be given its own secrets and the real providers' URLs.
 */
const schema = z.object({
  /**
   * Unset means production: a deployed process that forgot NODE_ENV must not run with the sandbox, dev
   * secrets, introspection or stack traces. The npm scripts set `development` explicitly.
   */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT_OFFSET: z.coerce.number().int().min(0).max(50000).default(0),
  PORT: z.coerce.number().int().positive().optional(),
  DATABASE_URL: z.string().url().optional(),
  DB_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and _')
    .default('groupbuy'),
  /**
   * Connections each process's pool may open. 5 × 14 subgraphs plus their LISTEN connections stays under
   * PostgreSQL's default max_connections of 100 (test/connection-budget.test.ts); raise it with the server's limit.
   */
  DB_POOL_MAX: z.coerce.number().int().min(2).max(100).default(5),
  /**
   * Whether a subgraph applies its pending migrations at start (under an advisory lock, so replicas migrate once).
   * `false` where `npm run migrate` runs as its own step first (docker-compose.yml, deploy/k8s): the process then
   * refuses to start while a migration is pending instead of running on an older schema.
   */
  MIGRATE_ON_START: z.enum(['true', 'false']).default('true'),
  EMBEDDED_PG_PORT: z.coerce.number().int().positive().default(5433),
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  INTERNAL_TOKEN: z.string().min(8).default('dev-internal-token-change-me'),
  JWT_SECRET: z.string().min(16).default('dev-jwt-secret-change-me-please-32b'),
  JWT_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 24 * 3600),
  /** How old the gateway's last complete read of auth's session feed may grow before it refuses Bearer tokens (fails closed). */
  SESSION_FEED_MAX_STALENESS_MS: z.coerce.number().int().positive().default(5000),
  XENDIT_SECRET_KEY: z.string().default('xnd_development_sandbox_key'),
  XENDIT_API_URL: z.string().url().optional(),
  XENDIT_CALLBACK_TOKEN: z.string().min(8).default('dev-xendit-callback-token'),
  WHATSAPP_API_URL: z.string().url().optional(),
  WHATSAPP_TOKEN: z.string().default('dev-whatsapp-token'),
  WHATSAPP_PHONE_NUMBER_ID: z.string().default('100000000000001'),
  PUBLIC_GATEWAY_URL: z.string().url().optional(),
  /** Where the sandbox delivers Xendit callbacks; the gateway's webhook shim by default. */
  XENDIT_WEBHOOK_BASE_URL: z.string().url().optional(),
  /** How long a sandbox payout stays ACCEPTED before it succeeds or fails and its callback goes out. */
  SANDBOX_PAYOUT_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  HTTP_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(2000),
  OUTBOX_RETRY_MS: z.coerce.number().int().positive().default(1000),
  /** How long an unpaid join or regular order holds its place or stock (minutes; decimals allowed, tests use 0.05). */
  UNPAID_HOLD_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(30),
  /** Unpaid regular orders one buyer may have at once; group-buying counts unpaid joins the same way. */
  MAX_UNPAID_ORDERS: z.coerce.number().int().positive().default(3),
  /** How often order and group-buying look for unpaid holds that ran out. */
  UNPAID_SWEEP_MS: z.coerce.number().int().positive().default(10_000),
  /** Participants per settlement step (bulk orders, invoice expiry, refunds) between claim renewals. */
  SETTLEMENT_CHUNK: z.coerce.number().int().min(1).max(1000).default(500),
  /** A session's settlement claim lapses this long after its last renewal, so a crashed holder's work is taken over. */
  SETTLEMENT_CLAIM_TTL_MS: z.coerce.number().int().positive().default(60_000),
  /** Longest wait before a session whose settlement keeps failing is tried again (doubling from 1 s). */
  SETTLEMENT_BACKOFF_MAX_MS: z.coerce.number().int().positive().default(300_000),
  /** How long an outbox delivery waits for its destination's answer before retrying later. */
  OUTBOX_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The longest pause between attempts to re-establish a lost LISTEN connection (backoff from 100 ms). */
  EVENTS_RECONNECT_MAX_MS: z.coerce.number().int().positive().default(5000),
  /** How often payment asks Xendit about refunds whose callback is overdue, and after how long it is overdue. */
  REFUND_RECONCILE_MS: z.coerce.number().int().positive().default(60_000),
  REFUND_CALLBACK_GRACE_MS: z.coerce.number().int().nonnegative().default(600_000),
  OTP_RATE_LIMIT_PER_PHONE: z.coerce.number().int().positive().default(5),
  OTP_RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().positive().default(120),
  OTP_RESEND_SECONDS: z.coerce.number().int().min(0).default(30),
  /** How long a one-time code stays valid (tests shorten it to reach the expiry path). */
  OTP_TTL_SECONDS: z.coerce.number().int().positive().default(300),
  /** Wrong codes a phone may enter in a day, across all its codes; then verify and request wait until the day is over. */
  OTP_MAX_FAILURES_PER_DAY: z.coerce.number().int().positive().default(10),
  /** Wrong codes a phone may enter before each further one makes it wait (OTP_FAILURE_BACKOFF_SECONDS, doubling). */
  OTP_FAILURES_BEFORE_BACKOFF: z.coerce.number().int().min(0).default(3),
  /** The first wait after OTP_FAILURES_BEFORE_BACKOFF wrong codes; each further wrong code doubles it. */
  OTP_FAILURE_BACKOFF_SECONDS: z.coerce.number().int().positive().default(30),
  /** The approved WhatsApp authentication template that carries the one-time code. */
  WHATSAPP_OTP_TEMPLATE: z.string().min(1).default('otp_login'),
  WHATSAPP_OTP_LANGUAGE: z.string().min(2).default('id'),
  MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(10),
  MAX_QUERY_COST: z.coerce.number().int().positive().default(20000),
  /** What the query cost charges for a list field without `first` (categories, variants, order items): its worst case. */
  MAX_LIST_SIZE: z.coerce.number().int().positive().default(100),
  /** Aliased fields per operation (aliases are how one request repeats a costly field). */
  MAX_ALIASES: z.coerce.number().int().positive().default(15),
  /** Lexical tokens per document; parsing stops there, before a huge document costs CPU. */
  MAX_TOKENS: z.coerce.number().int().positive().default(1000),
  /** Largest request body on HTTP and largest message on the WebSocket, in bytes (1 MiB at most). */
  MAX_REQUEST_BYTES: z.coerce.number().int().positive().max(1_048_576).default(1_048_576),
  /** Operations one WebSocket may have running at once (open subscriptions and queries in flight). */
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().positive().default(20),
  /** Open WebSockets per client address; more are refused at the upgrade with 429. */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().positive().default(50),
  /** How often the gateway re-checks the session behind each socket with open subscriptions (logout, expiry). */
  WS_SESSION_CHECK_MS: z.coerce.number().int().positive().default(1000),
  /**
   * Which proxies may name the client in X-Forwarded-For, as express's `trust proxy`: a hop count (`1` = the
   * peer is our load balancer) or addresses/subnets/`loopback`/`linklocal`/`uniquelocal`, comma-separated.
   * Unset: the socket's peer is the client and X-Forwarded-For is ignored.
   */
  TRUST_PROXY: z.string().optional(),
  /** Platform commission on each release to a factory, in basis points (300 = 3%), floored to whole rupiah. */
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(300),
  /** The smallest payout a factory may request (IDR). */
  MIN_PAYOUT_AMOUNT: z.coerce.number().int().positive().default(10_000),
  /** How often settlement asks Xendit about payouts whose callback is overdue, and after how long it is overdue. */
  PAYOUT_RECONCILE_MS: z.coerce.number().int().positive().default(60_000),
  PAYOUT_CALLBACK_GRACE_MS: z.coerce.number().int().nonnegative().default(600_000),
  /**
   * How often payment reconciles Xendit's invoices, refunds and payouts against the ledger (daily); each run covers
   * the interval before it, ending where callbacks and their overdue-callback sweeps may still be on their way.
   */
  RECONCILIATION_MS: z.coerce.number().int().positive().max(2_147_483_647).default(86_400_000),
  /** The approved WhatsApp utility template that carries a factory owner's notices (new order, session outcome, payout). */
  WHATSAPP_NOTICE_TEMPLATE: z.string().min(1).default('seller_notice'),
  /** The language code that template was approved in. */
  WHATSAPP_NOTICE_LANGUAGE: z.string().min(2).default('id'),
  /** Demo factories, catalog and stock; unset means `true`, except in production, where it is `false` and `true` is refused. */
  SEED_DEMO_DATA: z.enum(['true', 'false']).optional(),
});

export type Env = Omit<z.infer<typeof schema>, 'SEED_DEMO_DATA'> & { SEED_DEMO_DATA: 'true' | 'false' };

export interface Config extends Env {
  /** The port this process listens on when it is the named subgraph. */
  portOf(name: SubgraphName): number;
  serviceUrl(name: SubgraphName): string;
  /** `<NAME>_DATABASE_URL`: the subgraph's own database, already created (a managed PostgreSQL); else unset. */
  ownDatabaseUrl(name: SubgraphName): string | undefined;
  gatewayPort: number;
  gatewayUrl: string;
  sandboxPort: number;
  sandboxUrl: string;
  xenditApiUrl: string;
  whatsappApiUrl: string;
  xenditWebhookBaseUrl: string;
  env: Record<string, string | undefined>;
}

/** A configuration a process must not start with: one line per offending variable, `NAME: why`. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * `databaseOnly`: for a process that only migrates (scripts/migrate.ts). It holds no secret and calls no
 * provider, so production's rules for those do not apply; its database settings are checked all the same.
 */
export function loadConfig(
  rawEnv: Record<string, string | undefined> = process.env,
  options: { databaseOnly?: boolean } = {},
): Config {
  // A blank variable is an unset one (docker compose passes `${VAR}` of an unset VAR as ""), so it gets the
  // default in development and "not set" in production rather than a confusing validation message.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(env);
  const problems = new Map<string, string>();
  for (const issue of parsed.error?.issues ?? []) {
    const name = issue.path.join('.');
    if (!problems.has(name)) problems.set(name, `${name}: ${issue.message}`);
  }
  for (const name of Object.keys(SUBGRAPHS) as SubgraphName[]) {
    const variable = databaseUrlVariable(name);
    if (env[variable] !== undefined && !URL.canParse(env[variable])) problems.set(variable, `${variable}: Invalid url`);
  }
  const production = (parsed.data?.NODE_ENV ?? env.NODE_ENV ?? 'production') === 'production';
  const offset = parsed.data?.PORT_OFFSET ?? 0;
  const sandboxPort = SANDBOX_PORT + offset;
  const sandboxUrl = env.SANDBOX_URL ?? `http://localhost:${sandboxPort}`;
  if (production && !options.databaseOnly) {
    for (const [name, problem] of productionProblems(env, { sandboxUrl, sandboxPort })) {
      if (!problems.has(name)) problems.set(name, `${name}: ${problem}`);
    }
  }
  if (!parsed.success || problems.size > 0) throw new ConfigError([...problems.values()]);
  const values = parsed.data;
  const portOf = (name: SubgraphName) => SUBGRAPHS[name] + offset;
  const gatewayPort = GATEWAY_PORT + offset;
  const gatewayUrl = values.PUBLIC_GATEWAY_URL ?? `http://localhost:${gatewayPort}`;
  return {
    ...values,
    SEED_DEMO_DATA: values.SEED_DEMO_DATA ?? (production ? 'false' : 'true'),
    portOf,
    serviceUrl: (name) => env[`${envPrefix(name)}_SERVICE_URL`] ?? `http://localhost:${portOf(name)}`,
    ownDatabaseUrl: (name) => env[databaseUrlVariable(name)],
    gatewayPort,
    gatewayUrl,
    sandboxPort,
    sandboxUrl,
    xenditApiUrl: (values.XENDIT_API_URL ?? sandboxUrl).replace(/\/+$/, ''),
    whatsappApiUrl: (values.WHATSAPP_API_URL ?? sandboxUrl).replace(/\/+$/, ''),
    xenditWebhookBaseUrl: (values.XENDIT_WEBHOOK_BASE_URL ?? gatewayUrl).replace(/\/+$/, ''),
    env,
  };
}

/** `order` → `ORDER_DATABASE_URL`: a subgraph's own database, used as it is instead of `DATABASE_URL` + prefix. */
export function databaseUrlVariable(name: SubgraphName): string {
  return `${envPrefix(name)}_DATABASE_URL`;
}

/** Secrets production must be given: not a development value, and at least MIN_SECRET_LENGTH characters. */
export const PRODUCTION_SECRETS = [
  'INTERNAL_TOKEN',
  'JWT_SECRET',
  'XENDIT_CALLBACK_TOKEN',
  'XENDIT_SECRET_KEY',
  'WHATSAPP_TOKEN',
] as const;
export const MIN_SECRET_LENGTH = 32;
/**
 * How a development or test value starts: the defaults above and the values in docker-compose.dev.yml,
 * the tests and the benchmarks all do. `xnd_development_` is Xendit's own prefix for test-mode keys.
 */
export const DEVELOPMENT_MARKERS = [
  'dev-',
  'dev_',
  'test-',
  'test_',
  'bench-',
  'change-me',
  'changeme',
  'xnd_development_',
];
/** The real providers, which production must name explicitly (unset means the local sandbox). */
export const PROVIDER_URLS = {
  XENDIT_API_URL: 'https://api.xendit.co',
  WHATSAPP_API_URL: 'https://graph.facebook.com',
} as const;
/** Hosts that mean this machine, or the sandbox's service in docker-compose.dev.yml. */
const SANDBOX_HOSTS = ['localhost', '127.0.0.1', '[::1]', '0.0.0.0', 'sandbox'];

/** Settings that are neither secrets nor provider URLs but have no usable default in production. */
export const PRODUCTION_SETTINGS = ['WHATSAPP_PHONE_NUMBER_ID'] as const;

/**
 * What production refuses, as [variable, why] pairs: secrets left at a development value or too short,
 * Xendit and WhatsApp left at (or pointed at) the local sandbox, and demo data.
 */
export function productionProblems(
  env: Record<string, string | undefined>,
  sandbox: { sandboxUrl: string; sandboxPort: number },
): [string, string][] {
  const problems: [string, string][] = [];
  for (const name of PRODUCTION_SECRETS) {
    const value = env[name];
    const fallback = schema.shape[name].parse(undefined);
    if (value === undefined)
      problems.push([name, `not set; production needs its own secret of at least ${MIN_SECRET_LENGTH} characters`]);
    else if (value === fallback || DEVELOPMENT_MARKERS.some((marker) => value.toLowerCase().startsWith(marker))) {
      problems.push([name, `is a development value (a default, or starting with ${DEVELOPMENT_MARKERS.join(', ')})`]);
    } else if (value.length < MIN_SECRET_LENGTH)
      problems.push([name, `is shorter than ${MIN_SECRET_LENGTH} characters`]);
  }
  for (const [name, example] of Object.entries(PROVIDER_URLS)) {
    const value = env[name];
    if (value === undefined) {
      problems.push([name, `not set, which means the local sandbox; production needs the real one (${example})`]);
      continue;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue; // the schema already reports it
    }
    const sandboxHost = URL.canParse(sandbox.sandboxUrl) ? new URL(sandbox.sandboxUrl).host : undefined;
    if (
      SANDBOX_HOSTS.includes(url.hostname) ||
      url.hostname.startsWith('127.') ||
      url.host === sandboxHost ||
      url.port === String(sandbox.sandboxPort)
    ) {
      problems.push([
        name,
        `points at the local sandbox or this machine (${value}); production needs the real one (${example})`,
      ]);
    } else if (url.protocol !== 'https:') problems.push([name, `must be an https URL (${example})`]);
  }
  // Left at its default, messages would go out from the sandbox's made-up sender number and reach no buyer.
  for (const name of PRODUCTION_SETTINGS) {
    if (env[name] === undefined || env[name] === schema.shape[name].parse(undefined))
      problems.push([name, 'not set; production needs its own value (the WhatsApp Business sender number id)']);
  }
  if (env.SEED_DEMO_DATA === 'true')
    problems.push(['SEED_DEMO_DATA', 'demo factories and products must not be seeded in production']);
  return problems;
}

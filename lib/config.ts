import { z } from 'zod';
import { SUBGRAPHS, GATEWAY_PORT, SANDBOX_PORT, SubgraphName, envPrefix } from './services';

/**
 * The one place that reads process.env. Every value has a working default for local development;
 * `PORT_OFFSET` shifts every default port so a test run can bring up a second stack beside `npm start`.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT_OFFSET: z.coerce.number().int().min(0).max(50000).default(0),
  PORT: z.coerce.number().int().positive().optional(),
  DATABASE_URL: z.string().url().optional(),
  DB_PREFIX: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and _').default('groupbuy'),
  EMBEDDED_PG_PORT: z.coerce.number().int().positive().default(5433),
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  INTERNAL_TOKEN: z.string().min(8).default('dev-internal-token-change-me'),
  JWT_SECRET: z.string().min(16).default('dev-jwt-secret-change-me-please-32b'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
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
  HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  HTTP_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(2000),
  OUTBOX_RETRY_MS: z.coerce.number().int().positive().default(1000),
  /** How long an unpaid join or regular order holds its place or stock (minutes; decimals allowed, tests use 0.05). */
  UNPAID_HOLD_MINUTES: z.coerce.number().positive().max(7 * 24 * 60).default(30),
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
  SEED_DEMO_DATA: z.enum(['true', 'false']).default('true'),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Env {
  /** The port this process listens on when it is the named subgraph. */
  portOf(name: SubgraphName): number;
  serviceUrl(name: SubgraphName): string;
  gatewayPort: number;
  gatewayUrl: string;
  sandboxPort: number;
  sandboxUrl: string;
  xenditApiUrl: string;
  whatsappApiUrl: string;
  xenditWebhookBaseUrl: string;
  env: Record<string, string | undefined>;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const values = parsed.data;
  const offset = values.PORT_OFFSET;
  const portOf = (name: SubgraphName) => SUBGRAPHS[name] + offset;
  const gatewayPort = GATEWAY_PORT + offset;
  const sandboxPort = SANDBOX_PORT + offset;
  const sandboxUrl = env.SANDBOX_URL ?? `http://localhost:${sandboxPort}`;
  const gatewayUrl = values.PUBLIC_GATEWAY_URL ?? `http://localhost:${gatewayPort}`;
  return {
    ...values,
    portOf,
    serviceUrl: (name) => env[`${envPrefix(name)}_SERVICE_URL`] ?? `http://localhost:${portOf(name)}`,
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

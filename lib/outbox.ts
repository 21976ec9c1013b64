import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type express from 'express';
import { newId, isId } from './ids';
import type { SubgraphName } from './services';
import type { SubgraphDeps, BackgroundTask } from './subgraph-server';
import { conflict, notFound } from './errors';
import { answerStatusOf } from './internal-client';
import { EventListener, publishOnCommit } from './events';
import { route } from './rest';
import { inSpanOf, traceCarrier, type TraceCarrier } from './telemetry';
import { withRequestId } from './logger';
import { outboxBacklog, outboxDeadLetters, outboxDeliveries, outboxOldestAge } from './metrics';

/**
 * A call to another service that must happen after this transaction commits, even if the callee is
 * down right now (notifications, role changes, status callbacks). Written in the same transaction as
 * the state change; a worker delivers it with retry. Callees are idempotent per `dedupeKey`.
 */
@Entity({ tableName: 'outbox' })
@Index({ properties: ['deliveredAt', 'nextAttemptAt'] })
@Index({
  name: 'outbox_due_index',
  expression:
    'create index "outbox_due_index" on "outbox" ("service", "next_attempt_at") where "delivered_at" is null and "dead_at" is null',
})
@Index({
  name: 'outbox_dead_index',
  expression: 'create index "outbox_dead_index" on "outbox" ("dead_at") where "dead_at" is not null',
})
export class OutboxMessage {
  [OptionalProps]?:
    | 'attempts'
    | 'createdAt'
    | 'nextAttemptAt'
    | 'deliveredAt'
    | 'lastError'
    | 'lastStatus'
    | 'deadAt'
    | 'claimedUntil'
    | 'traceContext';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  /** Business key; enqueuing the same key twice keeps one message. */
  @Property({ type: 'string', length: 200, unique: true })
  dedupeKey!: string;

  @Property({ type: 'string', length: 40 })
  service!: SubgraphName;

  @Property({ type: 'string', length: 200 })
  path!: string;

  @Property({ type: 'json' })
  body!: Record<string, unknown>;

  @Property({ type: 'integer' })
  attempts: number = 0;

  @Property({ type: 'datetime' })
  nextAttemptAt: Date = new Date();

  /** A worker is delivering it until then; a crashed worker's claim lapses. */
  @Property({ type: 'datetime', nullable: true })
  claimedUntil?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;

  /** A dead letter: the callee refused it (400, 409, 422), so retrying as is would not help. */
  @Property({ type: 'datetime', nullable: true })
  deadAt?: Date | null;

  /** The callee's HTTP status at the last attempt; null when it gave no answer. */
  @Property({ type: 'integer', nullable: true })
  lastStatus?: number | null;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  /** The request id and W3C trace context of the work that wrote it: its delivery continues that trace. */
  @Property({ type: 'json', nullable: true })
  traceContext?: TraceCarrier | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}

/**
 * The dead-letter columns, for the migration of every subgraph with an outbox (one copy of the SQL).
 * Messages the old rule gave up on (any 4xx) become dead letters an operator can retry.
 */
export const outboxDeadLettersSql = {
  up: [
    `alter table "outbox" rename column "failed_at" to "dead_at";`,
    `alter table "outbox" add column "claimed_until" timestamptz null, add column "last_status" int null;`,
    `create index "outbox_due_index" on "outbox" ("service", "next_attempt_at") where "delivered_at" is null and "dead_at" is null;`,
    `create index "outbox_dead_index" on "outbox" ("dead_at") where "dead_at" is not null;`,
  ],
  down: [
    `drop index if exists "outbox_dead_index";`,
    `drop index if exists "outbox_due_index";`,
    `alter table "outbox" drop column "claimed_until", drop column "last_status";`,
    `alter table "outbox" rename column "dead_at" to "failed_at";`,
  ],
};

/** The trace-context column, for the migration of every subgraph with an outbox. */
export const outboxTraceContextSql = {
  up: [`alter table "outbox" add column "trace_context" jsonb null;`],
  down: [`alter table "outbox" drop column "trace_context";`],
};

/** Adds a message in the caller's transaction (call inside `em.transactional`); not sent before `notBefore`. */
export async function enqueue(
  em: EntityManager,
  message: { dedupeKey: string; service: SubgraphName; path: string; body: Record<string, unknown> },
  notBefore: Date = new Date(),
): Promise<void> {
  await em
    .createQueryBuilder(OutboxMessage)
    .insert({
      id: newId(),
      ...message,
      body: message.body,
      attempts: 0,
      nextAttemptAt: notBefore,
      createdAt: new Date(),
      traceContext: traceCarrier(),
    })
    .onConflict('dedupe_key')
    .ignore()
    .execute();
  // Wakes the workers the moment this transaction commits, instead of at their next poll.
  await publishOnCommit(em, OUTBOX_CHANNEL, {});
}

const OUTBOX_CHANNEL = 'outbox_enqueued';

/**
 * The callee's answers that end a message's retries: it understood the call and refused it. Anything else
 * (no answer, 5xx, 404 from a callee not yet deployed, 401/403 while tokens rotate, 429) is retried.
 */
const TERMINAL_STATUSES = new Set([400, 409, 422]);

/** Messages one lane claims at a time; the claim lasts long enough to deliver them all one by one. */
const BATCH_SIZE = 10;
const MAX_BACKOFF_MS = 30_000;

export interface OutboxWorkerOptions {
  /** How often due messages are looked for besides the wake-ups (retries after backoff, lost wake-ups). */
  intervalMs?: number;
  /**
   * Runs in the transaction that records a delivery, once per message: the sender's follow-up of a call
   * whose success it must know (payment completes a wallet refund when the wallet took the credit).
   */
  onDelivered?: (tx: EntityManager, message: OutboxMessage) => Promise<void>;
}

/**
 * Delivers pending messages with one lane per destination service, so a slow or down service delays
 * only its own messages. A lane claims a batch (`claimed_until`, FOR UPDATE SKIP LOCKED, committed at
 * once), delivers each message in order of creation outside any transaction, and records each result in
 * its own short statement: delivered; retried with exponential backoff (cap 30 s); or, on 400/409/422,
 * a dead letter, logged at error, that an operator lists and retries (`mountDeadLetters`).
 */
export function startOutboxWorker(
  deps: SubgraphDeps,
  options: OutboxWorkerOptions = {},
): BackgroundTask & { flush(): Promise<void> } {
  const intervalMs = options.intervalMs ?? deps.config.OUTBOX_RETRY_MS;
  const timeoutMs = deps.config.OUTBOX_TIMEOUT_MS;
  const leaseMs = BATCH_SIZE * timeoutMs + 5000;
  const lanes = new Map<SubgraphName, Promise<void>>();
  // A wake-up while a lane runs asks it for one more pass: the message may have committed after its last claim.
  const again = new Set<SubgraphName>();
  const claimedHere = new Set<string>();
  const troubled = new Map<SubgraphName, { failures: number; until: number }>();
  let stopped = false;

  const claim = async (service: SubgraphName): Promise<OutboxMessage[]> => {
    const em = deps.orm.em.fork();
    const rows = await em.execute(
      `update outbox set claimed_until = now() + ? * interval '1 millisecond'
        where id in (select id from outbox
                      where service = ? and delivered_at is null and dead_at is null and next_attempt_at <= now()
                        and (claimed_until is null or claimed_until < now())
                      order by created_at, id limit ? for update skip locked)
        returning *`,
      [leaseMs, service, BATCH_SIZE],
    );
    return rows
      .map((row) => em.map(OutboxMessage, row))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  };

  const recordDelivered = async (message: OutboxMessage): Promise<void> => {
    await deps.orm.em.fork().transactional(async (tx) => {
      const rows = await tx.execute(
        `update outbox set delivered_at = now(), claimed_until = null, attempts = attempts + 1, last_status = null, last_error = null
          where id = ? and delivered_at is null returning id`,
        [message.id],
      );
      // Another worker whose claim outlived ours delivered it too (the callee deduplicates): one follow-up.
      if (rows.length && options.onDelivered) await options.onDelivered(tx, message);
    });
  };

  const recordFailure = async (message: OutboxMessage, error: unknown): Promise<void> => {
    const status = answerStatusOf(error) ?? null;
    const answer = error instanceof Error ? error.message : String(error);
    const attempts = message.attempts + 1;
    const where = {
      messageId: message.id,
      dedupeKey: message.dedupeKey,
      service: message.service,
      path: message.path,
      status,
      answer,
      attempts,
    };
    if (status !== null && TERMINAL_STATUSES.has(status)) {
      await deps.orm.em.fork().execute(
        `update outbox set dead_at = now(), claimed_until = null, attempts = attempts + 1, last_status = ?, last_error = ?
          where id = ? and delivered_at is null`,
        [status, answer, message.id],
      );
      deps.logger.error(where, 'outbox message refused by its destination: dead letter (GET /internal/outbox/dead)');
      outboxDeliveries.inc({ destination: message.service, outcome: 'dead' });
      return;
    }
    const backoffMs = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempts);
    await deps.orm.em.fork().execute(
      `update outbox set attempts = attempts + 1, next_attempt_at = now() + ? * interval '1 millisecond', claimed_until = null,
          last_status = ?, last_error = ?
        where id = ? and delivered_at is null`,
      [backoffMs, status, answer, message.id],
    );
    deps.logger.warn({ ...where, retryInMs: backoffMs }, 'outbox delivery failed; will retry');
    outboxDeliveries.inc({ destination: message.service, outcome: 'retry' });
  };

  /** Delivers one message and records the outcome; false when the destination is in trouble (no answer, 5xx, 408, 429). */
  const deliver = async (message: OutboxMessage): Promise<boolean> => {
    try {
      // Under the request id and in the trace of the work that wrote the message.
      await withRequestId(message.traceContext?.requestId, () =>
        inSpanOf(
          message.traceContext,
          `outbox deliver ${message.service}`,
          {
            'outbox.destination': message.service,
            'outbox.path': message.path,
            'outbox.attempt': message.attempts + 1,
          },
          () => deps.client.post(message.service, message.path, message.body, { retries: 0, timeoutMs }),
        ),
      );
    } catch (error) {
      await recordFailure(message, error);
      const status = answerStatusOf(error);
      return status !== undefined && status < 500 && status !== 408 && status !== 429;
    }
    try {
      await recordDelivered(message);
      outboxDeliveries.inc({ destination: message.service, outcome: 'delivered' });
    } catch (error) {
      deps.logger.error(
        {
          err: error,
          messageId: message.id,
          dedupeKey: message.dedupeKey,
          service: message.service,
          path: message.path,
        },
        'outbox message delivered but recording it (or its follow-up) failed; it will be delivered again',
      );
      await recordFailure(message, error);
    }
    return true;
  };

  /** A claimed message this worker will not get to goes back at once, not when the claim lapses. */
  const unclaim = async (ids: string[]) => {
    if (ids.length)
      await deps.orm.em
        .fork()
        .execute('update outbox set claimed_until = null where id in (?) and delivered_at is null', [ids]);
  };

  const runLane = async (service: SubgraphName): Promise<void> => {
    while (!stopped) {
      const batch = await claim(service);
      if (!batch.length) return;
      batch.forEach((message) => claimedHere.add(message.id));
      for (const [index, message] of batch.entries()) {
        if (stopped) return;
        const healthy = await deliver(message);
        claimedHere.delete(message.id);
        if (healthy) {
          troubled.delete(service);
          continue;
        }
        // The destination is down or struggling: the lane pauses (backing off like a message) instead of
        // spending a timeout and a log line on every message behind this one.
        const failures = (troubled.get(service)?.failures ?? 0) + 1;
        troubled.set(service, { failures, until: Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures) });
        const rest = batch.slice(index + 1).map((next) => next.id);
        rest.forEach((id) => claimedHere.delete(id));
        await unclaim(rest);
        return;
      }
    }
  };

  const startLane = (service: SubgraphName): Promise<void> => {
    if ((troubled.get(service)?.until ?? 0) > Date.now()) return Promise.resolve();
    const running = lanes.get(service);
    if (running) {
      again.add(service);
      return running;
    }
    const lane = runLane(service)
      .catch((error) => deps.logger.error({ err: error, service }, 'outbox lane failed; the next poll retries'))
      .finally(() => {
        lanes.delete(service);
        if (again.delete(service) && !stopped) void startLane(service);
      });
    lanes.set(service, lane);
    return lane;
  };

  const dueServices = async (): Promise<SubgraphName[]> => {
    const rows: { service: SubgraphName }[] = await deps.orm.em.fork().execute(
      `select distinct service from outbox
        where delivered_at is null and dead_at is null and next_attempt_at <= now() and (claimed_until is null or claimed_until < now())`,
    );
    return rows.map((row) => row.service);
  };

  /** Starts a lane for every destination with due messages; resolves when those lanes are idle. */
  const flush = async (): Promise<void> => {
    if (stopped) return;
    await Promise.all((await dueServices()).map(startLane));
  };
  const deliverSoon = () => {
    flush().catch((error) => deps.logger.error({ err: error }, 'outbox worker failed'));
  };

  const wakeUps = new EventListener(
    deps.databaseUrl,
    [OUTBOX_CHANNEL],
    deps.logger,
    deps.config.EVENTS_RECONNECT_MAX_MS,
  );
  void wakeUps.start().then(
    () => {
      // The listener is registered at once; the promise only carries the subscription id.
      void wakeUps.pubsub.subscribe(OUTBOX_CHANNEL, deliverSoon);
      // Wake-ups sent while the listener was reconnecting are lost: look for due messages at once.
      wakeUps.onResync(deliverSoon);
    },
    (error) => deps.logger.warn({ err: error }, 'outbox wake-ups unavailable; polling only'),
  );
  // Polling retries failed deliveries after their backoff, and covers wake-ups lost before a reconnect.
  const timer = setInterval(deliverSoon, intervalMs);
  timer.unref();
  deliverSoon();
  return {
    flush,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await wakeUps.stop();
      await Promise.all(lanes.values());
      await unclaim([...claimedHere]).catch(() => undefined);
    },
  };
}

/**
 * The outbox gauges (backlog, oldest undelivered age, dead letters per destination), read from the table when
 * scraped, on a connection of its own so a scrape is not counted in sql_statements_total; answers the unwatch.
 * The age counts from when a message was due: one enqueued for later (`notBefore`) is not late before then.
 */
export function watchOutbox(deps: SubgraphDeps): () => void {
  type Row = { service: string; backlog: number; dead: number; age: number | null };
  let pending: Promise<Row[]> | undefined;
  // One query serves the three gauges of a scrape.
  const read = () =>
    (pending ??= (async () => {
      const knex = deps.orm.em.getConnection().getKnex();
      const connection = await knex.client.acquireConnection();
      try {
        const { rows } = (await connection.query(
          `select service, count(*) filter (where dead_at is null)::int as backlog,
                  count(*) filter (where dead_at is not null)::int as dead,
                  extract(epoch from now() - min(case when attempts = 0 then next_attempt_at else created_at end)
                    filter (where dead_at is null and (attempts > 0 or next_attempt_at <= now())))::float8 as age
             from outbox where delivered_at is null group by service`,
        )) as { rows: Row[] };
        return rows;
      } finally {
        await knex.client.releaseConnection(connection);
      }
    })().finally(() => setImmediate(() => (pending = undefined))));
  const unwatch = [
    outboxBacklog.add(async () => (await read()).map((row) => [{ destination: row.service }, row.backlog])),
    outboxDeadLetters.add(async () => (await read()).map((row) => [{ destination: row.service }, row.dead])),
    outboxOldestAge.add(async () =>
      (await read()).filter((row) => row.age !== null).map((row) => [{ destination: row.service }, row.age!]),
    ),
  ];
  return () => unwatch.forEach((stop) => stop());
}

/** What operators see of a dead letter. */
export interface DeadLetterView {
  id: string;
  dedupeKey: string;
  service: string;
  path: string;
  body: Record<string, unknown>;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
}

const deadLetterView = (message: OutboxMessage): DeadLetterView => ({
  id: message.id,
  dedupeKey: message.dedupeKey,
  service: message.service,
  path: message.path,
  body: message.body,
  attempts: message.attempts,
  lastStatus: message.lastStatus ?? null,
  lastError: message.lastError ?? null,
  createdAt: message.createdAt.toISOString(),
  deadAt: message.deadAt!.toISOString(),
});

/**
 * Operators' view of the dead letters (behind the internal token like every subgraph route):
 * `GET /internal/outbox/dead` lists them newest first; `POST /internal/outbox/dead/:id/retry` sends one
 * again (after the cause was fixed), waking the workers; 404 for an unknown id, 409 when it is not dead.
 */
export function mountDeadLetters(app: express.Express, deps: SubgraphDeps): void {
  app.get(
    '/internal/outbox/dead',
    route(async () => {
      const dead = await deps.orm.em
        .fork()
        .find(
          OutboxMessage,
          { deadAt: { $ne: null }, deliveredAt: null },
          { orderBy: { deadAt: 'desc', id: 'desc' }, limit: 500 },
        );
      return { deadLetters: dead.map(deadLetterView) };
    }),
  );
  app.post(
    '/internal/outbox/dead/:id/retry',
    route(async (req) => {
      const id = String(req.params.id);
      if (!isId(id)) throw notFound('No outbox message with this id');
      return deps.orm.em.fork().transactional(async (tx) => {
        const rows = await tx.execute(
          `update outbox set dead_at = null, next_attempt_at = now(), claimed_until = null
            where id = ? and dead_at is not null and delivered_at is null returning id`,
          [id],
        );
        if (!rows.length) {
          const message = await tx.findOne(OutboxMessage, { id });
          if (!message) throw notFound('No outbox message with this id');
          throw conflict(
            `This message is not a dead letter (${message.deliveredAt ? 'delivered' : 'pending delivery'})`,
          );
        }
        deps.logger.warn({ messageId: id }, 'dead letter requeued by an operator');
        await publishOnCommit(tx, OUTBOX_CHANNEL, {});
        return { id, status: 'PENDING' };
      });
    }),
  );
}

import { Entity, Index, LockMode, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from './ids';
import type { SubgraphName } from './services';
import type { SubgraphDeps, BackgroundTask } from './subgraph-server';
import { isAppError } from './errors';
import { EventListener, publishOnCommit } from './events';

/**
 * A call to another service that must happen after this transaction commits, even if the callee is
 * down right now (notifications, role changes, status callbacks). Written in the same transaction as
 * the state change; a worker delivers it with retry. Callees are idempotent per `dedupeKey`.
 */
@Entity({ tableName: 'outbox' })
@Index({ properties: ['deliveredAt', 'nextAttemptAt'] })
export class OutboxMessage {
  [OptionalProps]?: 'attempts' | 'createdAt' | 'nextAttemptAt' | 'deliveredAt' | 'lastError' | 'failedAt';

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

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;

  /** Set when the callee refused the message (4xx): retrying would not help. */
  @Property({ type: 'datetime', nullable: true })
  failedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}

/** Adds a message in the caller's transaction (call inside `em.transactional`); not sent before `notBefore`. */
export async function enqueue(
  em: EntityManager,
  message: { dedupeKey: string; service: SubgraphName; path: string; body: Record<string, unknown> },
  notBefore: Date = new Date(),
): Promise<void> {
  await em
    .createQueryBuilder(OutboxMessage)
    .insert({ id: newId(), ...message, body: message.body, attempts: 0, nextAttemptAt: notBefore, createdAt: new Date() })
    .onConflict('dedupe_key')
    .ignore()
    .execute();
  // Wakes the workers the moment this transaction commits, instead of at their next poll.
  await publishOnCommit(em, OUTBOX_CHANNEL, {});
}

const OUTBOX_CHANNEL = 'outbox_enqueued';

/**
 * Delivers pending messages in order of creation. Each batch is claimed with FOR UPDATE SKIP LOCKED so
 * replicas never deliver the same message at once; a failed delivery backs off exponentially (cap 30 s).
 */
export function startOutboxWorker(deps: SubgraphDeps, intervalMs = deps.config.OUTBOX_RETRY_MS): BackgroundTask & { flush(): Promise<number> } {
  let running: Promise<number> | undefined;
  let stopped = false;

  const deliverBatch = async (): Promise<number> => {
    const em = deps.orm.em.fork();
    return em.transactional(async (tx) => {
      const due = await tx.find(
        OutboxMessage,
        { deliveredAt: null, failedAt: null, nextAttemptAt: { $lte: new Date() } },
        { orderBy: { createdAt: 'asc', id: 'asc' }, limit: 50, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      let delivered = 0;
      for (const message of due) {
        try {
          await deps.client.post(message.service, message.path, message.body, { retries: 0, timeoutMs: 5000 });
          message.deliveredAt = new Date();
          delivered += 1;
        } catch (error) {
          message.attempts += 1;
          message.lastError = error instanceof Error ? error.message : String(error);
          if (isAppError(error)) message.failedAt = new Date();
          else message.nextAttemptAt = new Date(Date.now() + Math.min(30_000, 250 * 2 ** message.attempts));
          deps.logger.warn({ service: message.service, path: message.path, attempts: message.attempts, err: message.lastError }, 'outbox delivery failed');
        }
      }
      return delivered;
    });
  };

  // A wake-up during a run asks for one more run: the message may have committed after the batch query.
  let again = false;
  const flush = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = deliverBatch().finally(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        void flush().catch((error) => deps.logger.error({ err: error }, 'outbox worker failed'));
      }
    });
    return running;
  };
  const deliverSoon = () => {
    if (!stopped) flush().catch((error) => deps.logger.error({ err: error }, 'outbox worker failed'));
  };
  const wakeUps = new EventListener(deps.databaseUrl, [OUTBOX_CHANNEL], deps.logger);
  void wakeUps.start().then(
    () => wakeUps.pubsub.subscribe(OUTBOX_CHANNEL, deliverSoon),
    (error) => deps.logger.warn({ err: error }, 'outbox wake-ups unavailable; polling only'),
  );
  // Polling still retries failed deliveries after their backoff, and covers a lost listener connection.
  const timer = setInterval(deliverSoon, intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await wakeUps.stop();
      await running?.catch(() => undefined);
    },
  };
}

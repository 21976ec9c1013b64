import { Client } from 'pg';
import { PubSub } from 'graphql-subscriptions';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Logger } from './logger';
import { BackgroundTask } from './subgraph-server';

/**
 * Domain events over PostgreSQL LISTEN/NOTIFY: `publishOnCommit` runs inside the transaction that
 * makes the change, so the event goes out only if it commits, and every replica listening on the
 * database sees it (DESIGN.md §6).
 */
export async function publishOnCommit(em: EntityManager, channel: string, payload: Record<string, unknown>): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [channel, JSON.stringify(payload)]);
}

/** Listens on channels of one database and republishes each event to in-process subscribers. */
export class EventListener implements BackgroundTask {
  readonly pubsub = new PubSub<Record<string, Record<string, unknown>>>();
  private client?: Client;
  private stopped = false;

  constructor(private readonly databaseUrl: string, private readonly channels: string[], private readonly logger: Logger) {}

  async start(): Promise<this> {
    await this.connect();
    return this;
  }

  subscribe(channel: string): AsyncIterableIterator<Record<string, unknown>> {
    return this.pubsub.asyncIterableIterator(channel);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', (message) => {
      if (!message.payload) return;
      try {
        void this.pubsub.publish(message.channel, JSON.parse(message.payload));
      } catch (error) {
        this.logger.warn({ err: error, channel: message.channel }, 'dropping an unreadable event');
      }
    });
    // A lost connection loses events until it is back; reconnect quickly.
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'event listener connection lost; reconnecting');
      void client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.connect().catch(() => undefined), 500);
    });
    await client.connect();
    for (const channel of this.channels) await client.query(`LISTEN "${channel}"`);
    this.client = client;
  }
}

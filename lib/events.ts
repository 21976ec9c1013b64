import { Client } from 'pg';
import { PubSub } from 'graphql-subscriptions';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger';
import { eventListenerReconnects } from './metrics';
import type { BackgroundTask } from './subgraph-server';

type Event = Record<string, unknown>;

/**
 * Domain events over PostgreSQL LISTEN/NOTIFY: `publishOnCommit` runs inside the transaction that
 * makes the change, so the event goes out only if it commits, and every replica listening on the
 * database sees it (DESIGN.md §6).
 */
export async function publishOnCommit(
  em: EntityManager,
  channel: string,
  payload: Record<string, unknown>,
): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [channel, JSON.stringify(payload)]);
}

/**
 * Listens on channels of one database and republishes each event to in-process subscribers. NOTIFY is
 * not queued for an absent listener, so a lost connection loses events: it is re-established with
 * backoff (100 ms doubling up to `reconnectMaxMs`, for as long as it takes), and once LISTEN is back
 * every `onResync` listener is told, so it re-reads the state it follows instead of going quiet.
 */
export class EventListener implements BackgroundTask {
  readonly pubsub = new PubSub<Record<string, Event>>();
  private client?: Client;
  private stopped = false;
  private readonly resyncListeners = new Set<() => void>();
  private wakeReconnect?: () => void;
  private resyncChannels = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly channels: string[],
    private readonly logger: Logger,
    private readonly reconnectMaxMs = 5000,
  ) {}

  async start(): Promise<this> {
    this.client = await this.connect();
    return this;
  }

  /**
   * The events of one channel. With `resync`, a reconnect also yields what `resync` reads (the current
   * state the missed events would have brought), unless it answers null.
   */
  subscribe(channel: string, resync?: () => Promise<Event | null>): AsyncIterableIterator<Event> {
    if (!resync) return this.pubsub.asyncIterableIterator(channel);
    const ownChannel = `${channel}#resync#${++this.resyncChannels}`;
    const iterator = this.pubsub.asyncIterableIterator<Event>([channel, ownChannel]);
    const unsubscribe = this.onResync(() => {
      resync().then(
        (event) => (event ? this.pubsub.publish(ownChannel, event) : undefined),
        (error) =>
          this.logger.warn({ err: error, channel }, 'could not re-read state after an event listener reconnect'),
      );
    });
    const close = iterator.return.bind(iterator);
    iterator.return = () => {
      unsubscribe();
      return close();
    };
    return iterator;
  }

  /** Calls `listener` after each reconnect: events sent while the connection was down are lost. */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeReconnect?.();
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    // Keep-alive makes a silently dropped connection fail instead of hanging for ever.
    const client = new Client({ connectionString: this.databaseUrl, keepAlive: true });
    client.on('notification', (message) => {
      if (!message.payload) return;
      try {
        void this.pubsub.publish(message.channel, JSON.parse(message.payload));
      } catch (error) {
        this.logger.warn({ err: error, channel: message.channel }, 'dropping an unreadable event');
      }
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  /** Both `error` and `end` arrive for one loss; only the current connection's first one counts. */
  private lost(client: Client, error?: unknown): void {
    if (this.stopped || client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.logger.warn({ err: error, channels: this.channels }, 'event listener connection lost; reconnecting');
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt += 1) {
      const delayMs = Math.min(this.reconnectMaxMs, 100 * 2 ** (attempt - 1));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        timer.unref();
        this.wakeReconnect = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.stopped) return;
      try {
        const client = await this.connect();
        if (this.stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
      } catch (error) {
        this.logger.warn(
          { err: error, attempt, channels: this.channels },
          'event listener could not reconnect; trying again',
        );
        continue;
      }
      this.logger.warn(
        { attempt, channels: this.channels },
        'event listener reconnected; subscribers re-read their state',
      );
      eventListenerReconnects.inc();
      for (const listener of this.resyncListeners) listener();
      return;
    }
  }
}

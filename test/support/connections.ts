import type { Config } from '../../lib/config';
import { OutboxMessage } from '../../lib/outbox';
import { SUBGRAPHS, type SubgraphName } from '../../lib/services';
import { IMPLEMENTED_SUBGRAPHS, loadSubgraph } from '../../subgraphs/registry';

/** What one PostgreSQL server keeps back: superuser_reserved_connections (3), the migration step (2), operators (5). */
export const POSTGRES_DEFAULT_MAX_CONNECTIONS = 100;
export const CONNECTIONS_KEPT_BACK = 10;

/**
 * The most connections one process of a subgraph opens: its pool (DB_POOL_MAX), plus one LISTEN connection for
 * its subscriptions' events (eventChannels) and one for its outbox worker's wake-ups (lib/events.ts, lib/outbox.ts).
 * A subgraph that is declared but not written yet is counted with both.
 */
export function connectionsPerProcess(name: SubgraphName, config: Config): number {
  if (!IMPLEMENTED_SUBGRAPHS.includes(name)) return config.DB_POOL_MAX + 2;
  const definition = loadSubgraph(name);
  const listeners = (definition.eventChannels?.length ? 1 : 0) + (definition.entities.includes(OutboxMessage) ? 1 : 0);
  return config.DB_POOL_MAX + listeners;
}

/** Every subgraph of lib/services.ts, one process each, as docker-compose.yml and `npm start` run them. */
export function connectionsOfOneOfEach(config: Config): Record<SubgraphName, number> {
  return Object.fromEntries(
    (Object.keys(SUBGRAPHS) as SubgraphName[]).map((name) => [name, connectionsPerProcess(name, config)]),
  ) as Record<SubgraphName, number>;
}

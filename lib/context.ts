import type { EntityManager } from '@mikro-orm/postgresql';
import type { Caller, Role } from './internal-auth';
import type { Config } from './config';
import type { InternalClient } from './internal-client';
import type { Logger } from './logger';
import { forbidden, unauthenticated } from './errors';
import type { EventListener } from './events';

/** What every resolver gets: its own EntityManager fork, the caller, and per-request loaders. */
export interface SubgraphContext<Loaders = unknown> {
  em: EntityManager;
  caller: Caller | null;
  /** The public client's address, as forwarded by the gateway (rate limits). */
  clientAddress?: string;
  loaders: Loaders;
  config: Config;
  client: InternalClient;
  logger: Logger;
  /** Present when the subgraph declares eventChannels (subscriptions). */
  events?: EventListener;
}

export function requireCaller(caller: Caller | null): Caller {
  if (!caller) throw unauthenticated();
  return caller;
}

export function requireRole(caller: Caller | null, ...roles: Role[]): Caller {
  const signedIn = requireCaller(caller);
  if (!roles.includes(signedIn.role)) throw forbidden(`This needs one of the roles ${roles.join(', ')}`);
  return signedIn;
}

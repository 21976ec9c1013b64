import type { SubgraphContext } from '../../lib/context';

/** No tables, so nothing to batch. */
export function createLoaders() {
  return {};
}

export type WhatsappContext = SubgraphContext<ReturnType<typeof createLoaders>>;

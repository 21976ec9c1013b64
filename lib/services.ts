/** The subgraphs of the supergraph and their default ports (DESIGN.md §1). One list, used everywhere. */
export const SUBGRAPHS = {
  auth: 3001,
  product: 3002,
  factory: 3003,
  'group-buying': 3004,
  order: 3005,
  payment: 3006,
  notification: 3007,
  logistics: 3008,
  address: 3009,
  wallet: 3010,
  warehouse: 3011,
  whatsapp: 3012,
  settlement: 3013,
  reviews: 3014,
} as const;

export type SubgraphName = keyof typeof SUBGRAPHS;

export const GATEWAY_PORT = 4000;
export const SANDBOX_PORT = 3100;

export function isSubgraphName(name: string): name is SubgraphName {
  return Object.prototype.hasOwnProperty.call(SUBGRAPHS, name);
}

/** `group-buying` → `GROUP_BUYING`, the prefix of its `*_SERVICE_URL` variable. */
export function envPrefix(name: SubgraphName): string {
  return name.toUpperCase().replace(/-/g, '_');
}

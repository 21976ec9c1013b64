import { SubgraphName } from '../lib/services';
import type { SubgraphDefinition } from '../lib/subgraph-server';

/** The subgraphs that exist so far, by name; loaded lazily so one process loads one domain. */
const modules: Partial<Record<SubgraphName, () => SubgraphDefinition<unknown>>> = {
  product: () => require('./product').productSubgraph,
};

export const IMPLEMENTED_SUBGRAPHS = Object.keys(modules) as SubgraphName[];

export function loadSubgraph(name: SubgraphName): SubgraphDefinition<unknown> {
  const load = modules[name];
  if (!load) throw new Error(`The ${name} subgraph is not implemented yet`);
  return load();
}

export function subgraphEntryPoint(name: SubgraphName): string {
  return require.resolve(`./${name}/index.ts`);
}

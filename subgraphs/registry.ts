import fs from 'node:fs';
import path from 'node:path';
import { SUBGRAPHS, type SubgraphName } from '../lib/services';
import type { SubgraphDefinition } from '../lib/subgraph-server';

/** A subgraph exists once its folder has an index.ts exporting `subgraph` (index.js once compiled to dist/). */
export const IMPLEMENTED_SUBGRAPHS = (Object.keys(SUBGRAPHS) as SubgraphName[]).filter((name) =>
  fs.existsSync(path.join(__dirname, name, `index${path.extname(__filename)}`)),
);

/** Loads one domain's definition (only that domain's entities and resolvers). */
export function loadSubgraph(name: SubgraphName): SubgraphDefinition<unknown> {
  if (!IMPLEMENTED_SUBGRAPHS.includes(name)) throw new Error(`The ${name} subgraph is not implemented yet`);
  return require(`./${name}`).subgraph;
}

import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import gql from 'graphql-tag';
import { composeServices } from '@apollo/composition';

const ROOT = path.join(__dirname, '..');
export const SUPERGRAPH_CONFIG = path.join(ROOT, 'supergraph.yaml');
export const SUPERGRAPH_SDL = path.join(ROOT, 'supergraph.graphql');

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  typeDefsPath: string;
}

/** The subgraphs listed in supergraph.yaml (rover's format). */
export function readSupergraphConfig(file = SUPERGRAPH_CONFIG): SubgraphEntry[] {
  const config = parseYaml(fs.readFileSync(file, 'utf8')) as {
    subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
  };
  return Object.entries(config.subgraphs).map(([name, entry]) => ({
    name,
    routingUrl: entry.routing_url,
    typeDefsPath: path.resolve(path.dirname(file), entry.schema.file),
  }));
}

/** Composes the supergraph from the subgraph schema files; throws with every composition error. */
export function composeSupergraph(entries = readSupergraphConfig()): string {
  const result = composeServices(
    entries.map((entry) => ({
      name: entry.name,
      url: entry.routingUrl,
      typeDefs: gql(fs.readFileSync(entry.typeDefsPath, 'utf8')),
    })),
  );
  if (result.errors?.length) {
    throw new Error(`Composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl!;
}

if (require.main === module) {
  const sdl = composeSupergraph();
  if (process.argv.includes('--check')) {
    const committed = fs.existsSync(SUPERGRAPH_SDL) ? fs.readFileSync(SUPERGRAPH_SDL, 'utf8') : '';
    if (committed !== sdl) {
      console.error('supergraph.graphql is stale: run `npm run compose`');
      process.exit(1);
    }
    console.log('supergraph.graphql is up to date');
  } else {
    fs.writeFileSync(SUPERGRAPH_SDL, sdl);
    console.log(`Wrote ${path.relative(process.cwd(), SUPERGRAPH_SDL)}`);
  }
}

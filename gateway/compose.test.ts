import fs from 'node:fs';
import { composeSupergraph, readSupergraphConfig, SUPERGRAPH_SDL } from './compose';
import { SUBGRAPHS } from '../lib/services';

describe('supergraph composition', () => {
  it('composes and matches the committed supergraph.graphql (run `npm run compose` when this fails)', () => {
    expect(composeSupergraph()).toBe(fs.readFileSync(SUPERGRAPH_SDL, 'utf8'));
  });

  it('routes every subgraph in supergraph.yaml to its own port', () => {
    for (const entry of readSupergraphConfig()) {
      expect(Object.keys(SUBGRAPHS)).toContain(entry.name);
      expect(new URL(entry.routingUrl).port).toBe(String(SUBGRAPHS[entry.name as keyof typeof SUBGRAPHS]));
      expect(fs.existsSync(entry.typeDefsPath)).toBe(true);
    }
  });
});

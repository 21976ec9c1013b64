import { isSubgraphName, SUBGRAPHS } from '../lib/services';
import { runSubgraphProcess } from '../lib/subgraph-server';
import { loadSubgraph } from '../subgraphs/registry';

/** `npm run subgraph -- <name>`: one subgraph alone (embedded PostgreSQL unless DATABASE_URL is set). */
const name = process.argv[2] ?? '';
if (!isSubgraphName(name)) {
  console.error(`Usage: npm run subgraph -- <${Object.keys(SUBGRAPHS).join('|')}>`);
  process.exit(1);
}
runSubgraphProcess(loadSubgraph(name));

import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';

/**
 * Sends WhatsApp messages (the OTP) through the Cloud API. No tables: a send is retried in-process and
 * the caller (auth) owns the code. It is still a subgraph, with one small query, so the gateway's
 * /health covers it and it starts like every other service.
 */
export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'whatsapp',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [],
  migrations: [],
  createLoaders,
  rest: mountRest,
};

if (require.main === module) runSubgraphProcess(subgraph);

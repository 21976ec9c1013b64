import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { TemplateMessage } from './entities/template-message.entity';

/**
 * Sends WhatsApp messages through the Cloud API: the OTP (retried in-process; auth owns the code, so
 * nothing is stored) and factory owners' notices (template messages, recorded once per dedupeKey). It is
 * a subgraph, with one small query, so the gateway's /health covers it and it starts like every other service.
 */
export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'whatsapp',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [TemplateMessage],
  migrations,
  createLoaders,
  rest: mountRest,
};

if (require.main === module) runSubgraphProcess(subgraph);

import { runSubgraphProcess, schemaOf, SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { SESSION_PROGRESS } from './session-store';
import { startExpiryScheduler } from './settlement';
import { SessionStatusChange } from './entities/session-status-change.entity';
import { ParticipantStatusChange } from './entities/participant-status-change.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'group-buying',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [GroupBuyingSession, GroupParticipant, SessionStatusChange, ParticipantStatusChange, OutboxMessage],
  migrations,
  createLoaders,
  rest: mountRest,
  background: (deps) => [startOutboxWorker(deps), startExpiryScheduler(deps)],
  eventChannels: [SESSION_PROGRESS],
};

if (require.main === module) runSubgraphProcess(subgraph);

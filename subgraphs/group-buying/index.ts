import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { OutboxMessage, startOutboxWorker } from '../../lib/outbox';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { GroupBuyingSession } from './entities/group-buying-session.entity';
import { GroupParticipant } from './entities/group-participant.entity';
import { SESSION_PROGRESS } from './session-store';
import { startExpiryScheduler } from './settlement';
import { GroupBuyingService } from './service';
import { startDrainingTask } from '../../lib/periodic';
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
  background: (deps) => [
    startOutboxWorker(deps),
    startExpiryScheduler(deps),
    startDrainingTask(
      'unpaid hold sweep',
      deps.config.UNPAID_SWEEP_MS,
      () => new GroupBuyingService(deps.orm.em.fork(), deps.client, deps.config, deps.logger).expireUnpaidPlaces(),
      deps.logger,
    ),
  ],
  eventChannels: [SESSION_PROGRESS],
};

if (require.main === module) runSubgraphProcess(subgraph);

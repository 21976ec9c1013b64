import { runSubgraphProcess, schemaOf, type SubgraphDefinition, type SubgraphDeps } from '../../lib/subgraph-server';
import { startPeriodicTask } from '../../lib/periodic';
import { resolvers } from './resolvers';
import { createLoaders } from './loaders';
import { mountRest } from './rest';
import { migrations } from './migrations';
import { AuthService } from './service';
import { User } from './entities/user.entity';
import { Session } from './entities/session.entity';
import { OtpCode } from './entities/otp-code.entity';
import { RateLimitBucket } from './entities/rate-limit-bucket.entity';
import { SessionChange } from './entities/session-change.entity';
import { OtpFailureBudget } from './entities/otp-failure-budget.entity';

export const AUTH_ENTITIES = [User, Session, OtpCode, RateLimitBucket, SessionChange, OtpFailureBudget];

/** Keeps the rate-limit, code, failure and feed tables small; any replica may run it, the deletes are idempotent. */
function pruneTask({ orm, config, logger }: SubgraphDeps) {
  return startPeriodicTask(
    'OTP prune',
    10 * 60_000,
    () => new AuthService(orm.em.fork(), config).pruneExpired(),
    logger,
  );
}

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>> = {
  name: 'auth',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: AUTH_ENTITIES,
  migrations,
  createLoaders,
  rest: mountRest,
  background: (deps) => [pruneTask(deps)],
};

if (require.main === module) runSubgraphProcess(subgraph);

import { runSubgraphProcess, schemaOf, type SubgraphDefinition } from '../../lib/subgraph-server';
import { systemClock } from '../../lib/clock';
import { resolvers } from './resolvers';
import { createLoaders, type ReviewsServices } from './loaders';
import { migrations } from './migrations';
import { Review } from './entities/review.entity';
import { RatingAggregate } from './entities/rating-aggregate.entity';
import { ReviewStatusChange } from './entities/review-status-change.entity';

export const subgraph: SubgraphDefinition<ReturnType<typeof createLoaders>, ReviewsServices> = {
  name: 'reviews',
  typeDefs: schemaOf(__dirname),
  resolvers,
  entities: [Review, RatingAggregate, ReviewStatusChange],
  migrations,
  createLoaders,
  init: () => ({ clock: systemClock }),
};

if (require.main === module) runSubgraphProcess(subgraph);

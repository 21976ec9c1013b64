import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { Config } from '../lib/config';

/** Validation rules that refuse abusive operations before any subgraph is called. */
export function operationLimits(config: Config) {
  return [
    maxDepthRule({
      n: config.MAX_QUERY_DEPTH,
      flattenFragments: true,
      exposeLimits: true,
      errorMessage: 'Query is too deep',
    }),
    costLimitRule({ maxCost: config.MAX_QUERY_COST, exposeLimits: true, errorMessage: 'Query is too expensive' }),
  ];
}

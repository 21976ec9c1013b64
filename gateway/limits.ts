import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { GraphQLError, ValidationContext } from 'graphql';
import { Config } from '../lib/config';

/**
 * Report a refusal as a validation error: the rules' default is to throw, which Apollo treats as an
 * unexpected failure (INTERNAL_SERVER_ERROR, message hidden).
 */
const reportRejection = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/** Validation rules that refuse abusive operations before any subgraph is called. */
export function operationLimits(config: Config) {
  return [
    maxDepthRule({
      n: config.MAX_QUERY_DEPTH,
      flattenFragments: true,
      exposeLimits: true,
      errorMessage: 'Query is too deep',
      ...reportRejection,
    }),
    costLimitRule({ maxCost: config.MAX_QUERY_COST, exposeLimits: true, errorMessage: 'Query is too expensive', ...reportRejection }),
  ];
}

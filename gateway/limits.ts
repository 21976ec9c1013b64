import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Config } from '../lib/config';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/pagination';

/**
 * Limits every operation meets before any subgraph is called, over HTTP and over the WebSocket alike:
 * tokens while parsing (parseOptions), then depth, aliases and worst-case cost (checkOperationLimits).
 * A refusal is BAD_USER_INPUT with HTTP 400 and names the limit that was hit.
 */

export function parseOptions(config: Config): ParseOptions {
  return { maxTokens: config.MAX_TOKENS };
}

function limitExceeded(message: string, limit: string): GraphQLError {
  return new GraphQLError(`${message} (${limit})`, {
    extensions: { code: 'BAD_USER_INPUT', limit, http: { status: 400 } },
  });
}

/** The armor rules report through this, so their refusal carries our code and the variable's name. */
const reportAs = (limit: string) => ({
  exposeLimits: true,
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(limitExceeded(error.message.replace(/^Syntax Error: |\.$/g, ''), limit)),
  ],
});

type Variables = Record<string, unknown> | null | undefined;

export interface OperationLimits {
  /** Throws the refusal when the operation is too deep, has too many aliases or may cost too much. */
  check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Variables,
  ): void;
}

export function operationLimits(config: Config): OperationLimits {
  const shapeRules = [
    maxDepthRule({ n: config.MAX_QUERY_DEPTH, flattenFragments: true, ...reportAs('MAX_QUERY_DEPTH') }),
    maxAliasesRule({ n: config.MAX_ALIASES, ...reportAs('MAX_ALIASES') }),
  ];
  // Depth and aliases depend on the document only, and Apollo hands the same parsed document for the same query.
  const shapeRefusals = new WeakMap<DocumentNode, GraphQLError | null>();
  return {
    check(schema, document, operationName, variables) {
      let shapeRefusal = shapeRefusals.get(document);
      if (shapeRefusal === undefined) {
        shapeRefusal = validate(schema, document, shapeRules)[0] ?? null;
        shapeRefusals.set(document, shapeRefusal);
      }
      if (shapeRefusal) throw shapeRefusal;
      const cost = operationCost(schema, document, operationName, variables, config.MAX_LIST_SIZE);
      if (cost > config.MAX_QUERY_COST) {
        throw limitExceeded(`Query cost ${cost} exceeds the limit of ${config.MAX_QUERY_COST}`, 'MAX_QUERY_COST');
      }
    },
  };
}

/**
 * Checks each operation once it is resolved: after validation, before the gateway plans or fetches
 * anything. A validation rule could not do it, since it never sees the variables `first: $n` takes.
 */
export function operationLimitsPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          limits.check(schema, document, operationName, request.variables);
        },
      };
    },
  };
}

/**
 * The most an operation can return, counted the way Shopify's API does: each object in the answer costs 1,
 * scalars nothing, and a list counts as many times as it can hold. A field with `first` holds
 * min(first, MAX_PAGE_SIZE) items, DEFAULT_PAGE_SIZE when `first` is omitted or null, whether `first` is
 * written out or a variable; in a connection that bound applies to its lists (`edges`). Any other list
 * counts as `maxListSize`. Introspection is free: its size is the schema's.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
  maxListSize: number,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const declared = new Map<string, VariableDefinitionNode>(
    (operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition]),
  );

  const pageSize = (value: ValueNode | undefined): number => {
    let first: unknown = null;
    if (value?.kind === Kind.INT) first = Number(value.value);
    else if (value?.kind === Kind.VARIABLE) {
      const name = value.name.value;
      const given = variables?.[name];
      const fallback = declared.get(name)?.defaultValue;
      first = given !== undefined ? given : fallback?.kind === Kind.INT ? Number(fallback.value) : null;
    }
    if (typeof first !== 'number' || !Number.isFinite(first)) return DEFAULT_PAGE_SIZE;
    return Math.min(Math.max(Math.trunc(first), 0), MAX_PAGE_SIZE);
  };

  const selectionCost = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    pageOfParent?: number,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (type && isCompositeType(type)) cost += selectionCost(selection.selectionSet, type, pageOfParent);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && type && isCompositeType(type)) cost += selectionCost(fragment.selectionSet, type, pageOfParent);
        continue;
      }
      if (selection.name.value.startsWith('__') || !(isObjectType(parentType) || isInterfaceType(parentType))) continue;
      const field = parentType.getFields()[selection.name.value];
      const namedType = field && getNamedType(field.type);
      if (!field || !selection.selectionSet || !isCompositeType(namedType)) continue;
      const paginated = field.args.some((arg) => arg.name === 'first');
      const page = paginated
        ? pageSize(selection.arguments?.find((arg) => arg.name.value === 'first')?.value)
        : undefined;
      const isList = isListType(getNullableType(field.type));
      const count = isList ? (page ?? pageOfParent ?? maxListSize) : 1;
      cost += count * (1 + selectionCost(selection.selectionSet, namedType, isList ? undefined : page));
    }
    return cost;
  };

  return selectionCost(operation.selectionSet, rootType);
}

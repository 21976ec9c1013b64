import fs from 'node:fs';
import gql from 'graphql-tag';
import {
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
  visit,
  type DocumentNode,
  type SelectionNode,
  type VariableDefinitionNode,
} from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { SubgraphEntry } from './compose';

/**
 * How one client subscription is served (DESIGN.md §6): the subgraph that owns the root field gets
 * the part of the selection it can resolve itself (plus entity keys); when the client asked for more,
 * each event is completed through the normal federated query path, via the Query field that fetches
 * the same entity by id (`groupBuyingSessionProgress` → `groupBuyingSession(id)`).
 */
export interface SubscriptionPlan {
  subgraph: string;
  /** The root field's response key in the client's result. */
  responseKey: string;
  /** The operation sent upstream over graphql-ws. */
  upstreamQuery: string;
  /** A query completing an event through the gateway, or null when the owner resolves everything. */
  completionQuery: string | null;
}

export class SubscriptionPlanner {
  private readonly subgraphSchemas = new Map<string, GraphQLSchema>();

  constructor(
    private readonly apiSchema: GraphQLSchema,
    subgraphs: SubgraphEntry[],
  ) {
    for (const entry of subgraphs) {
      const typeDefs = gql(fs.readFileSync(entry.typeDefsPath, 'utf8'));
      this.subgraphSchemas.set(entry.name, buildSubgraphSchema({ typeDefs }));
    }
  }

  /** Throws an Error with a client-facing message when the operation cannot be served. */
  plan(document: DocumentNode, operationName?: string | null): SubscriptionPlan {
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
    );
    if (!operation || operation.operation !== 'subscription') throw new Error('Not a subscription operation');
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    const rootSelection = inlineFragments(operation.selectionSet, fragments);
    const rootField = rootSelection.selections.find(
      (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename',
    );
    if (!rootField) throw new Error('A subscription selects exactly one root field');

    const owner = [...this.subgraphSchemas.entries()].find(([, schema]) =>
      Boolean(schema.getSubscriptionType()?.getFields()[rootField.name.value]),
    );
    if (!owner) throw new Error(`No subgraph serves the subscription field "${rootField.name.value}"`);
    const [subgraph, subgraphSchema] = owner;
    const ownerRootType = subgraphSchema.getSubscriptionType()!.getFields()[rootField.name.value].type;
    const ownerPayloadType = getNamedType(ownerRootType);

    let pruned = false;
    const prune = (selectionSet: SelectionSetNode, type: GraphQLObjectType): SelectionSetNode => {
      const fields = type.getFields();
      const selections: SelectionNode[] = [];
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT) {
          const condition = selection.typeCondition?.name.value;
          const conditionType = condition ? subgraphSchema.getType(condition) : type;
          if (!isObjectType(conditionType)) {
            pruned = true;
            continue;
          }
          selections.push({ ...selection, selectionSet: prune(selection.selectionSet, conditionType) });
          continue;
        }
        if (selection.kind !== Kind.FIELD) continue;
        if (selection.name.value === '__typename') {
          selections.push(selection);
          continue;
        }
        const field = fields[selection.name.value];
        if (!field) {
          pruned = true;
          continue;
        }
        const fieldType = getNamedType(field.type);
        selections.push(
          selection.selectionSet && isObjectType(fieldType)
            ? { ...selection, selectionSet: prune(selection.selectionSet, fieldType) }
            : selection,
        );
      }
      // Entity keys let the completion query line results up; harmless when unused.
      for (const key of ['__typename', 'id']) {
        if (
          (key === '__typename' || fields[key]) &&
          !selections.some((s) => s.kind === Kind.FIELD && s.name.value === key && !s.alias)
        ) {
          selections.push({ kind: Kind.FIELD, name: { kind: Kind.NAME, value: key } });
        }
      }
      return { kind: Kind.SELECTION_SET, selections };
    };

    const upstreamField: FieldNode = {
      ...rootField,
      selectionSet:
        rootField.selectionSet && isObjectType(ownerPayloadType)
          ? prune(rootField.selectionSet, ownerPayloadType)
          : rootField.selectionSet,
    };
    const responseKey = rootField.alias?.value ?? rootField.name.value;
    const upstreamQuery = printOperation('subscription', upstreamField, operation.variableDefinitions ?? []);

    let completionQuery: string | null = null;
    if (pruned && rootField.selectionSet) {
      const byId = this.entityQueryField(
        getNamedType(this.apiSchema.getSubscriptionType()!.getFields()[rootField.name.value].type).name,
      );
      const completionField: FieldNode = {
        kind: Kind.FIELD,
        name: { kind: Kind.NAME, value: byId },
        arguments: [
          {
            kind: Kind.ARGUMENT,
            name: { kind: Kind.NAME, value: 'id' },
            value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: '__entityId' } },
          },
        ],
        selectionSet: rootField.selectionSet,
      };
      const idVariable: VariableDefinitionNode = {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: '__entityId' } },
        type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
      };
      completionQuery = printOperation('query', completionField, [
        idVariable,
        ...(operation.variableDefinitions ?? []),
      ]);
    }
    return { subgraph, responseKey, upstreamQuery, completionQuery };
  }

  /** The Query field that returns one `typeName` by `id` (convention: lowerCamel of the type name). */
  private entityQueryField(typeName: string): string {
    const name = typeName.charAt(0).toLowerCase() + typeName.slice(1);
    const field = this.apiSchema.getQueryType()?.getFields()[name];
    if (!field || getNamedType(field.type).name !== typeName || !field.args.some((a) => a.name === 'id')) {
      throw new Error(`Fields of ${typeName} from other subgraphs cannot be selected in this subscription`);
    }
    return name;
  }
}

/** Fragment spreads become inline fragments, so pruning sees one tree. */
function inlineFragments(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
): SelectionSetNode {
  return visit(selectionSet, {
    FragmentSpread(spread) {
      const fragment = fragments.get(spread.name.value);
      if (!fragment) throw new Error(`Unknown fragment "${spread.name.value}"`);
      return {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        directives: spread.directives,
        selectionSet: inlineFragments(fragment.selectionSet, fragments),
      };
    },
  });
}

/** An operation with one root field, declaring only the variables it uses (unused ones fail validation). */
function printOperation(
  operation: 'subscription' | 'query',
  field: FieldNode,
  variableDefinitions: readonly VariableDefinitionNode[],
): string {
  const used = new Set<string>();
  visit(field, {
    Variable(node) {
      used.add(node.name.value);
    },
  });
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: operation === 'query' ? ('query' as never) : ('subscription' as never),
        variableDefinitions: variableDefinitions.filter((v) => used.has(v.variable.name.value)),
        selectionSet: { kind: Kind.SELECTION_SET, selections: [field] },
      },
    ],
  };
  return print(document);
}

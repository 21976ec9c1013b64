import {
  type ASTNode,
  type ASTVisitor,
  GraphQLError,
  type GraphQLFormattedError,
  GraphQLScalarType,
  type GraphQLSchema,
  Kind,
} from 'graphql';

/** ISO-8601 timestamps; accepts Date or string from resolvers, parses ISO strings from clients. */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'ISO-8601 timestamp in UTC',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    const date = new Date(String(value));
    if (typeof value !== 'string' || Number.isNaN(date.getTime()))
      throw new TypeError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new TypeError('DateTime must be an ISO-8601 string');
    const date = new Date(ast.value);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO-8601 string');
    return date;
  },
});

/**
 * The gateway's schema comes from the supergraph SDL, where DateTime is an opaque scalar that lets any value
 * through to the subgraph. Giving it this module's parsing makes the gateway refuse a bad DateTime itself,
 * as it does a bad Int: a variable as BAD_USER_INPUT naming it, a literal through `literalValueError`.
 */
export function parseScalarsIn(schema: GraphQLSchema): void {
  const type = schema.getType(DateTime.name);
  if (type instanceof GraphQLScalarType)
    Object.assign(type, { parseValue: DateTime.parseValue, parseLiteral: DateTime.parseLiteral });
}

/** Where each literal argument value sits in its operation, as `createProduct(input.variants[1].price)`. */
const literalPlaces = new WeakMap<ASTNode, string>();

const LITERAL_KINDS = [
  Kind.INT,
  Kind.FLOAT,
  Kind.STRING,
  Kind.BOOLEAN,
  Kind.NULL,
  Kind.ENUM,
  Kind.LIST,
  Kind.OBJECT,
] as const;

/**
 * Records the place of every literal value (it reports nothing itself). graphql-js refuses a literal its
 * type cannot hold (`amount: 3000000000`, `endsAt: "soon"`) in a validation error that names neither the
 * argument nor the field; `literalValueError` uses these places to name them.
 */
export function LiteralPlacesRule(): ASTVisitor {
  const owners: string[] = [];
  const steps: string[] = [];
  const place = () => {
    const path = steps.join('.').replace(/\.\[/g, '[');
    const owner = owners[owners.length - 1];
    return owner ? `${owner}(${path})` : path;
  };
  const literal = {
    enter(node: ASTNode, key: string | number | undefined) {
      if (typeof key === 'number') steps.push(`[${key}]`);
      if (steps.length > 0) literalPlaces.set(node, place());
    },
    leave(_node: ASTNode, key: string | number | undefined) {
      if (typeof key === 'number') steps.pop();
    },
  };
  return {
    ...Object.fromEntries(LITERAL_KINDS.map((kind) => [kind, literal])),
    Field: { enter: (node) => void owners.push(node.name.value), leave: () => void owners.pop() },
    Directive: { enter: (node) => void owners.push(`@${node.name.value}`), leave: () => void owners.pop() },
    VariableDefinition: {
      enter: (node) => void steps.push(`$${node.variable.name.value}`),
      leave: () => void steps.pop(),
    },
    Argument: { enter: (node) => void steps.push(node.name.value), leave: () => void steps.pop() },
    ObjectField: { enter: (node) => void steps.push(node.name.value), leave: () => void steps.pop() },
  } as ASTVisitor;
}

/**
 * A literal refused by validation as BAD_USER_INPUT naming where it was (recorded by LiteralPlacesRule),
 * instead of GRAPHQL_VALIDATION_FAILED: a wrong value is the caller's input, not a malformed operation.
 */
export function literalValueError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError | undefined {
  if (formatted.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' || !(error instanceof GraphQLError)) return undefined;
  const where = error.nodes?.length === 1 ? literalPlaces.get(error.nodes[0]) : undefined;
  if (!where) return undefined;
  return {
    message: `Invalid value for ${where}: ${formatted.message}`,
    locations: formatted.locations,
    extensions: { code: 'BAD_USER_INPUT', argument: where },
  };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import gql from 'graphql-tag';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import { SubscriptionPlanner } from './subscription-plan';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const sessions = `${LINK}
type Session @key(fields: "id") { id: ID! paidQuantity: Int! product: Product! }
type Product @key(fields: "id", resolvable: false) { id: ID! }
type Query { session(id: ID!): Session }
type Subscription { sessionProgress(sessionId: ID!): Session! }`;
const catalog = `${LINK}
type Product @key(fields: "id") { id: ID! name: String! }
type Query { product(id: ID!): Product }`;

describe('subscription planning', () => {
  let planner: SubscriptionPlanner;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    const entries = Object.entries({ sessions, catalog }).map(([name, sdl]) => {
      fs.writeFileSync(path.join(dir, `${name}.graphql`), sdl);
      return { name, routingUrl: `http://localhost/${name}`, typeDefsPath: path.join(dir, `${name}.graphql`) };
    });
    const composed = composeServices(
      entries.map((e) => ({ name: e.name, url: e.routingUrl, typeDefs: gql(fs.readFileSync(e.typeDefsPath, 'utf8')) })),
    );
    expect(composed.errors).toBeUndefined();
    const apiSchema = Supergraph.build(composed.supergraphSdl!).apiSchema().toGraphQLJSSchema();
    planner = new SubscriptionPlanner(apiSchema, entries);
  });

  it('sends the owner only its own fields plus keys, and completes the rest by id', () => {
    const plan = planner.plan(
      parse(
        `subscription Watch($id: ID!, $unused: Int) { live: sessionProgress(sessionId: $id) { paidQuantity product { name } } }`,
      ),
    );
    expect(plan.subgraph).toBe('sessions');
    expect(plan.responseKey).toBe('live');
    expect(plan.upstreamQuery).not.toMatch(/\bname\b/);
    expect(plan.upstreamQuery).toContain('paidQuantity');
    expect(plan.upstreamQuery).toMatch(/product \{\s*__typename\s*id\s*\}/);
    expect(plan.upstreamQuery).not.toContain('$unused');
    expect(plan.completionQuery).toContain('session(id: $__entityId)');
    expect(plan.completionQuery).toContain('name');
  });

  it('needs no completion when the owner resolves the whole selection', () => {
    const plan = planner.plan(parse(`subscription { sessionProgress(sessionId: "1") { id paidQuantity } }`));
    expect(plan.completionQuery).toBeNull();
  });

  it('expands named fragments before pruning', () => {
    const plan = planner.plan(
      parse(
        `subscription { sessionProgress(sessionId: "1") { ...S } } fragment S on Session { paidQuantity product { name } }`,
      ),
    );
    expect(plan.upstreamQuery).not.toContain('fragment');
    expect(plan.completionQuery).toContain('name');
  });

  it('refuses operations that are not subscriptions', () => {
    expect(() => planner.plan(parse(`query { session(id: "1") { id } }`))).toThrow('Not a subscription');
  });
});

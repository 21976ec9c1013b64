import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { DEMO_FACTORIES, DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import type { Caller } from '../../lib/internal-auth';
import { newId } from '../../lib/ids';
import { createAddress, CREATE_ORDER } from '../order/test-support';

/**
 * A deleted address through real processes (address, order and what an order needs): orders already shipping
 * there still show it to their buyer and the factory's owner; the buyer's own reads no longer list it, and no
 * new order can use it.
 */
const FACTORY = DEMO_FACTORIES[0];
const OWNER: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
const shirt = DEMO_PRODUCTS[0].variants[0].id as string;

const ORDER = `query($id: ID!) { order(id: $id) { id shippingAddress { id city line1 } } }`;
const FACTORY_ORDERS = `query($factoryId: ID!) {
  factoryOrders(factoryId: $factoryId, first: 50) { edges { node { id shippingAddress { id city } } } }
}`;
const DELETE = `mutation($id: ID!) { deleteAddress(id: $id) }`;
const MY_ADDRESSES = `{ myAddresses { id isDefault } }`;
const ADDRESS = `query($id: ID!) { address(id: $id) { id } }`;

describe('address: a deleted address', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      subgraphs: ['product', 'factory', 'address', 'warehouse', 'order', 'payment'],
      sandbox: true,
    });
  });
  afterAll(() => stack?.stop());

  const as = (caller: Caller, query: string, variables: Record<string, unknown> = {}) =>
    stack.graphql(query, variables, { caller });
  const order = (caller: Caller, addressId: string) =>
    as(caller, CREATE_ORDER, { input: { addressId, items: [{ variantId: shirt, quantity: 1 }] } });

  it("still shows where an existing order ships, and is gone for the buyer's reads and new orders", async () => {
    const buyer: Caller = { userId: newId(), role: 'BUYER' };
    const home = await createAddress(stack, buyer, 'Cimahi');
    const office = await createAddress(stack, buyer, 'Bogor');
    const created = await order(buyer, home);
    expect(created.errors).toBeUndefined();
    const orderId = created.data.createOrder.order.id as string;

    const deleted = await as(buyer, DELETE, { id: home });
    expect(deleted).toMatchObject({ data: { deleteAddress: true } });
    expect(deleted.errors).toBeUndefined();

    const shipsTo = { id: home, city: 'Cimahi', line1: 'Jl. Merdeka 1' };
    for (const reader of [buyer, OWNER]) {
      const read = await as(reader, ORDER, { id: orderId });
      expect(read.errors).toBeUndefined();
      expect(read.data.order).toEqual({ id: orderId, shippingAddress: shipsTo });
    }
    const listed = await as(OWNER, FACTORY_ORDERS, { factoryId: FACTORY.id });
    expect(listed.errors).toBeUndefined();
    expect(listed.data.factoryOrders.edges.map((e: { node: unknown }) => e.node)).toContainEqual({
      id: orderId,
      shippingAddress: { id: home, city: 'Cimahi' },
    });

    // Gone for the buyer: not listed (the default moved on), not readable, not changeable, not for a new order.
    expect((await as(buyer, MY_ADDRESSES)).data.myAddresses).toEqual([{ id: office, isDefault: true }]);
    expect((await as(buyer, ADDRESS, { id: home })).data.address).toBeNull();
    expect(errorCode(await as(buyer, DELETE, { id: home }))).toBe('NOT_FOUND');
    const refused = await order(buyer, home);
    expect(refused.data).toBeNull();
    expect(errorCode(refused)).toBe('NOT_FOUND');
    const lookup = await stack.internal('address', 'GET', `/api/addresses/${home}`);
    expect(lookup).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await order(buyer, office)).errors).toBeUndefined();
  });
});

import { startTestStack, type TestStack, errorCode } from '../../test/support/e2e';
import { metricValue } from '../../test/support/metrics';
import { DEMO_OWNERS, DEMO_PRODUCTS } from '../../lib/demo-data';
import { newId } from '../../lib/ids';
import type { Caller } from '../../lib/internal-auth';
import { DEMO_STOCK_PER_VARIANT, DEMO_WAREHOUSE_ID } from './seed';
import { INVENTORY_COMMIT_PATH, INVENTORY_RELEASE_PATH, INVENTORY_RESTOCK_PATH } from '../../lib/contracts/warehouse';

const [shirtM, shirtL, shirtWhite] = DEMO_PRODUCTS[0].variants.map((v) => v.id as string);
const [batikM] = DEMO_PRODUCTS[1].variants.map((v) => v.id as string);
const admin: Caller = { userId: newId(), role: 'ADMIN' };
const demoOwner: Caller = { userId: DEMO_OWNERS[0].id, role: 'FACTORY_OWNER' };
/** Owns the batik factory (DEMO_PRODUCTS[1]), not the T-shirt one. */
const otherOwner: Caller = { userId: DEMO_OWNERS[1].id, role: 'FACTORY_OWNER' };
/** A factory owner by role only, with no factory at all. */
const ownerOfNothing: Caller = { userId: newId(), role: 'FACTORY_OWNER' };
const buyer: Caller = { userId: newId(), role: 'BUYER' };

describe('warehouse subgraph', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: ['product', 'factory', 'warehouse'] });
  });
  afterAll(() => stack?.stop());

  const level = async (variantId: string, warehouseId = DEMO_WAREHOUSE_ID) => {
    const result = await stack.graphql(
      `query($v: ID!) { inventory(variantId: $v) { warehouse { id } quantity reserved available } }`,
      { v: variantId },
      { caller: admin },
    );
    expect(result.errors).toBeUndefined();
    return result.data.inventory.find((l: { warehouse: { id: string } }) => l.warehouse.id === warehouseId);
  };
  const setInventory = (as: Caller, input: Record<string, unknown>) =>
    stack.graphql(
      `mutation($input: SetInventoryInput!) { setInventory(input: $input) { warehouse { id name } quantity reserved available } }`,
      { input },
      { caller: as },
    );
  const reserve = (orderId: string, items: { variantId: string; quantity: number }[]) =>
    stack.internal('warehouse', 'POST', '/api/inventory/reserve', { orderId, items });

  it('extends Variant with the stock across warehouses, in one statement for all variants', async () => {
    const statements = () => metricValue(stack, 'warehouse', 'sql_statements_total');
    const before = await statements();
    const result = await stack.graphql(`{ products(first: 10) { edges { node { variants { id stock } } } } }`);
    expect(result.errors).toBeUndefined();
    expect((await statements()) - before).toBe(1);
    const stocks = result.data.products.edges.flatMap((e: any) => e.node.variants.map((v: any) => v.stock));
    expect(stocks).toHaveLength(DEMO_PRODUCTS.reduce((n, p) => n + p.variants.length, 0));
    expect(stocks.every((s: number) => s === DEMO_STOCK_PER_VARIANT)).toBe(true);
  });

  it('lets factory owners create warehouses and set their stock, and no one else', async () => {
    const refused = await stack.graphql(
      `mutation { createWarehouse(input: { name: "X", city: "Y" }) { id } }`,
      {},
      { caller: buyer },
    );
    expect(errorCode(refused)).toBe('FORBIDDEN');
    const blank = await stack.graphql(
      `mutation { createWarehouse(input: { name: " ", city: "Y" }) { id } }`,
      {},
      { caller: otherOwner },
    );
    expect(errorCode(blank)).toBe('BAD_USER_INPUT');

    const created = await stack.graphql(
      `mutation { createWarehouse(input: { name: "Gudang Solo", city: "Solo" }) { id name city } }`,
      {},
      { caller: otherOwner },
    );
    expect(created.errors).toBeUndefined();
    const warehouseId = created.data.createWarehouse.id;
    const mine = await stack.graphql(`{ warehouses { id } }`, {}, { caller: otherOwner });
    expect(mine.data.warehouses.map((w: { id: string }) => w.id)).toContain(warehouseId);
    // Only variants of the owner's own factories: not another factory's, and nothing without a factory.
    const foreign = await setInventory(otherOwner, { warehouseId, variantId: shirtM, quantity: 5 });
    expect(errorCode(foreign)).toBe('FORBIDDEN');
    expect(foreign.errors?.[0].message).toMatch(/your own factories/);
    // The role alone is not enough: ownership is asked of the factory subgraph.
    const empty = await stack.graphql(
      `mutation { createWarehouse(input: { name: "Kosong", city: "Depok" }) { id } }`,
      {},
      { caller: ownerOfNothing },
    );
    expect(errorCode(empty)).toBe('FORBIDDEN');
    expect((await level(shirtM, warehouseId)) ?? null).toBeNull();

    expect(errorCode(await setInventory(demoOwner, { warehouseId, variantId: batikM, quantity: 5 }))).toBe('FORBIDDEN');
    expect(errorCode(await setInventory(otherOwner, { warehouseId, variantId: batikM, quantity: -1 }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await setInventory(otherOwner, { warehouseId, variantId: batikM, quantity: 1.5 }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await setInventory(otherOwner, { warehouseId, variantId: newId(), quantity: 5 }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await setInventory(otherOwner, { warehouseId: newId(), variantId: batikM, quantity: 5 }))).toBe(
      'NOT_FOUND',
    );

    const set = await setInventory(otherOwner, { warehouseId, variantId: batikM, quantity: 7 });
    expect(set.errors).toBeUndefined();
    expect(set.data.setInventory).toEqual({
      warehouse: { id: warehouseId, name: 'Gudang Solo' },
      quantity: 7,
      reserved: 0,
      available: 7,
    });
    const stock = await stack.graphql(`query($id: ID!) { product(id: $id) { variants { id stock } } }`, {
      id: DEMO_PRODUCTS[1].id,
    });
    expect(stock.data.product.variants.find((v: { id: string }) => v.id === batikM).stock).toBe(
      DEMO_STOCK_PER_VARIANT + 7,
    );
    // An owner sees only levels in their own warehouses (their demo warehouse and the new one), never the T-shirt factory's.
    const seen = await stack.graphql(
      `query($v: ID!) { inventory(variantId: $v) { warehouse { id } } }`,
      { v: batikM },
      { caller: otherOwner },
    );
    expect(seen.data.inventory.map((l: { warehouse: { id: string } }) => l.warehouse.id)).toContain(warehouseId);
    expect(seen.data.inventory.map((l: { warehouse: { id: string } }) => l.warehouse.id)).not.toContain(
      DEMO_WAREHOUSE_ID,
    );
    // An admin may stock any variant anywhere.
    expect((await setInventory(admin, { warehouseId, variantId: shirtM, quantity: 2 })).errors).toBeUndefined();
  });

  it('reserves all or nothing, once per order, and commits or releases once', async () => {
    const before = await level(shirtM);
    const tooMuch = await reserve(newId(), [
      { variantId: shirtM, quantity: 1 },
      { variantId: shirtL, quantity: DEMO_STOCK_PER_VARIANT + 1 },
    ]);
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('CONFLICT');
    expect(await level(shirtM)).toEqual(before);

    const bad = await reserve(newId(), [{ variantId: shirtM, quantity: 0 }]);
    expect(bad.status).toBe(400);

    const orderId = newId();
    const first = await reserve(orderId, [{ variantId: shirtM, quantity: 3 }]);
    expect(first.status).toBe(200);
    const again = await reserve(orderId, [{ variantId: shirtM, quantity: 3 }]);
    expect(again.body).toEqual(first.body);
    expect(await level(shirtM)).toMatchObject({ quantity: before.quantity, reserved: before.reserved + 3 });

    // Stock cannot be set below what is reserved.
    const undercut = await setInventory(admin, {
      warehouseId: DEMO_WAREHOUSE_ID,
      variantId: shirtM,
      quantity: before.reserved + 2,
    });
    expect(errorCode(undercut)).toBe('CONFLICT');

    for (let i = 0; i < 2; i += 1) {
      const committed = await stack.internal('warehouse', 'POST', '/api/inventory/commit', { orderId });
      expect(committed.body.reservations.map((r: { status: string }) => r.status)).toEqual(['COMMITTED']);
    }
    expect(
      (await stack.internal('warehouse', 'POST', '/api/inventory/release', { orderId })).body.reservations[0].status,
    ).toBe('COMMITTED');
    expect(await level(shirtM)).toMatchObject({ quantity: before.quantity - 3, reserved: before.reserved });

    const released = newId();
    await reserve(released, [{ variantId: shirtM, quantity: 2 }]);
    for (let i = 0; i < 2; i += 1)
      await stack.internal('warehouse', 'POST', '/api/inventory/release', { orderId: released });
    await stack.internal('warehouse', 'POST', '/api/inventory/commit', { orderId: released });
    expect(await level(shirtM)).toMatchObject({ quantity: before.quantity - 3, reserved: before.reserved });
  });

  it('restocks a cancelled paid order once: committed units come back, reserved ones are released', async () => {
    const inventory = (path: string, orderId: string) => stack.internal('warehouse', 'POST', path, { orderId });
    const statuses = (answer: { body: { reservations: { status: string }[] } }) =>
      answer.body.reservations.map((r) => r.status);
    const before = await level(shirtL);

    // Paid, then cancelled: the committed units return to the warehouse they left; replays change nothing.
    const paid = newId();
    await reserve(paid, [{ variantId: shirtL, quantity: 4 }]);
    await inventory(INVENTORY_COMMIT_PATH, paid);
    expect(await level(shirtL)).toMatchObject({ quantity: before.quantity - 4, reserved: before.reserved });
    for (let i = 0; i < 2; i += 1)
      expect(statuses(await inventory(INVENTORY_RESTOCK_PATH, paid))).toEqual(['RESTOCKED']);
    expect(statuses(await inventory(INVENTORY_COMMIT_PATH, paid))).toEqual(['RESTOCKED']);
    expect(statuses(await inventory(INVENTORY_RELEASE_PATH, paid))).toEqual(['RESTOCKED']);
    expect(await level(shirtL)).toEqual(before);

    // The restock overtook the commit (both through outboxes): released, and the late commit takes nothing.
    const overtaken = newId();
    await reserve(overtaken, [{ variantId: shirtL, quantity: 3 }]);
    expect(statuses(await inventory(INVENTORY_RESTOCK_PATH, overtaken))).toEqual(['RELEASED']);
    expect(statuses(await inventory(INVENTORY_COMMIT_PATH, overtaken))).toEqual(['RELEASED']);
    expect(await level(shirtL)).toEqual(before);

    // Commits and restocks racing, across orders and variants: every unit back exactly once.
    const orders = Array.from({ length: 6 }, () => newId());
    for (const orderId of orders) {
      await reserve(orderId, [
        { variantId: shirtL, quantity: 1 },
        { variantId: shirtM, quantity: 2 },
      ]);
    }
    const beforeM = await level(shirtM);
    const calls = orders.flatMap((orderId) =>
      [INVENTORY_COMMIT_PATH, INVENTORY_RESTOCK_PATH, INVENTORY_RESTOCK_PATH, INVENTORY_COMMIT_PATH].map((path) =>
        inventory(path, orderId),
      ),
    );
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual(calls.map(() => 200));
    expect(await level(shirtL)).toEqual(before);
    expect(await level(shirtM)).toMatchObject({
      quantity: beforeM.quantity,
      reserved: beforeM.reserved - 2 * orders.length,
    });

    expect((await inventory(INVENTORY_RESTOCK_PATH, 'nope')).status).toBe(400);
    expect((await inventory(INVENTORY_RESTOCK_PATH, newId())).body).toEqual({ reservations: [] });
  });

  it('sells the last 10 units exactly once under 50 concurrent reservations', async () => {
    expect(
      (await setInventory(admin, { warehouseId: DEMO_WAREHOUSE_ID, variantId: shirtWhite, quantity: 10 })).errors,
    ).toBeUndefined();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => reserve(newId(), [{ variantId: shirtWhite, quantity: 1 }])),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409)).toHaveLength(40);
    expect(await level(shirtWhite)).toEqual({
      warehouse: { id: DEMO_WAREHOUSE_ID },
      quantity: 10,
      reserved: 10,
      available: 0,
    });
  });
});

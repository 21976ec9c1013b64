import { Client } from 'pg';
import { withDatabase } from '../../lib/database';
import type { Caller } from '../../lib/internal-auth';
import type { TestStack } from '../../test/support/e2e';

/** Helpers shared by the order e2e files. */

export async function createAddress(stack: TestStack, caller: Caller, city = 'Bandung'): Promise<string> {
  const result = await stack.graphql(
    `mutation($input: CreateAddressInput!) { createAddress(input: $input) { id } }`,
    {
      input: {
        recipientName: 'Ayu',
        phone: '081234567890',
        line1: 'Jl. Merdeka 1',
        city,
        province: 'Jawa Barat',
        postalCode: '40111',
      },
    },
    { caller },
  );
  if (result.errors) throw new Error(`createAddress failed: ${JSON.stringify(result.errors)}`);
  return result.data.createAddress.id;
}

export const CREATE_ORDER = `mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { paymentUrl order { id status source total currency items { quantity unitPrice productName variant { id } } } }
}`;

/** Reads a subgraph's own database directly: "nothing was written" is a row count. */
export async function rowsOf(
  stack: TestStack,
  subgraph: 'order' | 'warehouse',
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, any>[]> {
  const client = new Client({
    connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_${subgraph}`),
  });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function countRows(
  stack: TestStack,
  subgraph: 'order' | 'warehouse',
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  const [{ n }] = await rowsOf(stack, subgraph, `select count(*) as n from (${sql}) as q`, params);
  return Number(n);
}

/** Rows a refused order could have left behind, across order and warehouse. */
export async function footprint(stack: TestStack) {
  return {
    orders: await countRows(stack, 'order', 'select 1 from orders'),
    items: await countRows(stack, 'order', 'select 1 from order_items'),
    reservations: await countRows(stack, 'warehouse', "select 1 from reservations where status = 'RESERVED'"),
  };
}

export async function stockOf(stack: TestStack, variantId: string): Promise<{ quantity: number; reserved: number }> {
  const client = new Client({
    connectionString: withDatabase(stack.env.DATABASE_URL, `${stack.env.DB_PREFIX}_warehouse`),
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ quantity: string; reserved: string }>(
      'select coalesce(sum(quantity), 0) as quantity, coalesce(sum(reserved), 0) as reserved from inventory where variant_id = $1',
      [variantId],
    );
    return { quantity: Number(rows[0].quantity), reserved: Number(rows[0].reserved) };
  } finally {
    await client.end();
  }
}

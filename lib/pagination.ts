import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import { parseInput } from './validation';
import { isId } from './ids';

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A page's size when `first` is omitted, and the largest `first` accepted (the gateway's query cost uses both). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const pageSchema = z.object({
  first: z.number().int().min(0, 'first must be ≥ 0').max(MAX_PAGE_SIZE, `first must be ≤ ${MAX_PAGE_SIZE}`).nullish(),
  after: z
    .string()
    .refine((c) => isId(decodeCursor(c)), 'after is not a cursor from this list')
    .nullish(),
});

function encodeCursor(id: string): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  return text.startsWith('id:') ? text.slice(3) : '';
}

/**
 * Keyset pagination over time-ordered ids: `after` is the last id seen, so pages stay stable while
 * rows are added. `newestFirst` lists recent items first (orders, notifications).
 */
export async function paginate<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  args: PageArgs,
  options: { defaultFirst?: number; newestFirst?: boolean } = {},
): Promise<Connection<T>> {
  const { first, after } = parseInput(pageSchema, { first: args.first, after: args.after });
  const limit = first ?? options.defaultFirst ?? DEFAULT_PAGE_SIZE;
  const direction = options.newestFirst ? 'desc' : 'asc';
  const afterId = after ? decodeCursor(after) : null;
  const pageWhere = (
    afterId ? { $and: [where, { id: options.newestFirst ? { $lt: afterId } : { $gt: afterId } }] } : where
  ) as FilterQuery<T>;
  const [rows, totalCount] = await Promise.all([
    limit === 0
      ? Promise.resolve([] as T[])
      : (em.find(entity, pageWhere, { orderBy: { id: direction } as never, limit: limit + 1 }) as Promise<T[]>),
    em.count(entity, where),
  ]);
  const page = rows.slice(0, limit);
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node.id), node })),
    pageInfo: {
      hasNextPage: rows.length > limit,
      endCursor: page.length ? encodeCursor(page[page.length - 1].id) : null,
    },
    totalCount,
  };
}

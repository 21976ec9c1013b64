import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityName, FilterQuery } from '@mikro-orm/core';

/**
 * Per-request batching (STYLE.md 3): every entity reference and child list goes through one
 * `find({ id: { $in } })`, whatever the number of parents in the response.
 */
export function entityLoader<T extends { id: string }>(em: EntityManager, entity: EntityName<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = (await em.find(entity, { id: { $in: [...ids] } } as unknown as FilterQuery<T>)) as T[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Children grouped by a foreign-key property, in id order. */
export function childrenLoader<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  foreignKey: keyof T & string,
) {
  return new DataLoader<string, T[]>(async (parentIds) => {
    const rows = (await em.find(entity, { [foreignKey]: { $in: [...parentIds] } } as unknown as FilterQuery<T>, {
      orderBy: { id: 'asc' } as never,
    })) as T[];
    const groups = new Map<string, T[]>(parentIds.map((id) => [id, []]));
    for (const row of rows) groups.get(String(row[foreignKey]))?.push(row);
    return parentIds.map((id) => groups.get(id) ?? []);
  });
}

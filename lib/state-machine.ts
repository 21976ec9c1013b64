import type { EntityClass, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict } from './errors';

/** A transition table: for each state, the states it may move to (STYLE.md 5). */
export type Transitions<S extends string> = Record<S, readonly S[]>;

export function canTransition<S extends string>(table: Transitions<S>, from: S, to: S): boolean {
  return table[from]?.includes(to) ?? false;
}

/** Throws CONFLICT for an illegal move; call before the atomic claim that makes it. */
export function assertTransition<S extends string>(table: Transitions<S>, from: S, to: S, what = 'status'): void {
  if (!canTransition(table, from, to)) throw conflict(`Cannot change ${what} from ${from} to ${to}`);
}

/** Every state the table lets move to `to`, in the table's order: the sources of a claim. */
export function statesLeadingTo<S extends string>(table: Transitions<S>, to: S): S[] {
  return (Object.keys(table) as S[]).filter((from) => table[from].includes(to));
}

/** An aggregate with a status column that a transition table governs. */
export interface Stateful<S extends string> {
  id: string;
  status: S;
}

export interface TransitionOptions<T extends Stateful<S>, S extends string> {
  /** The aggregate's transition table; the claim's sources are every state it lets move to `to`. */
  table: Transitions<S>;
  /** Only some of those sources (a subset: anything the table forbids is dropped). */
  from?: readonly S[];
  /** Further columns written with the status, by property name (checked by the compiler). */
  set?: Partial<Omit<T, 'id' | 'status'>>;
  /** Further conditions of the claim, by property name. */
  where?: FilterQuery<T>;
  /** Follow-ups in the claim's transaction (outbox messages, notify(), NOTIFY): only when the claim won. */
  effects?: (tx: EntityManager, claimed: T) => Promise<void>;
}

/**
 * The one way a status moves (DESIGN.md §4): an atomic claim `UPDATE … SET status = to WHERE id = ? AND
 * status IN (sources) [AND where] RETURNING *`, where the sources come from the table, then `effects` in the
 * same transaction, so the change and what it causes commit together or not at all. `updatedAt` is stamped
 * when the entity has one. Answers the claimed entity (mapped, and refreshed in `tx`'s identity map), or null
 * when nothing was claimed: no such row, a status the table does not allow (already moved, or raced by a
 * concurrent claim), or `where` did not hold. Null rather than an error because only the caller knows
 * whether that is a repeat to answer as success or a CONFLICT; `claimed()` turns it into CONFLICT.
 * Call it inside `tx.transactional(…)` when `effects` must share the claim's transaction.
 */
export async function transition<T extends Stateful<S>, S extends string>(
  tx: EntityManager,
  entity: EntityClass<T>,
  id: string,
  to: S,
  options: TransitionOptions<T, S>,
): Promise<T | null> {
  const allowed = statesLeadingTo(options.table, to);
  const sources = options.from ? allowed.filter((s) => options.from!.includes(s)) : allowed;
  if (!sources.length) return null;
  const meta = tx.getMetadata().get(entity.name);
  const data: Record<string, unknown> = { ...options.set, status: to };
  if (meta.properties.updatedAt && !('updatedAt' in data)) data.updatedAt = new Date();
  const where = { $and: [{ id, status: { $in: sources } }, options.where ?? {}] } as FilterQuery<T>;
  const rows = (await tx
    .createQueryBuilder(entity)
    .update(data as never)
    .where(where)
    .returning('*')
    .execute('all', false)) as unknown as Record<string, unknown>[];
  if (!rows.length) return null;
  const claimed = tx.map(entity, rows[0] as never);
  if (options.effects) await options.effects(tx, claimed);
  return claimed;
}

/** A lost claim as CONFLICT: `claimed(await transition(…), 'The order is no longer PAID')`. */
export function claimed<T>(entity: T | null, message: string): T {
  if (!entity) throw conflict(message);
  return entity;
}

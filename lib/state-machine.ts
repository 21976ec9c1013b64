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

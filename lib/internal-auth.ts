import { timingSafeEqual, createHash } from 'node:crypto';

export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
export const USER_ID_HEADER = 'x-user-id';
export const USER_ROLE_HEADER = 'x-user-role';
export const SESSION_ID_HEADER = 'x-session-id';
/** The public client's address as the gateway saw it (rate limits per client). */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

export type Role = 'BUYER' | 'FACTORY_OWNER' | 'ADMIN';
export const ROLES: readonly Role[] = ['BUYER', 'FACTORY_OWNER', 'ADMIN'];

/** Who is asking. Set by the gateway after it verified the JWT; trusted only with the internal token. */
export interface Caller {
  userId: string;
  role: Role;
  sessionId?: string;
}

/** Constant-time comparison of secrets of any length (hashing first evens out the lengths). */
export function secretsEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller named by identity headers; only call this after the internal token was checked. */
export function callerFromHeaders(headers: HeaderBag): Caller | null {
  const userId = header(headers, USER_ID_HEADER);
  const role = header(headers, USER_ROLE_HEADER) as Role | undefined;
  if (!userId || !role || !ROLES.includes(role)) return null;
  return { userId, role, sessionId: header(headers, SESSION_ID_HEADER) };
}

export function identityHeaders(caller: Caller | null): Record<string, string> {
  if (!caller) return {};
  return {
    [USER_ID_HEADER]: caller.userId,
    [USER_ROLE_HEADER]: caller.role,
    ...(caller.sessionId ? { [SESSION_ID_HEADER]: caller.sessionId } : {}),
  };
}

import type { Role } from '../internal-auth';

/** The internal REST contract of auth (3001, docs/internal-api.md): one user as other services see it. */

/** `GET`: the user; 404 NOT_FOUND for no such user. */
export const authUserPath = (userId: string) => `/api/auth/users/${userId}`;
/** `POST { role }`: raises the user's role, never lowers it (factory sends it through its outbox). */
export const authUserRolePath = (userId: string) => `/api/auth/users/${userId}/role`;
export interface AuthUser {
  id: string;
  /** E.164. */
  phone: string;
  /** The name the user chose (updateMe); null until then. */
  name: string | null;
  role: Role;
}

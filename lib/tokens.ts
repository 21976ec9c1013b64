import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { type Caller, type Role, ROLES } from './internal-auth';

const ALGORITHM = 'HS256';
const ISSUER = 'group-buying-auth';

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** A signed session token: user id (sub), role, session id (sid); it expires `expiry` seconds from now, or at that moment. */
export async function signSessionToken(
  caller: Required<Caller>,
  secret: string,
  expiry: number | Date,
): Promise<string> {
  return new SignJWT({ role: caller.role, sid: caller.sessionId })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(caller.userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(typeof expiry === 'number' ? `${expiry}s` : expiry)
    .sign(key(secret));
}

/**
 * Verifies signature, algorithm (HS256 only: `alg: none` and algorithm swaps are refused), issuer and
 * expiry. Returns null for any token that is not ours and valid.
 */
export async function verifySessionToken(token: string, secret: string): Promise<Required<Caller> | null> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: [ALGORITHM], issuer: ISSUER });
    const role = payload.role as Role;
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || !ROLES.includes(role)) return null;
    return { userId: payload.sub, role, sessionId: payload.sid };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return null;
    throw error;
  }
}

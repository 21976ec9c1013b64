import { GraphQLError } from 'graphql';
import type { Config } from '../lib/config';
import { type Caller, callerFromHeaders, INTERNAL_TOKEN_HEADER, secretsEqual } from '../lib/internal-auth';
import { verifySessionToken } from '../lib/tokens';
import { type SessionDirectory, sessionUnconfirmed } from './session-directory';

type HeaderBag = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function rejectToken(message = 'Your session is invalid or has ended: sign in again'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * Who is calling the gateway: a valid, unrevoked Bearer token; or, for operators and test drivers that
 * hold the internal token, the trusted identity headers. A token that is present but invalid is
 * refused outright rather than treated as anonymous.
 */
export async function resolveCaller(
  authorization: string | undefined,
  headers: HeaderBag,
  config: Config,
  sessions: SessionDirectory,
): Promise<Caller | null> {
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (!match) throw rejectToken('Authorization must be "Bearer <token>"');
    const claims = await verifySessionToken(match[1], config.JWT_SECRET);
    if (!claims) throw rejectToken();
    const standing = await sessions.standing(claims.sessionId);
    if (standing === 'REVOKED') throw rejectToken();
    if (standing === 'UNCONFIRMED') throw sessionUnconfirmed();
    return { ...claims, role: sessions.currentRole(claims.userId) ?? claims.role };
  }
  if (secretsEqual(first(headers[INTERNAL_TOKEN_HEADER]), config.INTERNAL_TOKEN)) return callerFromHeaders(headers);
  return null;
}

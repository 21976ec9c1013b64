import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger';

/** The error codes of the public contract (API.md). */
export type ErrorCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'INTERNAL_SERVER_ERROR';

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * An expected business refusal. It is a GraphQLError so resolvers can let it through untouched, and it
 * knows its HTTP status so REST handlers answer `{ error: { code, message } }` with the same code.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, ...(details ?? {}) } });
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
  }
}

export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError('BAD_USER_INPUT', message, details);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('FORBIDDEN', message);
export const unauthenticated = (message = 'Sign in first') => new AppError('UNAUTHENTICATED', message);

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Apollo's formatError for subgraphs and the gateway: business refusals keep their code; anything unexpected is logged and hidden. */
export function formatErrorFor(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = (error as { originalError?: unknown })?.originalError;
    if (isAppError(original) || isAppError(error)) return formatted;
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    logger.error({ err: original ?? error }, 'unexpected GraphQL failure');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

export function errorCodeFromStatus(status: number): ErrorCode {
  const match = (Object.entries(HTTP_STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  if (match) return match[0];
  if (status === 422) return 'BAD_USER_INPUT';
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
}

/** Postgres unique violation: a concurrent insert won the race for the same business key. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; name?: string } | undefined;
  return e?.code === '23505' || e?.name === 'UniqueConstraintViolationException';
}

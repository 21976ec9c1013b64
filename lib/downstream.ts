import { badInput, isAppError } from './errors';

/**
 * A call to another service for an id the user gave in one field. Its NOT_FOUND is the user's mistake, so it
 * becomes BAD_USER_INPUT with `message` (e.g. 'variantId: no such variant'); any other refusal (4xx) passes
 * through with the callee's code; no answer (ServiceUnavailableError) passes through too, so the caller undoes
 * what it began and fails.
 */
export async function asFieldInput<T>(call: Promise<T>, message: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') throw badInput(message);
    throw error;
  }
}

import pino from 'pino';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The request id of the work in progress, carried gateway → subgraph → subgraph in `x-request-id`. */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export const REQUEST_ID_HEADER = 'x-request-id';

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

export function withRequestId<T>(requestId: string | undefined, work: () => T): T {
  return requestScope.run({ requestId: requestId || randomUUID() }, work);
}

export type Logger = pino.Logger;

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  });
}

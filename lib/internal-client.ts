import pRetry, { AbortError } from 'p-retry';
import type { Config } from './config';
import { AppError, errorCodeFromStatus } from './errors';
import { currentRequestId, REQUEST_ID_HEADER } from './logger';
import type { SubgraphName } from './services';
import { INTERNAL_TOKEN_HEADER } from './internal-auth';

export interface CallOptions {
  body?: unknown;
  /** Per attempt. */
  timeoutMs?: number;
  retries?: number;
  /** Identity to pass on, when a service acts for a user. */
  headers?: Record<string, string>;
}

/** A callee that failed after every retry, or answered 5xx: the caller decides whether to degrade. */
export class ServiceUnavailableError extends Error {
  /** The callee's 5xx status, when it answered at all. */
  readonly status?: number;

  constructor(
    readonly service: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${service} ${path} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ServiceUnavailableError';
    this.status = (cause as { status?: number } | undefined)?.status;
  }
}

/** A callee's 4xx answer: its error code for the caller, and its HTTP status (the outbox's terminal rule). */
export class CalleeRefusal extends AppError {
  constructor(
    code: AppError['code'],
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

/** The HTTP status a failed call got, or undefined when there was no answer (network error, timeout). */
export function answerStatusOf(error: unknown): number | undefined {
  return error instanceof CalleeRefusal || error instanceof ServiceUnavailableError ? error.status : undefined;
}

/**
 * Service-to-service REST (DESIGN.md §2): the internal token and request id on every call, a timeout
 * per attempt, exponential backoff on network errors and 5xx, never a retry on 4xx. A 4xx answer
 * becomes an AppError with the callee's code, so a NOT_FOUND downstream stays NOT_FOUND upstream.
 */
export class InternalClient {
  constructor(private readonly config: Config) {}

  /**
   * How long a callee may still be acting on a call after its caller gave up: its own outbound calls
   * (Xendit, other services) time out after HTTP_TIMEOUT_MS, and the answer must still be written.
   */
  get settleTimeMs(): number {
    return 2 * this.config.HTTP_TIMEOUT_MS;
  }

  async call<T>(service: SubgraphName, method: string, path: string, options: CallOptions = {}): Promise<T> {
    const url = `${this.config.serviceUrl(service)}${path}`;
    const timeoutMs = options.timeoutMs ?? this.config.HTTP_TIMEOUT_MS;
    const requestId = currentRequestId();
    try {
      return await pRetry(
        async () => {
          let response: Response;
          try {
            response = await fetch(url, {
              method,
              headers: {
                'content-type': 'application/json',
                [INTERNAL_TOKEN_HEADER]: this.config.INTERNAL_TOKEN,
                ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
                ...(options.headers ?? {}),
              },
              body: options.body === undefined ? undefined : JSON.stringify(options.body),
              signal: AbortSignal.timeout(timeoutMs),
            });
          } catch (networkError) {
            throw networkError instanceof Error ? networkError : new Error(String(networkError));
          }
          const text = await response.text();
          const payload = text ? safeJson(text) : undefined;
          if (response.ok) return payload as T;
          const message = readErrorMessage(payload) ?? `${service} answered ${response.status}`;
          if (response.status < 500) {
            const code = readErrorCode(payload) ?? errorCodeFromStatus(response.status);
            throw new AbortError(new CalleeRefusal(code, message, response.status) as unknown as Error);
          }
          throw Object.assign(new Error(message), { status: response.status });
        },
        { retries: options.retries ?? this.config.HTTP_RETRIES, factor: 2, minTimeout: 100, maxTimeout: 2000 },
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ServiceUnavailableError(service, path, error);
    }
  }

  get<T>(service: SubgraphName, path: string, options?: CallOptions) {
    return this.call<T>(service, 'GET', path, options);
  }

  post<T>(service: SubgraphName, path: string, body: unknown, options?: CallOptions) {
    return this.call<T>(service, 'POST', path, { ...options, body });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text } };
  }
}

function readErrorMessage(payload: unknown): string | undefined {
  const error = (payload as { error?: { message?: unknown } } | undefined)?.error;
  return typeof error?.message === 'string' ? error.message : undefined;
}

function readErrorCode(payload: unknown): AppError['code'] | undefined {
  const code = (payload as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? (code as AppError['code']) : undefined;
}

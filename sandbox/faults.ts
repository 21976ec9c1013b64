import { z } from 'zod';

/** `POST /__sandbox/<provider>/faults` body: the next `count` matching calls answer `status`. */
export const faultRequestSchema = z.object({
  status: z.number().int().min(400).max(599),
  count: z.number().int().min(1).max(1000).default(1),
});

/** `POST /__sandbox/xendit/slowdowns` body: the next `count` matching calls answer normally, `delayMs` late. */
export const slowdownRequestSchema = z.object({
  delayMs: z.number().int().min(1).max(60_000),
  count: z.number().int().min(1).max(1000).default(1),
});

interface Fault {
  /** The HTTP status to fail with (FaultPlan) or the delay in ms (a plan of slowdowns). */
  status: number;
  remaining: number;
  /** Which group of endpoints it hits; none means every one. */
  scope?: string;
}

/**
 * Injected failures (or slowdowns), so tests can watch a client retry or give up: queued in order, each
 * one used up by the calls it answers.
 */
export class FaultPlan {
  private faults: Fault[] = [];

  add(status: number, count: number, scope?: string): void {
    this.faults.push({ status, remaining: count, scope });
  }

  /** The status the next call in `scope` must fail with, if a fault is pending for it. */
  take(scope: string): number | undefined {
    const fault = this.faults.find((f) => f.scope === undefined || f.scope === scope);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault.status;
  }

  clear(): void {
    this.faults = [];
  }
}

import { z } from 'zod';

/** `POST /__sandbox/<provider>/faults` body: the next `count` matching calls answer `status`. */
export const faultRequestSchema = z.object({
  status: z.number().int().min(400).max(599),
  count: z.number().int().min(1).max(1000).default(1),
});

interface Fault {
  status: number;
  remaining: number;
  /** Which group of endpoints it hits; none means every one. */
  scope?: string;
}

/**
 * Injected failures, so tests can watch a client retry: queued in order, each one used up by the calls
 * it answers.
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

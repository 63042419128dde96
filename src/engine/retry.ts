/** Retry policy: how many retries a task gets and how long to wait before each. */
import type { RetryPolicy } from '../sdk/task.ts';

export function normalizeRetry(r: number | RetryPolicy | undefined): Required<RetryPolicy> {
  const p = typeof r === 'number' ? { retries: r } : (r ?? { retries: 0 });
  return { retries: Math.max(0, p.retries), backoffMs: p.backoffMs ?? 1000, factor: p.factor ?? 2, maxBackoffMs: p.maxBackoffMs ?? 60_000 };
}

/** Delay before retry number `n` (1 = first retry). */
export function backoffDelay(policy: Required<RetryPolicy>, n: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * policy.factor ** Math.max(0, n - 1));
}

/** Retries with jittered exponential backoff. */

export interface RetryOptions {
  /** Attempts in all, including the first (>= 1). */
  attempts: number;
  /** Delay before the second attempt, ms; doubles each time. */
  baseDelayMs: number;
  /** Upper bound of one delay, ms. */
  maxDelayMs: number;
  /** Return false to stop retrying on an error that will not heal (a revert, bad input). */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before each wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before attempt `attempt + 1`: full jitter over an exponentially growing cap. */
export function backoffDelayMs(
  attempt: number,
  options: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs">,
  random = Math.random,
): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(cap / 2 + (random() * cap) / 2);
}

/** Runs `task` until it succeeds, the error is not retryable, or attempts run out (rethrows the last error). */
export async function withRetry<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      const retryable = options.shouldRetry?.(error) ?? true;
      if (!retryable || attempt >= options.attempts) throw error;
      const delayMs = backoffDelayMs(attempt, options, options.random);
      options.onRetry?.(error, attempt, delayMs);
      await wait(delayMs);
    }
  }
}

/**
 * A retry strategy for the AWS SDK that rides out a short outage of the S3 server (a restart,
 * a failover) while a capture is being uploaded: transient, throttling and server errors are
 * retried with capped exponential backoff until a deadline, then the call fails. Client errors
 * (403, 404, 412, ...) are never retried.
 */

/** The shapes of the SDK's RetryStrategyV2 (from @smithy/types), spelled out here. */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface RetryErrorInfo {
  errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;

interface Token extends RetryToken {
  readonly startedAt: number;
}

const token = (count: number, delay: number, startedAt: number): Token => ({
  startedAt,
  getRetryCount: () => count,
  getRetryDelay: () => delay,
});

export class PatientRetry {
  /** `windowMs`: how long one request keeps retrying from its first attempt. */
  constructor(private readonly windowMs: number) {}

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(token(0, 0, Date.now()));
  }

  refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const { startedAt } = previous as Token;
    const count = previous.getRetryCount() + 1;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (count - 1));
    if (info.errorType === 'CLIENT_ERROR' || Date.now() + delay - startedAt > this.windowMs) {
      // The SDK then throws the request's own error.
      return Promise.reject(new Error('S3 request failed; retries exhausted'));
    }
    return Promise.resolve(token(count, delay, startedAt));
  }

  recordSuccess(): void {}
}

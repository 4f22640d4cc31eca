// The one wrapper around every S3 call: a timeout per attempt, bounded
// retries with backoff for 5xx, throttling and dropped connections, and the
// translation of failures into one typed error line naming the location and
// the operation. Secrets never reach a message: only codes and statuses do.
import { DsError, InterruptedError, S3CredentialsError, S3Error, S3NoBucketError, S3TimeoutError, S3UnreachableError } from "../errors.ts";

export interface CallPolicy {
  timeoutMs: number;
  /** Attempts after the first one, for retryable failures. */
  retries: number;
  /** Backoff before retry n (1-based): base * 2^(n-1), capped at 5 s. */
  backoffMs: number;
  signal?: AbortSignal;
}

/** A failed HTTP answer from S3, with the XML error code if there was one. */
export class S3HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ""}`);
  }
}

class AttemptTimeout extends Error {}

const CREDENTIAL_CODES = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidSecurity"]);
const THROTTLE_CODES = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable"]);
const DROPPED = new Set(["ECONNRESET", "EPIPE", "ConnectionClosed", "ECONNABORTED", "UND_ERR_SOCKET"]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ConnectionRefused", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "FailedToOpenSocket", "DNSException"]);

/** The code of an error from fetch, Bun.S3Client or S3HttpError. */
function codeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e?.code === "string" && e.code) return e.code;
  if (e?.cause) return codeOf(e.cause);
  return "";
}
function statusOf(err: unknown): number {
  return err instanceof S3HttpError ? err.status : 0;
}

function retryable(err: unknown): boolean {
  const status = statusOf(err);
  const code = codeOf(err);
  return status >= 500 || status === 429 || THROTTLE_CODES.has(code) || DROPPED.has(code);
}

/** Turn a final failure into the typed error the user sees. */
export function describeFailure(location: string, operation: string, err: unknown, timeoutMs: number): DsError {
  if (err instanceof DsError) return err;
  const code = codeOf(err);
  const status = statusOf(err);
  const what = `${location}: cannot ${operation}`;
  if (err instanceof AttemptTimeout) {
    return new S3TimeoutError(`${what}: no answer from the S3 server within ${timeoutMs} ms (DSBACKUP_S3_TIMEOUT_MS)`, { cause: err });
  }
  if (CREDENTIAL_CODES.has(code) || (status === 403 && !code)) {
    return new S3CredentialsError(`${what}: the S3 server refused the credentials (${code || "HTTP 403"}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, { cause: err });
  }
  if (code === "NoSuchBucket") return new S3NoBucketError(`${what}: the bucket does not exist (NoSuchBucket); create it first`, { cause: err });
  if (UNREACHABLE.has(code)) {
    return new S3UnreachableError(`${what}: the S3 endpoint cannot be reached (${code}); check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL`, { cause: err });
  }
  const detail = status ? `HTTP ${status}${code ? ` ${code}` : ""}` : code || (err as Error)?.message || String(err);
  return new S3Error(`${what}: ${detail}`, { cause: err });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(new InterruptedError("interrupted")); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Run `attempt` with a fresh timeout signal each time. The race also covers
 * calls that ignore the signal (Bun.S3Client takes none): the late answer of
 * an abandoned attempt is dropped.
 */
export async function s3Call<T>(location: string, operation: string, policy: CallPolicy, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    if (policy.signal?.aborted) throw new InterruptedError(`${location}: ${operation} interrupted`);
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => controller.abort(new InterruptedError(`${location}: ${operation} interrupted`));
    policy.signal?.addEventListener("abort", onAbort, { once: true });
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new AttemptTimeout("timeout");
        controller.abort(e);
        reject(e);
      }, policy.timeoutMs);
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    limit.catch(() => {}); // settled by the race, or left behind once the attempt has answered
    let cause: unknown;
    try {
      return await Promise.race([attempt(controller.signal), limit]);
    } catch (err) {
      cause = controller.signal.aborted ? controller.signal.reason : err;
    } finally {
      // Before any backoff sleep: a timer firing during it would fail the next attempt's wait.
      clearTimeout(timer);
      policy.signal?.removeEventListener("abort", onAbort);
    }
    if (cause instanceof InterruptedError) throw cause;
    if (n >= policy.retries || !retryable(cause)) throw describeFailure(location, operation, cause, policy.timeoutMs);
    await sleep(Math.min(5000, policy.backoffMs * 2 ** n), policy.signal);
  }
}

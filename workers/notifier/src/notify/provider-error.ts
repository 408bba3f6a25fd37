import { EdgebusError } from "#shared/errors.ts";

/** Longest wait we honour from a provider; a Cloudflare Queue retry can be delayed at most 24 h. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), or from SendGrid's
 * `X-RateLimit-Reset` (unix seconds) when `Retry-After` is absent. Undefined when neither says.
 */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | undefined {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : (Date.parse(retryAfter) - now) / 1000;
    if (Number.isFinite(seconds)) return clampSeconds(seconds);
  }
  const reset = headers.get("x-ratelimit-reset")?.trim();
  if (reset && /^\d+$/.test(reset)) return clampSeconds(Number(reset) - now / 1000);
  return undefined;
}

function clampSeconds(seconds: number): number {
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil(seconds)));
}

/**
 * Maps a provider's non-2xx answer to the one error type: 408, 429 and 5xx may succeed later
 * (`retryable`), any other 4xx will fail the same way again (dead letter). The provider's own
 * error text goes into `details` (it never contains our credentials) so an operator reading the
 * dead letter sees why.
 */
export async function providerError(provider: string, response: Response): Promise<EdgebusError> {
  const status = response.status;
  const body = await readErrorBody(response);
  const details = { provider, status, body };
  if (status === 429) {
    return new EdgebusError("rate_limited", `${provider} rate limited the request`, {
      details,
      retryable: true,
      retryAfterSeconds: retryAfterSeconds(response.headers),
    });
  }
  if (status === 408 || status >= 500) {
    return new EdgebusError("upstream_unavailable", `${provider} answered ${status}`, {
      details,
      retryable: true,
      retryAfterSeconds: retryAfterSeconds(response.headers),
    });
  }
  return new EdgebusError("bad_request", `${provider} rejected the request (${status})`, { details, retryable: false });
}

/**
 * A request that never got an answer (timeout, connection reset, DNS): retryable, and its outcome
 * is unknown — the request may have reached the provider, which may have accepted it before the
 * answer was lost. `fetch` does not say how far a request got, so every transport failure counts
 * as unknown (`details.outcome`); the notifier settles it before sending again (`isUnknownOutcome`).
 */
export function networkError(provider: string, cause: unknown): EdgebusError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
  return new EdgebusError(
    "upstream_unavailable",
    timedOut ? `${provider} did not answer in time (${reason})` : `${provider} unreachable: ${reason}`,
    { cause, retryable: true, details: { provider, outcome: "unknown" } },
  );
}

/** The call ended without an answer: the provider may or may not have the message. */
export function isUnknownOutcome(error: unknown): boolean {
  return (
    error instanceof EdgebusError &&
    typeof error.details === "object" &&
    error.details !== null &&
    (error.details as { outcome?: unknown }).outcome === "unknown"
  );
}

/** Provider error bodies are small JSON or text; keep at most 2 KB so a dead letter stays readable. */
async function readErrorBody(response: Response): Promise<unknown> {
  const text = (await response.text().catch(() => "")).slice(0, 2048);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `fetch` with a deadline, mapping transport failures to `networkError`. A provider that hangs
 * must not hold the consumer invocation until its wall-clock limit.
 */
export async function fetchProvider(
  provider: string,
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetcher(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw networkError(provider, cause);
  }
}

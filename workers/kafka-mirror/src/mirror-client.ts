/**
 * Client of the bridge's `POST /v1/mirror` (wire format: shared/src/mirror-protocol.ts).
 * Resolves with the per-event results of a 200; any other answer becomes an `EdgebusError` for
 * the whole batch: 408/429/5xx/network/timeout retryable (with `Retry-After`), 401/403 also
 * retryable (a secret mismatch is fixed by configuration, not by dropping events; exhausted
 * retries still end in the DLQ), 409 retryable (the bridge saw this request's nonce before, e.g.
 * a proxy re-sent it: the retry is signed again with a fresh nonce), other 4xx permanent.
 * Every call signs anew, so no two requests, retries included, share a nonce.
 */
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { type MirrorResponse, readMirrorResponse } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";

export interface MirrorClientOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

export async function postMirrorBatch(
  events: readonly CloudEventRecord[],
  { url, secret, timeoutMs, fetch: fetchImpl = fetch }: MirrorClientOptions,
): Promise<MirrorResponse> {
  const body = JSON.stringify({ events });
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signMirrorRequest(secret, body)) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (thrown) {
    const reason = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    throw new EdgebusError("upstream_unavailable", `mirror bridge unreachable (${reason})`, { cause: thrown });
  }
  if (response.status === 200) {
    const answer = readMirrorResponse(await response.json().catch(() => undefined));
    if (answer === undefined)
      throw new EdgebusError("upstream_unavailable", "mirror bridge answered 200 without a results list", {
        retryable: true,
      });
    return answer;
  }
  const text = (await response.text().catch(() => "")).slice(0, 300);
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
  const status = response.status;
  const retryable =
    status === 408 || status === 409 || status === 429 || status === 401 || status === 403 || status >= 500;
  throw new EdgebusError(
    status === 429 ? "rate_limited" : retryable ? "upstream_unavailable" : "bad_request",
    `mirror bridge answered ${status}${text ? `: ${text}` : ""}`,
    { retryable, retryAfterSeconds, details: { status } },
  );
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date); undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

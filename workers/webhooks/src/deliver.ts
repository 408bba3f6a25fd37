/**
 * One HTTP attempt of one delivery: the target is checked again (`#shared/webhooks/target-safety.ts`,
 * and its host resolved when a resolver is configured), then a signed POST with the Standard
 * Webhooks headers, a deadline, and `redirect: "manual"` — a 3xx is a failed attempt, never
 * followed (a redirect could lead anywhere the checks refused). The answer's first bytes are kept
 * for the history.
 */
import { checkTargetUrl } from "#shared/webhooks/target-safety.ts";
import type { WebhooksConfig } from "./config.ts";
import { resolveAndCheckHost } from "./dns-check.ts";
import { retryAfterSeconds } from "./schedule.ts";
import { signatureHeader } from "./signature.ts";

const SNIPPET_BYTES = 512;

export type AttemptResult =
  | { kind: "delivered"; status: number; latencyMs: number; snippet: string }
  | { kind: "gone"; status: number; latencyMs: number; snippet: string }
  | {
      kind: "failed";
      status: number | null;
      latencyMs: number;
      snippet: string | null;
      error: string;
      retryAfter?: number;
    }
  | { kind: "refused"; reason: string; temporary: boolean };

async function readSnippet(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, SNIPPET_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes).replaceAll("\u0000", "");
}

export async function attemptDelivery(
  config: Pick<WebhooksConfig, "allowPrivateTargets" | "dnsResolverUrl" | "timeoutMs">,
  target: { url: string; secrets: readonly string[] },
  delivery: { messageId: string; body: string },
  fetcher: typeof fetch = fetch,
): Promise<AttemptResult> {
  const verdict = checkTargetUrl(target.url, { allowPrivateTargets: config.allowPrivateTargets });
  if (!verdict.ok) return { kind: "refused", reason: verdict.reason, temporary: false };
  if (!config.allowPrivateTargets && config.dnsResolverUrl !== null) {
    const resolved = await resolveAndCheckHost(verdict.url.hostname, config.dnsResolverUrl, fetcher);
    if (!resolved.ok) return { kind: "refused", reason: resolved.reason, temporary: resolved.temporary };
  }
  if (target.secrets.length === 0) return { kind: "refused", reason: "no valid signing secret", temporary: false };
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/cloudevents+json",
    "user-agent": "edgebus-webhooks/1",
    "webhook-id": delivery.messageId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(target.secrets, delivery.messageId, timestamp, delivery.body),
  };
  const started = Date.now();
  let response: Response;
  try {
    response = await fetcher(verdict.url.toString(), {
      method: "POST",
      headers,
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { kind: "failed", status: null, latencyMs: Date.now() - started, snippet: null, error: message };
  }
  const snippet = await readSnippet(response).catch(() => "");
  const latencyMs = Date.now() - started;
  if (response.status >= 200 && response.status < 300)
    return { kind: "delivered", status: response.status, latencyMs, snippet };
  if (response.status === 410) return { kind: "gone", status: 410, latencyMs, snippet };
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
  const error =
    response.status >= 300 && response.status < 400
      ? `redirect to ${response.headers.get("location") ?? "(no Location)"} not followed`
      : `HTTP ${response.status}`;
  return {
    kind: "failed",
    status: response.status,
    latencyMs,
    snippet,
    error,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
}

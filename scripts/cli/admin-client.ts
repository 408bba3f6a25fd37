/**
 * The CLI's HTTP client for the producer's admin API. Every failure becomes an `AdminApiError`
 * with a message a person can act on: the API's own `{error: {code, message}}`, or what went
 * wrong reaching it.
 */

export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly details: unknown;

  constructor(message: string, status: number | undefined, code: string | undefined, details: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface AdminClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly fetcher?: typeof fetch;
  readonly timeoutMs?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: API responses are printed or read field by field
export type Json = Record<string, any>;

export class AdminClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor({ baseUrl, apiKey, fetcher = fetch, timeoutMs = 30_000 }: AdminClientOptions) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#apiKey = apiKey;
    this.#fetch = fetcher;
    this.#timeoutMs = timeoutMs;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const url = `${this.#baseUrl}${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.#apiKey}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : "";
      throw new AdminApiError(
        `cannot reach ${this.#baseUrl} (${reason}); is the producer running? Set EDGEBUS_API_URL or --url`,
        undefined,
        undefined,
        undefined,
      );
    }
    const text = await response.text();
    let json: Json;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      throw new AdminApiError(
        `${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
        response.status,
        undefined,
        undefined,
      );
    }
    if (!response.ok) {
      const error = (json.error ?? {}) as { code?: string; message?: string; details?: unknown };
      throw new AdminApiError(
        `${error.code ?? `HTTP ${response.status}`}: ${error.message ?? text.slice(0, 200)}`,
        response.status,
        error.code,
        error.details,
      );
    }
    return { status: response.status, json };
  }

  listDeadLetters(query: Record<string, string>): Promise<Json> {
    const search = new URLSearchParams(query).toString();
    return this.request("GET", `/v1/dead-letters${search ? `?${search}` : ""}`).then((r) => r.json);
  }

  getDeadLetter(id: string): Promise<Json> {
    return this.request("GET", `/v1/dead-letters/${encodeURIComponent(id)}`).then((r) => r.json);
  }

  replayDeadLetter(id: string): Promise<Json> {
    return this.request("POST", `/v1/dead-letters/${encodeURIComponent(id)}/replay`).then((r) => r.json);
  }

  discardDeadLetter(id: string, reason: string): Promise<Json> {
    return this.request("DELETE", `/v1/dead-letters/${encodeURIComponent(id)}`, { reason }).then((r) => r.json);
  }

  redriveDeadLetters(body: Json): Promise<Json> {
    return this.request("POST", "/v1/dead-letters/replay", body).then((r) => r.json);
  }

  replayArchive(body: Json): Promise<Json> {
    return this.request("POST", "/v1/replay", body).then((r) => r.json);
  }

  getJob(id: string): Promise<Json> {
    return this.request("GET", `/v1/replay/${encodeURIComponent(id)}`).then((r) => r.json);
  }

  cancelJob(id: string): Promise<Json> {
    return this.request("DELETE", `/v1/replay/${encodeURIComponent(id)}`).then((r) => r.json);
  }
}

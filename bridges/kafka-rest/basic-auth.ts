import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { globMatcher } from "../glob.ts";

/** One login with full access (every topic, every group): the gateway's original single credential. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * One login and what it may do. Each list holds glob patterns (`*` = any run of characters);
 * an empty list allows nothing. `passwords`: every value is accepted (rotation).
 */
export interface KafkaRestCredential {
  readonly username: string;
  readonly passwords: readonly string[];
  /** Topics it may produce to. */
  readonly produce: readonly string[];
  /** Topics it may read: `/fetch`, `/consume`, `/committed`, `/offsets`. */
  readonly fetch: readonly string[];
  /** Consumer groups it may consume in, commit for, read or delete. */
  readonly groups: readonly string[];
}

export type KafkaRestLogins = BasicCredentials | readonly KafkaRestCredential[];

/** What the authenticated caller of one request may do; the routes ask before they act. */
export class CredentialScope {
  readonly username: string;
  readonly #produce: (topic: string) => boolean;
  readonly #fetch: (topic: string) => boolean;
  readonly #groups: (group: string) => boolean;

  constructor(credential: KafkaRestCredential) {
    this.username = credential.username;
    this.#produce = globMatcher(credential.produce);
    this.#fetch = globMatcher(credential.fetch);
    this.#groups = globMatcher(credential.groups);
  }

  canProduce(topic: string): boolean {
    return this.#produce(topic);
  }

  canFetch(topic: string): boolean {
    return this.#fetch(topic);
  }

  canUseGroup(group: string): boolean {
    return this.#groups(group);
  }

  /** Throws `forbidden` (403) naming every topic of `topics` this login may not produce to. */
  requireProduce(topics: Iterable<string>): void {
    const refused = [...new Set(topics)].filter((t) => !this.canProduce(t));
    if (refused.length > 0) throw this.#refusal("produce to", "topic", refused);
  }

  /** Throws `forbidden` (403) naming every topic of `topics` this login may not read. */
  requireFetch(topics: Iterable<string>): void {
    const refused = [...new Set(topics)].filter((t) => !this.canFetch(t));
    if (refused.length > 0) throw this.#refusal("read", "topic", refused);
  }

  /** Throws `forbidden` (403) when this login may not use consumer group `group`. */
  requireGroup(group: string): void {
    if (!this.canUseGroup(group)) throw this.#refusal("use", "consumer group", [group]);
  }

  #refusal(action: string, kind: string, names: string[]): EdgebusError {
    return new EdgebusError(
      "forbidden",
      `credential ${this.username} may not ${action} ${kind}${names.length > 1 ? "s" : ""} ${names.join(", ")}`,
      { details: { [kind === "topic" ? "topics" : "groups"]: names } },
    );
  }
}

/** The context variable the middleware sets for the routes. */
export const SCOPE = "kafkaRestScope";
export type KafkaRestVariables = { [SCOPE]: CredentialScope };

export function credentialList(logins: KafkaRestLogins): readonly KafkaRestCredential[] {
  if (!Array.isArray(logins)) {
    const single = logins as BasicCredentials;
    return [{ username: single.username, passwords: [single.password], produce: ["*"], fetch: ["*"], groups: ["*"] }];
  }
  return logins as readonly KafkaRestCredential[];
}

/**
 * HTTP Basic auth as `@upstash/kafka` sends it (`authorization: Basic base64(user:pass)`); the
 * password may contain `:` so the decoded text is split on the first one. Runs before any route
 * reads a body. Every password of every login is compared (in constant time per comparison), so
 * the time taken does not tell which usernames exist. On success the login's scope is in
 * `c.get(SCOPE)`.
 *
 * @example app.use("*", basicAuth({ username: "edgebus", password: process.env.PASS }))
 */
export function basicAuth(
  logins: KafkaRestLogins,
  options: {
    /**
     * Requests that may carry the login as `?user=…&pass=…` when they have no Authorization
     * header (Upstash's webhook, for senders that cannot do HTTP auth).
     */
    readonly queryCredentials?: (c: Context) => boolean;
  } = {},
): MiddlewareHandler<{ Variables: KafkaRestVariables }> {
  const authenticate = basicAuthenticator(logins);
  return async function basicAuthMiddleware(c, next) {
    const header = c.req.header("authorization");
    const fromQuery = header === undefined && options.queryCredentials?.(c) && c.req.query("user") !== undefined;
    c.set(
      SCOPE,
      fromQuery
        ? authenticate(undefined, { user: c.req.query("user") as string, pass: c.req.query("pass") ?? "" })
        : authenticate(header),
    );
    await next();
  };
}

/**
 * The check `basicAuth` makes, for callers without Hono (the lean produce route): the scope of
 * the login in `header` (the Authorization header, `undefined` when absent) or, when given
 * instead, in `query`; throws `unauthorized` (401) otherwise.
 */
export function basicAuthenticator(
  logins: KafkaRestLogins,
): (header: string | undefined, query?: { user: string; pass: string }) => CredentialScope {
  const known = credentialList(logins).map((credential) => ({
    username: credential.username,
    digests: credential.passwords.map(digest),
    scope: new CredentialScope(credential),
  }));
  return (header, query) => {
    let username: string;
    let password: Buffer;
    if (query !== undefined) {
      username = query.user;
      password = digest(query.pass);
    } else {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
      if (!match) throw new EdgebusError("unauthorized", "missing Basic authorization");
      const decoded = Buffer.from(match[1] as string, "base64").toString("latin1");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new EdgebusError("unauthorized", "invalid username or password");
      username = decoded.slice(0, colon);
      password = digest(decoded.slice(colon + 1));
    }
    let found: CredentialScope | undefined;
    for (const candidate of known) {
      let passwordMatches = false;
      for (const expected of candidate.digests)
        passwordMatches = timingSafeEqual(expected, password) || passwordMatches;
      if (passwordMatches && candidate.username === username) found = candidate.scope;
    }
    if (!found) throw new EdgebusError("unauthorized", "invalid username or password");
    return found;
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "latin1").digest();
}

import { z } from "zod";
import { EdgebusError } from "../errors.ts";
import { UpstashKafkaPublisher, type UpstashKafkaPublisherOptions } from "./upstash-kafka-publisher.ts";

/** The Worker variables/secrets that configure the Kafka destination (DESIGN.md, configuration). */
export interface KafkaRestEnv {
  UPSTASH_KAFKA_REST_URL?: string;
  UPSTASH_KAFKA_REST_USERNAME?: string;
  UPSTASH_KAFKA_REST_PASSWORD?: string;
}

const urlSchema = z.url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. http://127.0.0.1:8788/kafka" });

/**
 * Builds the Kafka publisher from the environment, or returns `null` when
 * `UPSTASH_KAFKA_REST_URL` is unset or empty (no Kafka destination configured).
 *
 * With the URL set, a missing username or password is a deployment mistake: it throws an
 * `EdgebusError` naming the exact `wrangler secret put` command (and `.dev.vars` for local dev).
 */
export function kafkaPublisherFromEnv(
  env: KafkaRestEnv,
  options: Omit<UpstashKafkaPublisherOptions, "url" | "username" | "password"> = {},
): UpstashKafkaPublisher | null {
  const url = env.UPSTASH_KAFKA_REST_URL?.trim();
  if (!url) return null;
  const parsedUrl = urlSchema.safeParse(url);
  if (!parsedUrl.success) {
    throw configError(`UPSTASH_KAFKA_REST_URL ${parsedUrl.error.issues[0]?.message ?? "is invalid"}`);
  }
  const missing = (["UPSTASH_KAFKA_REST_USERNAME", "UPSTASH_KAFKA_REST_PASSWORD"] as const).filter(
    (name) => !env[name],
  );
  if (missing.length > 0) {
    const commands = missing.map((name) => `npx wrangler secret put ${name}`).join(" && ");
    throw configError(
      `UPSTASH_KAFKA_REST_URL is set but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not: run \`${commands}\` (locally: add ${missing.join(", ")} to .dev.vars), or unset UPSTASH_KAFKA_REST_URL to run without Kafka`,
    );
  }
  return new UpstashKafkaPublisher({
    ...options,
    url: parsedUrl.data,
    username: env.UPSTASH_KAFKA_REST_USERNAME ?? "",
    password: env.UPSTASH_KAFKA_REST_PASSWORD ?? "",
  });
}

function configError(message: string): EdgebusError {
  return new EdgebusError("internal", message, { retryable: false });
}

import { z } from "zod";

/**
 * `mirror.targets` of the bridge config (bridges/config.ts): the brokers the mirror writes into.
 * Each entry has a `kind`, its connection, and optionally its own `mode`, `include`, `exclude`
 * and `rename` (absent: the `mirror.*` values of the same name). Absent list: one Kafka target
 * (the mirror before targets existed). `BRIDGE_RABBITMQ_URL`, `BRIDGE_NATS_URL` and
 * `BRIDGE_REDIS_STREAMS_URL` set the `url` of the target of that kind, adding one with its
 * defaults when the list has none (`withTargetEnvironment`).
 */

const MIB = 1_048_576;

const common = {
  /** Label of its health check and metrics; default the kind. Unique. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "lower-case letters, digits, - and _ (at most 40)")
    .optional(),
  mode: z.enum(["binary", "structured"]).optional(),
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  rename: z.array(z.object({ from: z.string().min(1), to: z.string().min(1) })).optional(),
};

const url = (protocols: readonly string[], example: string) =>
  z
    .string({ error: `required (${example})` })
    .refine((value) => value.split(",").every((one) => protocols.some((p) => one.trim().startsWith(`${p}://`))), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(" or ")} (${example})`,
    });

const kafkaTarget = z.object({ kind: z.literal("kafka"), ...common }).strict();

const rabbitmqTarget = z
  .object({
    kind: z.literal("rabbitmq"),
    ...common,
    url: url(["amqp", "amqps"], "amqp://user:password@host:5672/vhost; or BRIDGE_RABBITMQ_URL"),
    exchange: z.string().min(1).max(255).default("edgebus"),
    /** Queues declared (durable) with their bindings at every connect; type quorum by default. */
    queues: z
      .array(
        z
          .object({
            name: z.string().min(1).max(255),
            type: z.enum(["quorum", "classic"]).default("quorum"),
            bindingKeys: z.array(z.string().min(1).max(255)).min(1),
          })
          .strict(),
      )
      .default([]),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * MIB),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict();

const natsTarget = z
  .object({
    kind: z.literal("nats"),
    ...common,
    url: url(["nats", "tls"], "nats://host:4222; or BRIDGE_NATS_URL"),
    subjectPrefix: z
      .string()
      .regex(/^([A-Za-z0-9_-]+\.)+$/, "tokens each followed by a dot, e.g. edgebus.")
      .default("edgebus."),
    stream: z
      .object({
        name: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, - and _")
          .default("EDGEBUS"),
        subjects: z.array(z.string().min(1)).min(1).default(["edgebus.>"]),
        retention: z.enum(["limits", "interest", "workqueue"]).default("limits"),
        /** 0 = no age limit. */
        maxAgeSeconds: z
          .number()
          .int()
          .min(0)
          .default(7 * 86_400),
        replicas: z.number().int().min(1).max(5).default(1),
        duplicateWindowSeconds: z.number().int().min(1).max(86_400).default(600),
      })
      .strict()
      .prefault({}),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict();

const redisStreamsTarget = z
  .object({
    kind: z.literal("redis-streams"),
    ...common,
    url: url(["redis", "rediss"], "redis://host:6379; or BRIDGE_REDIS_STREAMS_URL"),
    keyPrefix: z.string().min(1).default("edgebus:"),
    markerPrefix: z.string().min(1).default("edgebus:mirror-seen:"),
    /** Approximate `MAXLEN` of each stream; 0 = not trimmed. */
    maxLen: z.number().int().min(0).default(1_000_000),
    dedupeTtlSeconds: z.number().int().min(60).default(86_400),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * MIB),
    timeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  })
  .strict();

export const mirrorTargetSchema = z.discriminatedUnion("kind", [
  kafkaTarget,
  rabbitmqTarget,
  natsTarget,
  redisStreamsTarget,
]);

export type MirrorTargetConfig = z.output<typeof mirrorTargetSchema>;

/** Problems across the list (each added as an issue at `mirror.targets`), none when it is fine. */
export function targetListProblems(
  targets: readonly MirrorTargetConfig[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const names = targets.map((t) => t.name ?? t.kind);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) {
      problems.push({ path: [i, "name"], message: `target name "${name}" is used twice (give each its own name)` });
    }
  });
  targets.forEach((target, i) => {
    if (target.kind !== "nats") return;
    const prefix = target.subjectPrefix;
    const covered = target.stream.subjects.some(
      (s) => s === ">" || (s.endsWith(".>") && prefix.startsWith(s.slice(0, -1))),
    );
    if (!covered) {
      problems.push({
        path: [i, "stream", "subjects"],
        message: `must capture the subjects ${prefix}… (e.g. "${prefix}>")`,
      });
    }
  });
  return problems;
}

const ENV_TARGETS = [
  ["BRIDGE_RABBITMQ_URL", "rabbitmq"],
  ["BRIDGE_NATS_URL", "nats"],
  ["BRIDGE_REDIS_STREAMS_URL", "redis-streams"],
] as const;

/**
 * The environment on top of the file's `mirror` section: each variable sets the `url` of the
 * first target of its kind, or adds a target of that kind with its defaults (after a Kafka target
 * when the file lists none: the mirror's default).
 */
export function withTargetEnvironment(
  mirror: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const [variable, kind] of ENV_TARGETS) {
    const value = env[variable];
    if (!value) continue;
    const targets = Array.isArray(mirror.targets)
      ? (mirror.targets as Record<string, unknown>[])
      : [{ kind: "kafka" } as Record<string, unknown>];
    const existing = targets.find((t) => t && typeof t === "object" && t.kind === kind);
    if (existing) existing.url = value;
    else targets.push({ kind, url: value });
    mirror.targets = targets;
  }
}

/** The variables that enable targets (for `npm run dev` and the docs). */
export const TARGET_ENV_VARIABLES = ENV_TARGETS.map(([variable]) => variable);

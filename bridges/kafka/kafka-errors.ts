import { EdgebusError } from "#shared/errors.ts";

/**
 * Kafka client failures as `EdgebusError`: the broker being unreachable or a request timing out
 * is `upstream_unavailable` (retryable). The client's message goes into `details` so operators
 * see it in logs, while the HTTP message stays generic.
 */
export function kafkaUnavailable(what: string, cause: unknown): EdgebusError {
  if (cause instanceof EdgebusError) return cause;
  return new EdgebusError("upstream_unavailable", `Kafka: ${what}`, {
    cause,
    details: { reason: flatten(cause) },
  });
}

/** The client's error with its nested causes, one line (aggregate errors list their parts). */
export function flatten(error: unknown): string {
  if (error instanceof Error) {
    const nested = (error as Error & { errors?: unknown[] }).errors ?? [];
    const parts = [error.message, ...nested.map(flatten)];
    if (error.cause && nested.length === 0) parts.push(flatten(error.cause));
    return parts.filter(Boolean).join(" <- ");
  }
  return error === undefined ? "" : String(error);
}

/** The first Kafka protocol error code in a client error (they nest: retries wrap responses wrap codes). */
export function kafkaErrorCode(error: unknown, depth = 0): number | undefined {
  if (!error || typeof error !== "object" || depth > 5) return undefined;
  const { apiCode, errors, cause } = error as { apiCode?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof apiCode === "number") return apiCode;
  for (const nested of errors ?? []) {
    const code = kafkaErrorCode(nested, depth + 1);
    if (code !== undefined) return code;
  }
  return kafkaErrorCode(cause, depth + 1);
}

/**
 * Error codes of a produce response's partitions inside a client error. The client reports the
 * request as failed with an API code of -1 (unknown server error) even when every partition
 * named a precise code, such as INVALID_TIMESTAMP.
 */
export function kafkaPartitionErrorCodes(error: unknown, depth = 0): number[] {
  if (!error || typeof error !== "object" || depth > 5) return [];
  const { response, errors, cause } = error as { response?: unknown; errors?: unknown[]; cause?: unknown };
  const codes: number[] = [];
  const responses = (response as { responses?: { partitionResponses?: { errorCode?: unknown }[] }[] } | undefined)
    ?.responses;
  for (const topic of Array.isArray(responses) ? responses : []) {
    for (const partition of topic.partitionResponses ?? []) {
      if (typeof partition.errorCode === "number" && partition.errorCode !== 0) codes.push(partition.errorCode);
    }
  }
  for (const nested of errors ?? []) codes.push(...kafkaPartitionErrorCodes(nested, depth + 1));
  return [...codes, ...kafkaPartitionErrorCodes(cause, depth + 1)];
}

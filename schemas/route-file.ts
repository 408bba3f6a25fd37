/**
 * A catalogue's routes as a data file (`schemas/<namespace>/routes.json`), checked with zod when
 * the catalogue module loads (so a malformed pattern stops the Worker at start and fails the
 * build's tests) and against the producer's queue bindings at start (`unboundQueues`).
 *
 * Besides the shape: names are unique, and a type named literally in a pattern (`type: ["x"]`,
 * `{prefix}`) must be in the catalogue, since a misspelt type would silently route nothing.
 */
import { z } from "zod";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { formatPath } from "#shared/catalogue/data-issues.ts";
import { EdgebusError } from "#shared/errors.ts";
import { type RoutingRule, routingRulesSchema } from "#shared/routing/routing-rule.ts";

export const routeFileSchema = z.strictObject({
  /** Optional pointer for editors; ignored. */
  $comment: z.string().optional(),
  namespace: z.string().min(1),
  routes: routingRulesSchema,
});

export type RouteFile = z.input<typeof routeFileSchema>;

/** Parses `json` (the file's content) as `catalogue`'s routes, or throws naming every problem with its path. */
export function parseRouteFile(json: unknown, catalogue: Catalogue, fileName: string): RoutingRule[] {
  const parsed = routeFileSchema.safeParse(json);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${formatPath("file", issue.path)}: ${issue.message}`);
  if (parsed.success) {
    const { namespace, routes } = parsed.data;
    if (namespace !== catalogue.namespace) problems.push(`namespace: "${namespace}" is not "${catalogue.namespace}"`);
    const seen = new Set<string>();
    routes.forEach((rule, index) => {
      if (seen.has(rule.name)) problems.push(`routes[${index}].name: "${rule.name}" is used twice`);
      seen.add(rule.name);
      for (const [at, literal] of typeLiterals(rule)) {
        const known = catalogue.types().some((type) => (at === "prefix" ? type.startsWith(literal) : type === literal));
        if (!known)
          problems.push(`routes[${index}].pattern.type: ${at} "${literal}" matches no type of ${catalogue.namespace}`);
      }
    });
  }
  if (problems.length > 0) {
    throw new EdgebusError("internal", `invalid routes in ${fileName}: ${problems.join("; ")}`, {
      details: { file: fileName, problems },
      retryable: false,
    });
  }
  return (parsed.data as z.output<typeof routeFileSchema>).routes;
}

function typeLiterals(rule: RoutingRule): [kind: "type" | "prefix", value: string][] {
  const matchers = rule.pattern.type;
  if (!Array.isArray(matchers)) return [];
  return matchers.flatMap((matcher): [kind: "type" | "prefix", value: string][] => {
    if (typeof matcher === "string") return [["type", matcher]];
    if (matcher !== null && typeof matcher === "object" && "prefix" in matcher) return [["prefix", matcher.prefix]];
    return [];
  });
}

/** Every `(route, queue)` naming a queue outside `bound`, as messages for a start-up error. */
export function unboundQueues(
  routes: readonly { namespace: string; rules: readonly RoutingRule[] }[],
  bound: readonly string[],
): string[] {
  return routes.flatMap(({ namespace, rules }) =>
    rules.flatMap((rule) =>
      (rule.queues ?? [])
        .filter((queue) => !bound.includes(queue))
        .map(
          (queue) =>
            `route "${rule.name}" of catalogue ${namespace} sends to queue "${queue}", which the producer has no binding for (bound: ${bound.join(", ")})`,
        ),
    ),
  );
}

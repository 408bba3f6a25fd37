import { bodyText } from "../http/bounded-body.ts";
import type { LeanRoute } from "../http/lean-routes.ts";
import { gatewayContextOf, type KafkaRestDeps } from "./app.ts";
import { basicAuthenticator, type CredentialScope } from "./basic-auth.ts";
import { produceFromBody } from "./routes/produce.ts";
import { upstashError } from "./upstash-errors.ts";

/**
 * `POST {prefix}/produce` (what `@upstash/kafka`'s `produce` and `produceMany` send) as a lean
 * route (`bridges/http/lean-routes.ts`), in front of the gateway's Hono app mounted at `prefix`,
 * which still serves every other form and route. Same answers as the Hono route: the login checked
 * before the body is read, the body read within `limits.maxBodyBytes` and the gateway's body
 * budget, then `produceFromBody` (the code the Hono route runs); errors in the Upstash shape.
 * Give it the same `deps` as `createKafkaRestApp` (the same body budget is then shared).
 */
export function createKafkaRestLeanRoutes(deps: KafkaRestDeps, prefix = "/kafka"): LeanRoute[] {
  const ctx = gatewayContextOf(deps);
  const authenticate = basicAuthenticator(deps.credentials);
  const limits = { maxBytes: ctx.limits.maxBodyBytes, budget: ctx.bodyBudget };
  const fromBody = produceFromBody(ctx);
  // The body's text is made and parsed in this plain function, not in the `async` handler below,
  // which waits for Kafka holding only the body's bytes: a suspended frame keeps every value it
  // held, and the text and the parsed messages are then collected before Kafka answers instead
  // of surviving into the old generation with every request in flight (see `RecordProducer.produce`).
  const produceBytes = (scope: CredentialScope, body: Buffer) => fromBody(scope, bodyText(body));
  return [
    {
      method: "POST",
      path: `${prefix}/produce`,
      async handle(request) {
        const scope = authenticate(request.header("authorization"));
        const produced = produceBytes(scope, await request.body(limits));
        return { status: 200, json: await produced };
      },
      fail(error, request) {
        const answer = upstashError(error, request.path);
        return {
          status: answer.status,
          json: JSON.stringify(answer.body),
          ...(answer.retryAfter === undefined ? {} : { headers: { "retry-after": answer.retryAfter } }),
        };
      },
    },
  ];
}

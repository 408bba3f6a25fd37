/**
 * `npm run routes -- <command>`: the catalogues' routes (data files `schemas/<namespace>/routes.json`)
 * from the command line, with the producer's own parsing, validation and router.
 *
 * Exit status: 0 done, 1 the event would be refused, 2 a usage error.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import { isEdgebusError } from "#shared/errors.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../schemas/catalogues.ts";
import { subscriptionLines } from "./cli/subscriptions-explain.ts";
import { explainEvent, headerLines, mismatch, routeLines, topicSettings } from "./routes/explain-routing.ts";

const HELP = `routes: where events go, per catalogue

Usage: npm run routes -- <command> [options]

  explain <event.json | ->   print where the event would go and why: its catalogue, Kafka topic
                             and key, queues, and every route of its catalogue (matched or not,
                             and which field did not match). Any envelope the producer accepts:
                             CloudEvent, legacy {event_id, event_type, …} or event bus
                             {eventId, eventType, timestamp, source, version, data}. With a
                             database (--database-url or $DATABASE_URL) also the webhook
                             subscriptions it would be delivered to (docs/webhooks.md)
  example <type>             print an example event of a type (full or short name) to explain
                             or publish; --envelope cloudevent|bus|legacy (default cloudevent)
  list                       every route of the loaded catalogues with its destinations
  topics                     every topic of the loaded catalogues with its settings

Options
  --catalogues LIST   catalogues to load (default $EDGEBUS_CATALOGUES, else all shipped:
                      ${Object.keys(SHIPPED_CATALOGUES).join(",")})
  --key-catalogue NS  the publishing key's catalogue(s), comma-separated: short names resolve
                      among these (default: all loaded)
  --no-kafka          explain as if Kafka were not configured
  --database-url URL  Postgres holding the webhook subscriptions (default $DATABASE_URL)
  -h, --help          this text

Examples
  npm run routes -- example payment.failed --key-catalogue commerce --envelope bus > /tmp/e.json
  npm run routes -- explain /tmp/e.json --key-catalogue commerce
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      catalogues: { type: "string" },
      "key-catalogue": { type: "string" },
      "no-kafka": { type: "boolean", default: false },
      "database-url": { type: "string" },
      envelope: { type: "string", default: "cloudevent" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, argument] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  const setting = values.catalogues ?? process.env.EDGEBUS_CATALOGUES ?? Object.keys(SHIPPED_CATALOGUES).join(",");
  const catalogues = loadCatalogues(setting);
  const namespaces = values["key-catalogue"]?.split(",").map((name) => name.trim());
  const print = (lines: string[]) => process.stdout.write(`${lines.join("\n")}\n`);

  switch (command) {
    case "explain": {
      if (argument === undefined) throw new UsageError("explain needs a file (or - for stdin)");
      const text = readFileSync(argument === "-" ? 0 : argument, "utf8");
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`${argument} is not JSON: ${(error as Error).message}`);
      }
      const explanation = explainEvent(input, {
        catalogues,
        kafkaEnabled: !values["no-kafka"],
        ...(namespaces === undefined ? {} : { namespaces }),
      });
      print([...headerLines(explanation, catalogues), ...routeLines(explanation)]);
      print(await subscriptionLines(explanation.event, values["database-url"] ?? process.env.DATABASE_URL, mismatch));
      return 0;
    }
    case "example": {
      if (argument === undefined) throw new UsageError("example needs a type");
      const type = catalogues.resolveType(argument, namespaces);
      const definition = catalogues.require(type, namespaces);
      const event = exampleEvent(definition);
      print([JSON.stringify(inEnvelope(event, values.envelope, argument), null, 2)]);
      return 0;
    }
    case "list": {
      for (const plugin of catalogues.plugins()) {
        print([`${plugin.catalogue.namespace}: ${plugin.description}`]);
        for (const rule of plugin.routes) {
          const destinations = [...(rule.queues ?? []), ...(rule.kafka ? ["kafka"] : [])].join(", ");
          const groups = (rule.consumerGroups ?? []).map((group) => ` [group ${group.name}]`).join("");
          print([`  ${rule.name} → ${destinations}${groups}`]);
        }
      }
      return 0;
    }
    case "topics": {
      for (const topic of catalogues.topics()) print([`${topic.name}: ${topicSettings(topic)}`]);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** The example CloudEvent in the envelope a service of that catalogue would send. */
function inEnvelope(event: Record<string, unknown>, envelope: string, name: string): Record<string, unknown> {
  switch (envelope) {
    case "cloudevent":
      return event;
    case "bus":
      return {
        eventId: event.id,
        eventType: name,
        timestamp: event.time,
        source: `${String(event.type).split(".").at(-2)}-service`,
        version: "1.0",
        data: event.data,
      };
    case "legacy":
      return { event_id: event.id, event_type: name, timestamp: event.time, source: event.source, data: event.data };
    default:
      throw new UsageError(`--envelope must be cloudevent, bus or legacy, not ${envelope}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`routes: ${error.message}\n\n${HELP}`);
    process.exitCode = 2;
  } else if (isEdgebusError(error)) {
    process.stderr.write(`refused (${error.code}): ${error.message}\n`);
    if (error.details !== undefined) process.stderr.write(`${JSON.stringify(error.details, null, 2)}\n`);
    process.exitCode = 1;
  } else throw error;
}

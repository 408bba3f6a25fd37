/**
 * The shipped catalogues loaded together: namespaced types, short names resolved by the
 * publishing key's catalogues, collisions refused at load, route files validated.
 */
import { describe, expect, it } from "vitest";
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import { type CataloguePlugin, CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { EdgebusError } from "#shared/errors.ts";
import { catalogueNames, loadCatalogues, SHIPPED_CATALOGUES } from "./catalogues.ts";
import { commerceCatalogue, commercePlugin } from "./commerce/index.ts";
import { governmentPlugin } from "./index.ts";
import { learningCatalogue, learningPlugin } from "./learning/index.ts";
import { parseRouteFile, unboundQueues } from "./route-file.ts";

function failure(run: () => unknown): EdgebusError {
  try {
    run();
  } catch (error) {
    if (error instanceof EdgebusError) return error;
    throw error;
  }
  throw new Error("expected an EdgebusError");
}

const all = loadCatalogues("gov,commerce,learning");

describe("EDGEBUS_CATALOGUES", () => {
  it("defaults to gov", () => {
    expect(catalogueNames(undefined)).toEqual(["gov"]);
    expect(catalogueNames(" ")).toEqual(["gov"]);
    expect(loadCatalogues(undefined).namespaces()).toEqual(["gov"]);
    expect(catalogueNames("gov, commerce ,learning")).toEqual(["gov", "commerce", "learning"]);
  });

  it("loads every shipped catalogue together", () => {
    expect(all.namespaces()).toEqual(["gov", "commerce", "learning"]);
    expect(all.types()).toHaveLength(
      Object.values(SHIPPED_CATALOGUES).reduce((sum, plugin) => sum + plugin.catalogue.types().length, 0),
    );
  });

  it("refuses unknown names and a catalogue named twice", () => {
    expect(failure(() => loadCatalogues("gov,shop")).message).toMatch(
      /unknown catalogue\(s\) shop; shipped: gov, commerce, learning/,
    );
    expect(failure(() => loadCatalogues("commerce,commerce")).message).toContain(
      'namespace "commerce" is loaded twice',
    );
  });
});

describe("collisions", () => {
  const plugin = (namespace: string, topic: string): CataloguePlugin => {
    const catalogue = new Catalogue(
      [
        {
          domain: "thing",
          topics: [{ name: topic, partitions: 1 }],
          events: [
            {
              type: `${namespace}.thing.made`,
              topic,
              version: 1,
              description: "x",
              data: commerceCatalogue.require("commerce.order.completed").data,
              example: commerceCatalogue.require("commerce.order.completed").example,
            },
          ],
        },
      ],
      { namespace },
    );
    return { catalogue, description: namespace, routes: [] };
  };

  it("refuses two catalogues declaring one topic, naming both", () => {
    const error = failure(() => new CatalogueSet([commercePlugin, plugin("shop", "order-events")]));
    expect(error.message).toContain('topic "order-events" is declared by both "commerce" and "shop"');
  });

  it("refuses overlapping namespaces", () => {
    const error = failure(() => new CatalogueSet([governmentPlugin, plugin("gov.extra", "extra-events")]));
    expect(error.message).toContain('namespaces "gov" and "gov.extra" overlap');
  });
});

describe("short names", () => {
  it("resolve by the key's catalogue when two documents define the same one", () => {
    expect(all.resolveType("payment.failed", ["commerce"])).toBe("commerce.payment.failed");
    expect(all.resolveType("payment.failed", ["learning"])).toBe("learning.payment.failed");
    expect(all.resolveType("payment.failed", ["gov", "learning"])).toBe("learning.payment.failed");
  });

  it("resolve when only one of the key's catalogues has them", () => {
    expect(all.resolveType("order.created")).toBe("commerce.order.created");
    expect(all.resolveType("user.registered")).toBe("learning.user.registered");
    expect(all.resolveType("citizen.created")).toBe("gov.auth.citizen.created");
    expect(all.resolveType("order.created", ["learning"])).toBe("order.created");
  });

  it("shared by several of the key's catalogues are refused, naming the full types", () => {
    expect(all.resolveType("payment.failed")).toBe("payment.failed");
    const error = failure(() => all.require("payment.failed"));
    expect(error.code).toBe("unknown_event_type");
    expect(error.details).toEqual({
      type: "payment.failed",
      did_you_mean: ["commerce.payment.failed", "learning.payment.failed"],
    });
  });

  it("full types dispatch to their own catalogue: topic, key field, routes", () => {
    expect(all.topicFor("commerce.payment.failed")).toBe("order-events");
    expect(all.topicFor("learning.payment.failed")).toBe("payment.failed");
    expect(all.topicFor("gov.revenue.payment.failed")).toBe("gov.revenue.payment");
    expect(all.require("commerce.payment.failed").entityIdField).toBe("orderId");
    expect(all.require("commerce.customer.updated").entityIdField).toBe("customerId");
    expect(all.routesFor("learning.badge.earned")).toBe(learningPlugin.routes);
    expect(all.routesFor("other.thing.done")).toEqual([]);
  });
});

describe("route files", () => {
  const file = (routes: unknown, namespace = "learning") => ({ namespace, routes });
  const good = { name: "r", description: "", pattern: {}, kafka: true };

  it("refuse a malformed pattern with its path", () => {
    const error = failure(() =>
      parseRouteFile(file([{ ...good, pattern: { type: [{ regex: ".*" }] } }]), learningCatalogue, "x.json"),
    );
    expect(error.message).toMatch(/^invalid routes in x\.json: file\.routes\[0\]\.pattern/);
  });

  it("refuse a type literal that matches no type, a duplicate name and another namespace", () => {
    const error = failure(() =>
      parseRouteFile(
        file([{ ...good, name: "typo", pattern: { type: ["learning.user.registred"] } }, good], "commerce"),
        learningCatalogue,
        "x.json",
      ),
    );
    expect((error.details as { problems: string[] }).problems).toEqual([
      'namespace: "commerce" is not "learning"',
      'routes[0].pattern.type: type "learning.user.registred" matches no type of learning',
    ]);
    const twice = failure(() => parseRouteFile(file([good, good]), learningCatalogue, "x.json"));
    expect((twice.details as { problems: string[] }).problems).toEqual(['routes[1].name: "r" is used twice']);
  });

  it("report a route naming a queue with no binding", () => {
    const rules = [{ ...good, queues: ["archive", "shipping"] }];
    expect(unboundQueues([{ namespace: "commerce", rules }], ["archive", "kafka-mirror"])).toEqual([
      'route "r" of catalogue commerce sends to queue "shipping", which the producer has no binding for (bound: archive, kafka-mirror)',
    ]);
  });
});

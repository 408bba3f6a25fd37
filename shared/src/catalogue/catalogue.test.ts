import { describe, expect, it } from "vitest";
import { z } from "zod";
import { governmentCatalogue } from "../../../schemas/index.ts";
import { commerceCatalogue, commerceDomains } from "../../../test/fixtures/commerce-catalogue.ts";
import { EdgebusError } from "../errors.ts";
import { Catalogue } from "./catalogue.ts";
import type { DomainCatalogue, EventTypeDefinition } from "./types.ts";
import { type EventUpcaster, PathRelocations } from "./upcaster.ts";

const widgetCreated: EventTypeDefinition = {
  type: "acme.shop.widget.created",
  version: 1,
  description: "test",
  data: z.strictObject({ widget_id: z.string(), size: z.int().positive() }),
  entityIdField: "widget_id",
  example: { widget_id: "w-1", size: 3 },
};

function shop(overrides: Partial<DomainCatalogue> = {}): DomainCatalogue {
  return {
    domain: "shop",
    topics: [{ name: "acme.shop.widget", partitions: 2 }],
    events: [widgetCreated],
    ...overrides,
  };
}

/** The problems a broken catalogue is rejected with. */
function problemsOf(domains: DomainCatalogue[], namespace = "acme"): string[] {
  try {
    new Catalogue(domains, { namespace });
  } catch (error) {
    expect(error).toBeInstanceOf(EdgebusError);
    return ((error as EdgebusError).details as { problems: string[] }).problems;
  }
  throw new Error("expected the catalogue to be rejected");
}

describe("Catalogue construction", () => {
  it("accepts a consistent catalogue", () => {
    const catalogue = new Catalogue([shop()], { namespace: "acme" });
    expect(catalogue.types()).toEqual(["acme.shop.widget.created"]);
  });

  it("rejects duplicate types and topics", () => {
    const problems = problemsOf([
      shop({ events: [widgetCreated, widgetCreated], topics: [...shop().topics, ...shop().topics] }),
    ]);
    expect(problems).toContain('event type "acme.shop.widget.created" is declared twice');
    expect(problems).toContain('topic "acme.shop.widget" is declared twice');
  });

  it("rejects type names outside <namespace>.<domain>.<entity>.<action>", () => {
    const bad = [
      "acme.widget.created",
      "other.shop.widget.created",
      "acme.shop.Widget.created",
      "acme.shop.widget.created.now",
    ];
    for (const type of bad) {
      const problems = problemsOf([shop({ events: [{ ...widgetCreated, type }] })]);
      expect(problems.join("\n")).toContain(`event type "${type}" must be named acme.shop.<entity>.<action>`);
    }
  });

  it("rejects a type whose topic is not declared, and topics without types", () => {
    const problems = problemsOf([
      shop({
        events: [widgetCreated, { ...widgetCreated, type: "acme.shop.gadget.created" }],
        topics: [
          { name: "acme.shop.widget", partitions: 1 },
          { name: "acme.shop.sprocket", partitions: 1 },
        ],
      }),
    ]);
    expect(problems).toContain('event type "acme.shop.gadget.created": topic "acme.shop.gadget" is not declared');
    expect(problems).toContain('topic "acme.shop.sprocket" has no event types');
  });

  it("rejects bad partition counts, bad namespaces and duplicate domains", () => {
    expect(problemsOf([shop({ topics: [{ name: "acme.shop.widget", partitions: 0 }] })])).toContain(
      'topic "acme.shop.widget" partitions must be an integer from 1 to 1024',
    );
    expect(problemsOf([shop()], "Acme")[0]).toMatch(/namespace "Acme"/);
    expect(problemsOf([shop(), shop()])).toContain('domain "shop" is declared twice');
  });

  it("rejects an example that fails its own schema and a missing entity id", () => {
    const problems = problemsOf([shop({ events: [{ ...widgetCreated, example: { widget_id: "w", size: -1 } }] })]);
    expect(problems.join("\n")).toMatch(/example is invalid \(data\.size/);
    const noId = problemsOf([shop({ events: [{ ...widgetCreated, entityIdField: "nope" }] })]);
    expect(noId.join("\n")).toMatch(/entityIdField "nope"/);
  });

  it("rejects versions that do not go up", () => {
    const problems = problemsOf([
      shop({
        events: [{ ...widgetCreated, version: 2, previousVersions: [{ version: 2, data: widgetCreated.data }] }],
      }),
    ]);
    expect(problems.join("\n")).toMatch(/previous version 2 is not older than version 2/);
  });

  it("requires the types of one entity to agree on requiresEventVersion", () => {
    const widgetDeleted = { ...widgetCreated, type: "acme.shop.widget.deleted" };
    const problems = problemsOf([shop({ events: [{ ...widgetCreated, requiresEventVersion: true }, widgetDeleted] })]);
    expect(problems).toContain(
      'topic "acme.shop.widget": acme.shop.widget.created require eventversion but acme.shop.widget.deleted do not; the types of one entity must agree',
    );
    const agreeing = [widgetCreated, widgetDeleted].map((event) => ({ ...event, requiresEventVersion: true }));
    expect(new Catalogue([shop({ events: agreeing })], { namespace: "acme" }).types()).toHaveLength(2);
  });
});

describe("aliases and upcasters", () => {
  /** `acme.shop.widget.created` sent by an old shop as `widget.new` with `{widget, size_cm}`. */
  const oldShop: EventUpcaster = {
    form: "oldshop",
    formVersion: 2,
    description: "the old shop",
    recognises: (data) => typeof data === "object" && data !== null && "widget" in data,
    upcast: ({ data }) => {
      const { widget, size_cm } = data as { widget: unknown; size_cm: unknown };
      if (typeof size_cm !== "number") return { ok: false, issues: [{ path: "data.size_cm", message: "a number" }] };
      const relocations = new PathRelocations();
      relocations.add("data.widget_id", "data.widget");
      return { ok: true, data: { widget_id: widget, size: size_cm }, pathOf: relocations.pathOf, source: "/old-shop" };
    },
    example: { widget: "w-1", size_cm: 3 },
  };
  const withForms = (overrides: Partial<EventTypeDefinition>) => shop({ events: [{ ...widgetCreated, ...overrides }] });
  const input = (data: unknown) => ({
    data,
    time: "2026-01-01T00:00:00Z",
    source: "shop",
    sourceGivenAs: "service" as const,
  });

  it("resolves aliases to the full type, per catalogue; anything else unchanged", () => {
    const catalogue = new Catalogue([withForms({ aliases: ["widget.new", "new_widget"] })], { namespace: "acme" });
    expect(catalogue.resolveType("widget.new")).toBe("acme.shop.widget.created");
    expect(catalogue.resolveType("new_widget")).toBe("acme.shop.widget.created");
    expect(catalogue.resolveType("acme.shop.widget.created")).toBe("acme.shop.widget.created");
    expect(catalogue.resolveType("widget.old")).toBe("widget.old");
    expect(catalogue.aliases()).toEqual([
      { alias: "new_widget", type: "acme.shop.widget.created" },
      { alias: "widget.new", type: "acme.shop.widget.created" },
    ]);
    expect(governmentCatalogue.resolveType("widget.new")).toBe("widget.new");
    expect(commerceCatalogue.aliases()).toEqual([]);
  });

  it("upcasts a recognised form: the current data validated, issues at the sender's paths", () => {
    const catalogue = new Catalogue([withForms({ upcasters: [oldShop] })], { namespace: "acme" });
    const type = "acme.shop.widget.created";
    expect(catalogue.upcast(type, input({ widget_id: "w-1", size: 3 }))).toBeUndefined();
    expect(catalogue.upcast(type, input({ widget: "w-2", size_cm: 4 }))).toEqual({
      ok: true,
      form: "oldshop-v2",
      data: { widget_id: "w-2", size: 4 },
      source: "/old-shop",
    });
    expect(catalogue.upcast(type, input({ widget: "w-2", size_cm: "4" }))).toEqual({
      ok: false,
      form: "oldshop-v2",
      issues: [{ path: "data.size_cm", message: "a number" }],
    });
    const invalid = catalogue.upcast(type, input({ widget: 7, size_cm: 4 }));
    expect(invalid?.ok === false && invalid.issues.map((issue) => issue.path)).toEqual(["data.widget"]);
  });

  it("rejects bad, clashing or type-like aliases", () => {
    const other = { ...widgetCreated, type: "acme.shop.widget.deleted", aliases: ["widget.new"] };
    const problems = problemsOf([
      shop({
        events: [
          { ...widgetCreated, aliases: ["widget.new", "Widget.New", "acme.widget", "acme.shop.widget.deleted"] },
          other,
        ],
      }),
    ]);
    expect(problems).toEqual([
      'alias "Widget.New" of acme.shop.widget.created must be dot-separated lowercase segments',
      'alias "acme.widget" of acme.shop.widget.created must not start with the namespace "acme" (it would look like a type)',
      'alias "acme.shop.widget.deleted" of acme.shop.widget.created must not start with the namespace "acme" (it would look like a type)',
      'alias "acme.shop.widget.deleted" of acme.shop.widget.created is an event type',
      'alias "widget.new" of acme.shop.widget.deleted is already an alias of acme.shop.widget.created',
    ]);
  });

  it("rejects upcasters whose example does not upcast, that recognise the current shape, or are declared twice", () => {
    const where = 'event type "acme.shop.widget.created": upcaster';
    expect(problemsOf([withForms({ upcasters: [{ ...oldShop, example: { widget: "w", size_cm: "3" } }] })])).toEqual([
      `${where} oldshop-v2: example does not upcast (data.size_cm a number)`,
    ]);
    expect(problemsOf([withForms({ upcasters: [{ ...oldShop, recognises: () => true }] })])).toEqual([
      `${where} oldshop-v2 recognises the type's current example`,
    ]);
    expect(problemsOf([withForms({ upcasters: [oldShop, oldShop] })])).toEqual([
      `${where} oldshop-v2 is declared twice`,
    ]);
    const v3 = { ...oldShop, formVersion: 3 };
    expect(problemsOf([withForms({ upcasters: [oldShop, v3] })])).toEqual([
      `${where} oldshop-v3: its example is recognised by oldshop-v2 first`,
    ]);
    expect(problemsOf([withForms({ upcasters: [{ ...oldShop, form: "Old-Shop", formVersion: 0 }] })])).toEqual([
      `${where} Old-Shop-v0: form must be lowercase letters and digits`,
      `${where} Old-Shop-v0: formVersion must be a positive integer`,
    ]);
  });
});

describe("PathRelocations", () => {
  it("moves a path and everything under it, the longest pair first, on segment boundaries", () => {
    const relocations = new PathRelocations();
    relocations.add("data.address", "data.snapshot.address");
    relocations.add("data.address.text", "data.snapshot.address");
    expect(relocations.pathOf("data.address")).toBe("data.snapshot.address");
    expect(relocations.pathOf("data.address.city")).toBe("data.snapshot.address.city");
    expect(relocations.pathOf("data.address.text")).toBe("data.snapshot.address");
    expect(relocations.pathOf("data.addresses[0]")).toBe("data.addresses[0]");
    expect(relocations.pathOf("data.name")).toBe("data.name");
  });
});

describe("governmentCatalogue", () => {
  it("holds every type of the government catalogue", () => {
    const expected = [
      "gov.auth.citizen.created",
      "gov.auth.citizen.updated",
      "gov.auth.citizen.deleted",
      "gov.auth.citizen.verified",
      "gov.auth.employee.assigned",
      "gov.auth.role.granted",
      "gov.auth.role.revoked",
      "gov.auth.user.logged_in",
      "gov.permits.application.submitted",
      "gov.permits.application.approved",
      "gov.permits.application.rejected",
      "gov.permits.inspection.scheduled",
      "gov.permits.inspection.completed",
      "gov.revenue.payment.initiated",
      "gov.revenue.payment.completed",
      "gov.revenue.payment.failed",
      "gov.revenue.refund.issued",
      "gov.revenue.license.issued",
      "gov.documents.document.uploaded",
      "gov.documents.document.verified",
      "gov.notification.email.queued",
      "gov.notification.sms.queued",
      "gov.notification.push.queued",
    ];
    expect(governmentCatalogue.types()).toEqual([...expected].sort());
  });

  it("maps types to topics with partition counts", () => {
    expect(governmentCatalogue.topicFor("gov.auth.citizen.created")).toBe("gov.auth.citizen");
    expect(governmentCatalogue.partitionsOf("gov.auth.citizen")).toBe(6);
    expect(governmentCatalogue.partitionsOf("gov.revenue.payment")).toBe(6);
    expect(governmentCatalogue.partitionsOf("gov.permits.inspection")).toBe(3);
    expect(() => governmentCatalogue.partitionsOf("gov.nope.thing")).toThrow(/unknown topic/);
    const topicNames = governmentCatalogue.topics().map((t) => t.name);
    for (const type of governmentCatalogue.types()) expect(topicNames).toContain(governmentCatalogue.topicFor(type));
  });

  it("accepts each example and returns the parsed data", () => {
    for (const type of governmentCatalogue.types()) {
      const definition = governmentCatalogue.require(type);
      const result = governmentCatalogue.validateData(type, definition.example);
      expect(result, type).toEqual({ ok: true, data: definition.example });
    }
  });

  it("rejects unknown fields, bad emails, phones, timestamps, ids and amounts with paths", () => {
    const example = governmentCatalogue.require("gov.auth.citizen.created").example as Record<string, unknown>;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...example, nickname: "A" }, "data.nickname"],
      [{ ...example, email: "amina@" }, "data.email"],
      [{ ...example, phone: "0871234567" }, "data.phone"],
      [{ ...example, created_at: "2026-03-14 09:21" }, "data.created_at"],
      [{ ...example, created_at: "2026-03-14T09:21:07" }, "data.created_at"],
      [{ ...example, id: 0 }, "data.id"],
      [{ ...example, id: 2 ** 53 }, "data.id"],
      [{ ...example, id: "104233" }, "data.id"],
      [{ ...example, address: { ...(example.address as object), country: "Ireland" } }, "data.address.country"],
    ];
    for (const [data, path] of cases) {
      const result = governmentCatalogue.validateData("gov.auth.citizen.created", data);
      expect(result.ok, path).toBe(false);
      if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual([path]);
    }
    const payment = governmentCatalogue.require("gov.revenue.payment.completed").example as Record<string, unknown>;
    for (const bad of [{ amount_minor: 12.5 }, { currency: "eur" }, { amount_minor: -1 }]) {
      expect(governmentCatalogue.validateData("gov.revenue.payment.completed", { ...payment, ...bad }).ok).toBe(false);
    }
  });

  it("validates a v1 citizen.created (without preferred_language) against the current version", () => {
    const { preferred_language: _, ...v1 } = governmentCatalogue.require("gov.auth.citizen.created").example as Record<
      string,
      unknown
    >;
    expect(governmentCatalogue.validateData("gov.auth.citizen.created", v1).ok).toBe(true);
    expect(governmentCatalogue.versionsOf("gov.auth.citizen.created").map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it("throws unknown_event_type with suggestions for an unknown type", () => {
    try {
      governmentCatalogue.validateData("gov.auth.citizen.create", {});
      throw new Error("expected a throw");
    } catch (error) {
      expect(error).toBeInstanceOf(EdgebusError);
      const e = error as EdgebusError;
      expect(e.code).toBe("unknown_event_type");
      expect(e.status).toBe(422);
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('did you mean "gov.auth.citizen.created"');
      expect((e.details as { did_you_mean: string[] }).did_you_mean[0]).toBe("gov.auth.citizen.created");
    }
    expect(() => governmentCatalogue.require("completely.unrelated")).toThrow(
      /^unknown event type "completely.unrelated"$/,
    );
  });

  it("requires eventversion for citizen events (the citizen_refs read models order by it), and only for them", () => {
    const requiring = governmentCatalogue
      .types()
      .filter((type) => governmentCatalogue.require(type).requiresEventVersion);
    expect(requiring).toEqual([
      "gov.auth.citizen.created",
      "gov.auth.citizen.deleted",
      "gov.auth.citizen.updated",
      "gov.auth.citizen.verified",
    ]);
  });

  it("extracts the entity id for partition keys", () => {
    const citizen = governmentCatalogue.require("gov.auth.citizen.updated").example;
    expect(governmentCatalogue.entityIdOf("gov.auth.citizen.updated", citizen)).toBe("104233");
    const application = governmentCatalogue.require("gov.permits.application.approved").example;
    expect(governmentCatalogue.entityIdOf("gov.permits.application.approved", application)).toBe("PA-2026-000871");
    expect(governmentCatalogue.entityIdOf("gov.permits.application.approved", {})).toBeUndefined();
  });

  it("every permit, payment and document event names the citizen it concerns", () => {
    for (const type of governmentCatalogue.types()) {
      if (!/^gov\.(permits|revenue|documents)\./.test(type)) continue;
      const schema = z.toJSONSchema(governmentCatalogue.require(type).data) as { required?: string[] };
      expect(schema.required, type).toContain("citizen_id");
    }
  });
});

describe("a second catalogue", () => {
  it("works for another namespace and domain list", () => {
    expect(commerceCatalogue.types()).toEqual([
      "com.example.inventory.stock.reserved",
      "com.example.orders.order.cancelled",
      "com.example.orders.order.placed",
      "com.example.payments.charge.captured",
    ]);
    expect(commerceCatalogue.partitionsOf("com.example.orders.order")).toBe(12);
    expect(commerceCatalogue.closeMatches("order.placed")).toEqual(["com.example.orders.order.placed"]);
    expect(commerceCatalogue.domains()).toBe(commerceDomains);
  });

  it("does not accept government types under the commerce namespace", () => {
    expect(() => new Catalogue(commerceDomains, { namespace: "gov" })).toThrow(/must be named gov\.orders/);
  });
});

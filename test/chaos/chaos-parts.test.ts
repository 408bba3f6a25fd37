/**
 * The chaos suite's own logic, without servers (runs in the `node` project): the workload is
 * valid against the catalogue and ordered per key, and the Kafka audit finds losses, duplicates,
 * reordering and key problems, and a busy port moves the whole stack to free ones.
 */
import net from "node:net";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { normaliseEvent } from "../../workers/producer/src/envelope/normalise.ts";
import { type AuditRecord, auditRecords, eventRef } from "./kafka-audit.ts";
import { type ChaosPorts, chooseChaosPorts, DEFAULT_CHAOS_PORTS, everyPort } from "./stack.ts";
import { planWorkload } from "./workload.ts";

describe("chaos workload", () => {
  const workload = planWorkload(2000, 42, "t1");

  it("plans exactly the requested number of events, every one valid for the producer", () => {
    const events = workload.sequences.flatMap((s) => s.events);
    expect(events).toHaveLength(2000);
    expect(workload.total).toBe(2000);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(2000);
    for (const { event, key } of events) {
      const record = normaliseEvent(event, governmentCatalogue);
      expect(record.partitionkey).toBe(key);
    }
  });

  it("gives each citizen increasing versions from created, at most one deleted and only last", () => {
    const citizens = workload.sequences.filter((s) => s.events[0]?.kind === "citizen");
    expect(citizens.length).toBeGreaterThan(100);
    for (const { events } of citizens) {
      expect(events.map((e) => e.event.eventversion)).toEqual(events.map((_, i) => i + 1));
      expect(events[0]?.event.type).toBe("gov.auth.citizen.created");
      const deleted = events.findIndex((e) => e.event.type === "gov.auth.citizen.deleted");
      expect(deleted === -1 || deleted === events.length - 1).toBe(true);
    }
    const mix = new Set(workload.sequences.map((s) => s.events[0]?.kind));
    expect(mix).toEqual(new Set(["citizen", "permit", "payment"]));
  });

  it("is the same for the same seed and differs for another", () => {
    const ids = (w: ReturnType<typeof planWorkload>) => w.sequences.map((s) => s.key).join(",");
    expect(ids(planWorkload(300, 7, "x"))).toBe(ids(planWorkload(300, 7, "x")));
    expect(ids(planWorkload(300, 8, "x"))).not.toBe(ids(planWorkload(300, 7, "x")));
  });
});

describe("Kafka audit", () => {
  const record = (id: string, key: string, offset: number, partition = 0, topic = "gov.auth.citizen"): AuditRecord => ({
    topic,
    partition,
    offset,
    key,
    headers: { ce_id: id, ce_source: "/s", ce_partitionkey: key },
    value: "{}",
  });
  const refs = (...ids: string[]) => ids.map((id) => eventRef("/s", id));

  it("passes an in-order stream with duplicates, and counts them", () => {
    const records = [record("a1", "a", 0), record("b1", "b", 1), record("a1", "a", 2), record("a2", "a", 3)];
    const audit = auditRecords(
      records,
      new Set(refs("a1", "a2", "b1")),
      new Map([
        ["a", refs("a1", "a2")],
        ["b", refs("b1")],
      ]),
    );
    expect(audit).toMatchObject({ records: 4, uniqueEvents: 3, duplicates: 1, missing: [], unacknowledged: [] });
    expect(audit.orderViolations).toEqual([]);
    expect(audit.keyMismatches).toEqual([]);
  });

  it("reports a lost event, an unacknowledged one and a reordered key", () => {
    const records = [record("a2", "a", 0), record("a1", "a", 1), record("x9", "x", 2)];
    const audit = auditRecords(
      records,
      new Set(refs("a1", "a2", "b1")),
      new Map([
        ["a", refs("a1", "a2")],
        ["b", refs("b1")],
      ]),
    );
    expect(audit.missing).toEqual(refs("b1"));
    expect(audit.unacknowledged).toEqual(refs("x9"));
    expect(audit.orderViolations).toEqual([{ key: "a", sent: refs("a1", "a2"), found: refs("a2", "a1") }]);
  });

  it("judges order by first occurrence: a later duplicate of an earlier event is no reordering", () => {
    const records = [record("a1", "a", 0), record("a2", "a", 1), record("a1", "a", 2)];
    const audit = auditRecords(records, new Set(refs("a1", "a2")), new Map([["a", refs("a1", "a2")]]));
    expect(audit.orderViolations).toEqual([]);
    expect(audit.duplicates).toBe(1);
  });

  it("requires every copy of an event to be identical to the first (key, value, headers)", () => {
    const same = [record("a1", "a", 0), record("a1", "a", 1)];
    expect(auditRecords(same, new Set(refs("a1")), new Map()).duplicateMismatches).toEqual([]);
    const changed = [record("a1", "a", 0), { ...record("a1", "a", 1), value: '{"x":1}' }];
    expect(auditRecords(changed, new Set(refs("a1")), new Map()).duplicateMismatches).toEqual(refs("a1"));
  });

  it("flags a record keyed differently from its partitionkey and a key split over partitions", () => {
    const wrongKey = { ...record("a1", "a", 0), key: "z" };
    const split = record("a2", "a", 0, 1);
    const audit = auditRecords([wrongKey, record("a0", "a", 1), split], new Set(), new Map());
    expect(audit.keyMismatches).toHaveLength(2);
  });
});

describe("chaos ports", () => {
  const listen = () =>
    new Promise<net.Server>((resolve) => {
      const server = net.createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    });
  const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

  it("listens only below Linux's ephemeral range, in the first layout and every shifted one", () => {
    // An outgoing connection may hold any port in 32768–60999 as its source port for as long as
    // it lives; a server wanting that port then fails to start.
    for (let step = 0; step <= 200; step += 10) {
      const shifted = Object.fromEntries(
        Object.entries(DEFAULT_CHAOS_PORTS).map(([name, port]) => [name, port + step]),
      ) as unknown as ChaosPorts;
      const ports = everyPort(shifted);
      expect(ports.length).toBeGreaterThanOrEqual(12);
      for (const port of ports) expect(port, `port ${port} at shift ${step}`).toBeLessThan(32768);
    }
  });

  it("keeps the first choice when every port is free, and shifts all of them past a busy one", async () => {
    const busy = await listen();
    try {
      // A layout around a port the kernel just gave us, with the bridge's port taken.
      const taken = portOf(busy);
      const base: ChaosPorts = {
        postgres: taken - 1,
        kafka: taken - 5,
        controller: taken - 8,
        producer: taken + 1,
        bridge: taken,
        provider: taken + 2,
      };
      const chosen = await chooseChaosPorts(base);
      expect(chosen.bridge).not.toBe(taken);
      const shift = chosen.postgres - base.postgres;
      expect(shift).toBeGreaterThan(0);
      expect(shift % 10).toBe(0);
      for (const key of Object.keys(base) as (keyof ChaosPorts)[]) expect(chosen[key] - base[key]).toBe(shift);
    } finally {
      busy.close();
    }
    const free = await listen();
    const port = portOf(free);
    free.close();
    const base: ChaosPorts = {
      postgres: port,
      kafka: port + 3,
      controller: port + 6,
      producer: port + 9,
      bridge: port + 10,
      provider: port + 11,
    };
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await chooseChaosPorts(base)).toEqual(base);
  });
});

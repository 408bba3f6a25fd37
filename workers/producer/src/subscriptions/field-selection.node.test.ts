import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { selectFields } from "./field-selection.ts";

const event = {
  specversion: "1.0",
  id: "e-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  time: "2026-12-06T08:00:00Z",
  subject: "104233",
  datacontenttype: "application/json",
  eventversion: 1,
  edgebuskeyid: "dev",
  data: {
    id: 104233,
    email: "aoife@example.ie",
    phone: "+35312345678",
    address: { city: "Dublin", line1: "1 Harbour Road" },
    preferred_language: "en",
  },
} as unknown as CloudEventRecord;

describe("selectFields", () => {
  it("keeps the identity and exactly the listed paths", () => {
    const out = selectFields(event, ["data.id", "data.address.city"]);
    expect(out).toEqual({
      specversion: "1.0",
      id: "e-1",
      source: "/services/identity",
      type: "gov.auth.citizen.created",
      time: "2026-12-06T08:00:00Z",
      data: { id: 104233, address: { city: "Dublin" } },
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain("aoife@example.ie");
    expect(text).not.toContain("+35312345678");
    expect(text).not.toContain("Harbour");
  });

  it("without a selection sends the event without the producer's reserved attributes", () => {
    const out = selectFields(event, null);
    expect(out.data).toEqual(event.data);
    expect(out).not.toHaveProperty("edgebuskeyid");
  });

  it("never sends a reserved attribute even when listed, and ignores missing paths", () => {
    const out = selectFields(event, ["edgebuskeyid", "data.nothing.here", "subject"]);
    expect(out).not.toHaveProperty("edgebuskeyid");
    expect(out).not.toHaveProperty("data");
    expect(out.subject).toBe("104233");
  });
});

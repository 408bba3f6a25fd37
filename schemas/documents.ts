/**
 * Documents domain: files citizens upload (identity documents, plans, proofs) and their review.
 * The file itself lives in object storage; events carry its key and digest, never its bytes.
 */
import { z } from "zod";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import { actor, citizenId, contact, opaqueId, timestamp } from "./fields.ts";

const documentType = z.enum([
  "passport",
  "national_id",
  "drivers_license",
  "birth_certificate",
  "proof_of_address",
  "tax_return",
  "site_plan",
  "other",
]);

/** Upload limit of the documents service; larger files are rejected before any event exists. */
export const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024;

export const documentUploaded = z.strictObject({
  document_id: z.uuid(),
  citizen_id: citizenId,
  document_type: documentType,
  file_name: z.string().min(1).max(255),
  content_type: z.enum(["application/pdf", "image/jpeg", "image/png", "image/tiff"]),
  size_bytes: z.int().positive().max(MAX_DOCUMENT_BYTES),
  sha256: z
    .string()
    .regex(/^[a-f0-9]{64}$/, "must be 64 lowercase hex digits")
    .describe("SHA-256 of the file, lowercase hex"),
  storage_key: z.string().regex(/^[a-z0-9][a-z0-9/._-]{0,511}$/, "must be a lowercase object key (a-z 0-9 / . _ -)"),
  related_to: z
    .strictObject({
      kind: z.enum(["permit_application", "license", "citizen_verification"]),
      id: opaqueId,
    })
    .nullable(),
  uploaded_at: timestamp,
});

export const documentVerified = z.strictObject({
  document_id: z.uuid(),
  citizen_id: citizenId,
  document_type: documentType,
  outcome: z.enum(["accepted", "rejected"]),
  rejection_reason: z
    .enum(["illegible", "expired", "mismatched_identity", "wrong_document_type", "suspected_forgery"])
    .nullable()
    .describe("Set when outcome is rejected"),
  verified_by: actor,
  verified_at: timestamp,
  owner: contact.optional(),
});

export const documentsCatalogue: DomainCatalogue = {
  domain: "documents",
  topics: [{ name: "gov.documents.document", partitions: 3 }],
  events: [
    defineEvent({
      type: "gov.documents.document.uploaded",
      version: 1,
      description: "A citizen uploaded a document.",
      data: documentUploaded,
      entityIdField: "document_id",
      example: {
        document_id: "8c1d2e3f-4a5b-4c6d-9e7f-0a1b2c3d4e5f",
        citizen_id: 104233,
        document_type: "site_plan",
        file_name: "rear-extension-plan.pdf",
        content_type: "application/pdf",
        size_bytes: 1843200,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        storage_key: "citizens/104233/8c1d2e3f-4a5b-4c6d-9e7f-0a1b2c3d4e5f.pdf",
        related_to: { kind: "permit_application", id: "PA-2026-000871" },
        uploaded_at: "2026-06-03T10:12:55Z",
      },
    }),
    defineEvent({
      type: "gov.documents.document.verified",
      version: 1,
      description: "A clerk or an automated check reviewed an uploaded document.",
      data: documentVerified,
      entityIdField: "document_id",
      example: {
        document_id: "8c1d2e3f-4a5b-4c6d-9e7f-0a1b2c3d4e5f",
        citizen_id: 104233,
        document_type: "site_plan",
        outcome: "accepted",
        rejection_reason: null,
        verified_by: "EMP-000412",
        verified_at: "2026-06-05T14:20:00Z",
        owner: { email: "amina@haddad.ie" },
      },
    }),
  ],
};

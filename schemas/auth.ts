/**
 * Identity domain: citizens, employees, roles and sign-ins. Citizen events carry the full
 * snapshot (event-carried state transfer) so the `citizen_refs` read models never call back, and
 * must carry the citizen's `eventversion` (`requiresEventVersion`): the read models keep the newest
 * version whatever order the events arrive in.
 *
 * The citizen events are also accepted as the government's design shows them (short types such as
 * `citizen.created`, `data.citizen_id` with a `data.snapshot`): the `aliases` and the `seed-v1`
 * upcasters below (`upcasters/seed-v1.ts`, docs/seed-events.md).
 */
import { z } from "zod";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import {
  actor,
  calendarDate,
  citizenAddress,
  citizenId,
  email,
  employeeId,
  languageTag,
  opaqueId,
  personName,
  phone,
  postalAddress,
  timestamp,
  userId,
} from "./fields.ts";
import { citizenCreatedFromSeedV1, citizenUpdatedFromSeedV1, citizenVerifiedFromSeedV1 } from "./upcasters/seed-v1.ts";

const citizenSnapshotV1Shape = {
  id: citizenId,
  name: personName,
  email,
  phone: phone.nullable(),
  address: postalAddress.nullable(),
  email_verified: z.boolean(),
  identity_verified: z.boolean(),
  created_at: timestamp,
};

/** v2 adds the language the citizen wants to be written to in (optional: older clients omit it). */
const citizenSnapshotV2Shape = {
  ...citizenSnapshotV1Shape,
  preferred_language: languageTag.optional(),
};

/**
 * v3: the address may be free text, `{text}`, as services that never split addresses record it
 * (the government design's `"address": "456 Main St, Springfield"`, upcast by seed-v1).
 */
const citizenSnapshotShape = {
  ...citizenSnapshotV2Shape,
  address: citizenAddress.nullable(),
};

export const citizenCreatedV1 = z.strictObject(citizenSnapshotV1Shape);
export const citizenCreatedV2 = z.strictObject(citizenSnapshotV2Shape);
export const citizenCreated = z.strictObject(citizenSnapshotShape);

/** Fields of the snapshot that can change after creation (id and created_at never do). */
export const mutableCitizenFields = [
  "name",
  "email",
  "phone",
  "address",
  "email_verified",
  "identity_verified",
  "preferred_language",
] as const;

const fieldChange = z.strictObject({ old: z.unknown(), new: z.unknown() });

const citizenChanges = z
  .partialRecord(z.enum(mutableCitizenFields), fieldChange)
  .describe("Changed fields with old and new value");

export const citizenUpdatedV1 = z.strictObject({
  ...citizenSnapshotV2Shape,
  updated_at: timestamp,
  changes: citizenChanges,
});

/**
 * v2: the address may be free text (as in `created` v3), and `created_at` is optional: an update
 * need not restate when the citizen registered (the government design's updates do not).
 */
export const citizenUpdated = z.strictObject({
  ...citizenSnapshotShape,
  created_at: timestamp.optional(),
  updated_at: timestamp,
  changes: citizenChanges,
});

export const citizenDeleted = z.strictObject({
  id: citizenId,
  deleted_at: timestamp,
  reason: z.enum(["citizen_request", "duplicate_account", "deceased", "data_retention", "fraud"]),
  deleted_by: actor,
});

export const citizenVerified = z.strictObject({
  id: citizenId,
  verification_type: z.enum(["email", "phone", "identity", "address"]),
  verified_by: actor,
  verification_method: z.enum(["email_link", "sms_code", "in_person", "document_check", "eid"]),
  document_reference: opaqueId.nullable(),
  verified_at: timestamp,
});

const departments = z.enum(["permits", "revenue", "documents", "identity", "customer_service", "inspections"]);

export const employeeAssigned = z.strictObject({
  employee_id: employeeId,
  name: personName,
  email,
  department: departments,
  position: z.string().min(1).max(100),
  supervisor_id: employeeId.nullable(),
  assigned_by: employeeId,
  effective_from: calendarDate,
  assigned_at: timestamp,
});

const roles = z.enum(["citizen", "clerk", "inspector", "finance_officer", "supervisor", "admin"]);

export const roleGranted = z.strictObject({
  user_id: userId,
  role: roles,
  scope: departments.nullable().describe("Department the role applies to; null = all"),
  granted_by: employeeId,
  granted_at: timestamp,
  expires_at: timestamp.nullable(),
});

export const roleRevoked = z.strictObject({
  user_id: userId,
  role: roles,
  scope: departments.nullable(),
  revoked_by: actor,
  revoked_at: timestamp,
  reason: z.enum(["expired", "position_change", "employment_ended", "security_incident", "requested"]),
});

export const userLoggedIn = z.strictObject({
  user_id: userId,
  user_type: z.enum(["citizen", "employee"]),
  citizen_id: citizenId.optional().describe("Set when the user is a citizen"),
  method: z.enum(["password", "passkey", "eid", "sso"]),
  mfa: z.boolean(),
  ip_address: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }),
  user_agent: z.string().max(512).optional(),
  logged_in_at: timestamp,
});

const exampleCitizen = {
  id: 104233,
  name: "Amina Haddad",
  email: "amina.haddad@example.org",
  phone: "+35312345678",
  address: { line1: "12 Harbour Road", city: "Dublin", postal_code: "D02 X285", country: "IE" },
  email_verified: true,
  identity_verified: false,
  created_at: "2026-03-14T09:21:07Z",
};

export const authCatalogue: DomainCatalogue = {
  domain: "auth",
  topics: [
    { name: "gov.auth.citizen", partitions: 6 },
    { name: "gov.auth.employee", partitions: 3 },
    { name: "gov.auth.role", partitions: 3 },
    { name: "gov.auth.user", partitions: 6 },
  ],
  events: [
    defineEvent({
      type: "gov.auth.citizen.created",
      version: 3,
      description: "A citizen account was registered; carries the full citizen snapshot.",
      data: citizenCreated,
      previousVersions: [
        { version: 1, data: citizenCreatedV1 },
        { version: 2, data: citizenCreatedV2 },
      ],
      entityIdField: "id",
      requiresEventVersion: true,
      example: { ...exampleCitizen, preferred_language: "ga" },
      aliases: ["citizen.created"],
      upcasters: [citizenCreatedFromSeedV1],
    }),
    defineEvent({
      type: "gov.auth.citizen.updated",
      version: 2,
      description: "A citizen's details changed; carries the new snapshot and the changed fields.",
      data: citizenUpdated,
      previousVersions: [{ version: 1, data: citizenUpdatedV1 }],
      entityIdField: "id",
      requiresEventVersion: true,
      example: {
        ...exampleCitizen,
        email: "amina@haddad.ie",
        email_verified: false,
        updated_at: "2026-05-02T16:40:00+01:00",
        changes: {
          email: { old: "amina.haddad@example.org", new: "amina@haddad.ie" },
          email_verified: { old: true, new: false },
        },
      },
      aliases: ["citizen.updated"],
      upcasters: [citizenUpdatedFromSeedV1],
    }),
    defineEvent({
      type: "gov.auth.citizen.deleted",
      version: 1,
      description: "A citizen account was deleted; read models must drop the citizen.",
      data: citizenDeleted,
      entityIdField: "id",
      requiresEventVersion: true,
      example: { id: 104233, deleted_at: "2026-09-30T08:00:00Z", reason: "citizen_request", deleted_by: "system" },
      aliases: ["citizen.deleted"],
    }),
    defineEvent({
      type: "gov.auth.citizen.verified",
      version: 1,
      description: "A citizen's email, phone, identity or address was verified.",
      data: citizenVerified,
      entityIdField: "id",
      requiresEventVersion: true,
      example: {
        id: 104233,
        verification_type: "identity",
        verified_by: "EMP-000412",
        verification_method: "document_check",
        document_reference: "DOC-7f3a9c",
        verified_at: "2026-03-15T11:02:44Z",
      },
      aliases: ["citizen.verified"],
      upcasters: [citizenVerifiedFromSeedV1],
    }),
    defineEvent({
      type: "gov.auth.employee.assigned",
      version: 1,
      description: "An employee was assigned to a department and position.",
      data: employeeAssigned,
      entityIdField: "employee_id",
      example: {
        employee_id: "EMP-000412",
        name: "Ciarán Walsh",
        email: "ciaran.walsh@council.example.gov",
        department: "permits",
        position: "Senior building inspector",
        supervisor_id: "EMP-000017",
        assigned_by: "EMP-000017",
        effective_from: "2026-04-01",
        assigned_at: "2026-03-20T14:00:00Z",
      },
    }),
    defineEvent({
      type: "gov.auth.role.granted",
      version: 1,
      description: "A role was granted to a user account.",
      data: roleGranted,
      entityIdField: "user_id",
      example: {
        user_id: "5b0c7e9a-8d1f-4c2e-9a57-3f4e2b1d6c80",
        role: "inspector",
        scope: "permits",
        granted_by: "EMP-000017",
        granted_at: "2026-03-20T14:05:00Z",
        expires_at: null,
      },
    }),
    defineEvent({
      type: "gov.auth.role.revoked",
      version: 1,
      description: "A role was taken away from a user account.",
      data: roleRevoked,
      entityIdField: "user_id",
      example: {
        user_id: "5b0c7e9a-8d1f-4c2e-9a57-3f4e2b1d6c80",
        role: "inspector",
        scope: "permits",
        revoked_by: "EMP-000017",
        revoked_at: "2026-11-02T10:00:00Z",
        reason: "position_change",
      },
    }),
    defineEvent({
      type: "gov.auth.user.logged_in",
      version: 1,
      description: "A user signed in.",
      data: userLoggedIn,
      entityIdField: "user_id",
      example: {
        user_id: "0e6f2d4b-1a3c-4b5d-8e7f-9a0b1c2d3e4f",
        user_type: "citizen",
        citizen_id: 104233,
        method: "eid",
        mfa: true,
        ip_address: "203.0.113.24",
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        logged_in_at: "2026-05-02T16:38:12Z",
      },
    }),
  ],
};

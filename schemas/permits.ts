/**
 * Permits domain: applications and site inspections. Every event names the citizen concerned
 * (`citizen_id`) so notifications can find the recipient; `applicant` carries contact details
 * when the permits service has them at hand.
 */
import { z } from "zod";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import {
  amountMinor,
  calendarDate,
  citizenId,
  contact,
  currency,
  employeeId,
  permitApplicationId,
  postalAddress,
  timestamp,
} from "./fields.ts";

const permitType = z.enum(["building", "renovation", "demolition", "business", "event", "signage", "parking"]);
const permitNumber = z
  .string()
  .regex(/^PRM-\d{4}-\d{6}$/, "must be a permit number like PRM-2026-000123")
  .describe("Permit number (PRM-yyyy-nnnnnn)");
const inspectionId = z
  .string()
  .regex(/^INS-\d{4}-\d{6}$/, "must be an inspection id like INS-2026-000123")
  .describe("Inspection id (INS-yyyy-nnnnnn)");
const inspectionType = z.enum(["site", "foundation", "framing", "electrical", "plumbing", "fire_safety", "final"]);

export const applicationSubmitted = z.strictObject({
  application_id: permitApplicationId,
  citizen_id: citizenId,
  permit_type: permitType,
  property_address: postalAddress,
  description: z.string().min(1).max(2000),
  fee_minor: amountMinor.describe("Application fee due, in minor units"),
  currency,
  submitted_at: timestamp,
  applicant: contact.optional(),
});

export const applicationApproved = z.strictObject({
  application_id: permitApplicationId,
  citizen_id: citizenId,
  permit_number: permitNumber,
  permit_type: permitType,
  approved_by: employeeId,
  approved_at: timestamp,
  valid_from: calendarDate,
  valid_until: calendarDate,
  conditions: z.array(z.string().min(1).max(500)).max(50),
  applicant: contact.optional(),
});

export const applicationRejected = z.strictObject({
  application_id: permitApplicationId,
  citizen_id: citizenId,
  permit_type: permitType,
  rejected_by: employeeId,
  rejected_at: timestamp,
  reason: z.enum([
    "incomplete_documents",
    "zoning_conflict",
    "safety_concerns",
    "fee_unpaid",
    "ineligible_applicant",
    "other",
  ]),
  comment: z.string().min(1).max(2000).optional(),
  appeal_deadline: calendarDate.nullable().describe("Last day to appeal; null = not appealable"),
  applicant: contact.optional(),
});

export const inspectionScheduled = z.strictObject({
  inspection_id: inspectionId,
  application_id: permitApplicationId,
  citizen_id: citizenId,
  inspection_type: inspectionType,
  inspector_id: employeeId,
  site_address: postalAddress,
  scheduled_for: timestamp,
  duration_minutes: z.int().min(15).max(480),
  applicant: contact.optional(),
});

export const inspectionCompleted = z.strictObject({
  inspection_id: inspectionId,
  application_id: permitApplicationId,
  citizen_id: citizenId,
  inspection_type: inspectionType,
  inspector_id: employeeId,
  completed_at: timestamp,
  result: z.enum(["passed", "failed", "passed_with_conditions"]),
  findings: z
    .array(
      z.strictObject({
        code: z.string().regex(/^[A-Z]{2,4}-\d{1,4}$/, "must be a finding code like BR-112"),
        description: z.string().min(1).max(1000),
        severity: z.enum(["minor", "major", "critical"]),
      }),
    )
    .max(100),
  follow_up_required: z.boolean(),
  applicant: contact.optional(),
});

const exampleAddress = { line1: "4 Mill Lane", city: "Galway", postal_code: "H91 E2K3", country: "IE" };

export const permitsCatalogue: DomainCatalogue = {
  domain: "permits",
  topics: [
    { name: "gov.permits.application", partitions: 3 },
    { name: "gov.permits.inspection", partitions: 3 },
  ],
  events: [
    defineEvent({
      type: "gov.permits.application.submitted",
      version: 1,
      description: "A citizen submitted a permit application.",
      data: applicationSubmitted,
      entityIdField: "application_id",
      example: {
        application_id: "PA-2026-000871",
        citizen_id: 104233,
        permit_type: "renovation",
        property_address: exampleAddress,
        description: "Replace the rear extension roof and add two skylights.",
        fee_minor: 25000,
        currency: "EUR",
        submitted_at: "2026-06-03T10:15:00Z",
        applicant: { name: "Amina Haddad", email: "amina@haddad.ie" },
      },
    }),
    defineEvent({
      type: "gov.permits.application.approved",
      version: 1,
      description: "A permit application was approved and a permit issued.",
      data: applicationApproved,
      entityIdField: "application_id",
      example: {
        application_id: "PA-2026-000871",
        citizen_id: 104233,
        permit_number: "PRM-2026-004512",
        permit_type: "renovation",
        approved_by: "EMP-000412",
        approved_at: "2026-06-20T15:30:00Z",
        valid_from: "2026-07-01",
        valid_until: "2027-06-30",
        conditions: ["Works only between 08:00 and 18:00 on weekdays."],
        applicant: { name: "Amina Haddad", email: "amina@haddad.ie", phone: "+35312345678" },
      },
    }),
    defineEvent({
      type: "gov.permits.application.rejected",
      version: 1,
      description: "A permit application was rejected.",
      data: applicationRejected,
      entityIdField: "application_id",
      example: {
        application_id: "PA-2026-000902",
        citizen_id: 118020,
        permit_type: "signage",
        rejected_by: "EMP-000412",
        rejected_at: "2026-06-21T09:00:00Z",
        reason: "zoning_conflict",
        comment: "Illuminated signs are not permitted in the conservation area.",
        appeal_deadline: "2026-07-19",
      },
    }),
    defineEvent({
      type: "gov.permits.inspection.scheduled",
      version: 1,
      description: "A site inspection was scheduled for a permit.",
      data: inspectionScheduled,
      entityIdField: "inspection_id",
      example: {
        inspection_id: "INS-2026-001207",
        application_id: "PA-2026-000871",
        citizen_id: 104233,
        inspection_type: "framing",
        inspector_id: "EMP-000412",
        site_address: exampleAddress,
        scheduled_for: "2026-08-12T09:30:00+01:00",
        duration_minutes: 60,
        applicant: { phone: "+35312345678" },
      },
    }),
    defineEvent({
      type: "gov.permits.inspection.completed",
      version: 1,
      description: "An inspector recorded the result of a site inspection.",
      data: inspectionCompleted,
      entityIdField: "inspection_id",
      example: {
        inspection_id: "INS-2026-001207",
        application_id: "PA-2026-000871",
        citizen_id: 104233,
        inspection_type: "framing",
        inspector_id: "EMP-000412",
        completed_at: "2026-08-12T10:20:00+01:00",
        result: "passed_with_conditions",
        findings: [{ code: "BR-112", description: "Fire stopping missing at party wall.", severity: "major" }],
        follow_up_required: true,
      },
    }),
  ],
};

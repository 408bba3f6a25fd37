/**
 * Revenue domain: payments, refunds and licences. Amounts are integer minor units with an
 * ISO 4217 currency; every event names the paying citizen (`citizen_id`).
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
  opaqueId,
  paymentId,
  timestamp,
} from "./fields.ts";

const paymentPurpose = z.enum(["permit_fee", "license_fee", "property_tax", "fine", "service_fee"]);
const paymentMethod = z.enum(["card", "bank_transfer", "direct_debit", "cash"]);
const licenseNumber = z
  .string()
  .regex(/^LIC-\d{4}-\d{6}$/, "must be a licence number like LIC-2026-000123")
  .describe("Licence number (LIC-yyyy-nnnnnn)");

/** What a payment settles: the permit application, licence, assessment or fine it pays for. */
const paymentReference = z.strictObject({
  kind: z.enum(["permit_application", "license", "tax_assessment", "fine"]),
  id: opaqueId,
});

export const paymentInitiated = z.strictObject({
  payment_id: paymentId,
  citizen_id: citizenId,
  amount_minor: amountMinor,
  currency,
  purpose: paymentPurpose,
  reference: paymentReference,
  method: paymentMethod,
  initiated_at: timestamp,
  payer: contact.optional(),
});

export const paymentCompleted = z.strictObject({
  payment_id: paymentId,
  citizen_id: citizenId,
  amount_minor: amountMinor,
  currency,
  purpose: paymentPurpose,
  reference: paymentReference,
  method: paymentMethod,
  provider_reference: opaqueId.describe("The payment provider's transaction id"),
  receipt_number: z.string().regex(/^RCP-\d{4}-\d{8}$/, "must be a receipt number like RCP-2026-00000123"),
  completed_at: timestamp,
  payer: contact.optional(),
});

export const paymentFailed = z.strictObject({
  payment_id: paymentId,
  citizen_id: citizenId,
  amount_minor: amountMinor,
  currency,
  purpose: paymentPurpose,
  reference: paymentReference,
  method: paymentMethod,
  reason: z.enum([
    "insufficient_funds",
    "card_declined",
    "card_expired",
    "authentication_failed",
    "provider_error",
    "timeout",
    "cancelled_by_payer",
  ]),
  retryable: z.boolean().describe("Whether the citizen can try the same payment again"),
  failed_at: timestamp,
  payer: contact.optional(),
});

export const refundIssued = z.strictObject({
  refund_id: z.string().regex(/^REF-\d{4}-\d{8}$/, "must be a refund id like REF-2026-00000123"),
  payment_id: paymentId,
  citizen_id: citizenId,
  amount_minor: amountMinor,
  currency,
  reason: z.enum(["duplicate_payment", "application_withdrawn", "application_rejected", "overcharge", "court_order"]),
  issued_by: employeeId,
  issued_at: timestamp,
  payer: contact.optional(),
});

export const licenseIssued = z.strictObject({
  license_number: licenseNumber,
  citizen_id: citizenId,
  license_type: z.enum(["business", "alcohol", "food_service", "taxi", "street_trading", "dog"]),
  business_name: z.string().min(1).max(200).nullable(),
  valid_from: calendarDate,
  valid_until: calendarDate,
  fee_payment_id: paymentId.nullable().describe("Payment that settled the licence fee; null = fee waived"),
  issued_by: employeeId,
  issued_at: timestamp,
  holder: contact.optional(),
});

export const revenueCatalogue: DomainCatalogue = {
  domain: "revenue",
  topics: [
    { name: "gov.revenue.payment", partitions: 6 },
    { name: "gov.revenue.refund", partitions: 3 },
    { name: "gov.revenue.license", partitions: 3 },
  ],
  events: [
    defineEvent({
      type: "gov.revenue.payment.initiated",
      version: 1,
      description: "A citizen started a payment.",
      data: paymentInitiated,
      entityIdField: "payment_id",
      example: {
        payment_id: "PAY-2026-00031877",
        citizen_id: 104233,
        amount_minor: 25000,
        currency: "EUR",
        purpose: "permit_fee",
        reference: { kind: "permit_application", id: "PA-2026-000871" },
        method: "card",
        initiated_at: "2026-06-03T10:16:30Z",
      },
    }),
    defineEvent({
      type: "gov.revenue.payment.completed",
      version: 1,
      description: "A payment was settled by the provider.",
      data: paymentCompleted,
      entityIdField: "payment_id",
      example: {
        payment_id: "PAY-2026-00031877",
        citizen_id: 104233,
        amount_minor: 25000,
        currency: "EUR",
        purpose: "permit_fee",
        reference: { kind: "permit_application", id: "PA-2026-000871" },
        method: "card",
        provider_reference: "pi_3Q8xYt2eZvKYlo2C1m9Xk4Pa",
        receipt_number: "RCP-2026-00029114",
        completed_at: "2026-06-03T10:16:41Z",
        payer: { name: "Amina Haddad", email: "amina@haddad.ie" },
      },
    }),
    defineEvent({
      type: "gov.revenue.payment.failed",
      version: 1,
      description: "A payment failed.",
      data: paymentFailed,
      entityIdField: "payment_id",
      example: {
        payment_id: "PAY-2026-00031902",
        citizen_id: 118020,
        amount_minor: 8450,
        currency: "EUR",
        purpose: "property_tax",
        reference: { kind: "tax_assessment", id: "LPT-2026-118020" },
        method: "card",
        reason: "card_declined",
        retryable: true,
        failed_at: "2026-06-04T18:02:10Z",
        payer: { email: "s.okafor@example.net" },
      },
    }),
    defineEvent({
      type: "gov.revenue.refund.issued",
      version: 1,
      description: "Money was refunded to a citizen.",
      data: refundIssued,
      entityIdField: "refund_id",
      example: {
        refund_id: "REF-2026-00000415",
        payment_id: "PAY-2026-00031877",
        citizen_id: 104233,
        amount_minor: 5000,
        currency: "EUR",
        reason: "overcharge",
        issued_by: "EMP-000233",
        issued_at: "2026-06-10T12:00:00Z",
      },
    }),
    defineEvent({
      type: "gov.revenue.license.issued",
      version: 1,
      description: "A licence was issued to a citizen.",
      data: licenseIssued,
      entityIdField: "license_number",
      example: {
        license_number: "LIC-2026-000318",
        citizen_id: 118020,
        license_type: "food_service",
        business_name: "Okafor's Kitchen",
        valid_from: "2026-07-01",
        valid_until: "2027-06-30",
        fee_payment_id: "PAY-2026-00031990",
        issued_by: "EMP-000233",
        issued_at: "2026-06-25T09:45:00Z",
        holder: { name: "Samuel Okafor", phone: "+353871234567" },
      },
    }),
  ],
};

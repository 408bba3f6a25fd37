/**
 * Which events notify whom, and how (see `notification-rule.ts` for the meaning of each field).
 *
 * Recipient lookup: revenue events read `revenue.citizen_refs`, every other domain reads
 * `permits.citizen_refs`. Each service's replica is the one it keeps current for its own work;
 * identity and document events have no replica of their own, and the permits one is kept by the
 * same citizen-sync consumer with the same data. Contact fields carried by the event (the
 * publisher knew them at the time) take precedence over the replica.
 *
 * Every notification rule also posts a signed webhook when a webhook endpoint is configured, so a
 * case-management system can follow the same notifications.
 */
import type { NotificationRule } from "./notification-rule.ts";

const permitsRecipient = { citizenIdPath: "citizen_id", directory: "permits" } as const;
const revenueRecipient = { citizenIdPath: "citizen_id", contactPath: "payer", directory: "revenue" } as const;

export const NOTIFICATION_RULES: readonly NotificationRule[] = [
  {
    type: "gov.auth.citizen.created",
    template: "citizen_welcome",
    channels: [{ channel: "email" }, { channel: "webhook" }],
    // The snapshot itself carries name, email, phone and preferred_language.
    recipient: { citizenIdPath: "id", contactPath: "", directory: "permits" },
    variables: {},
  },
  {
    type: "gov.permits.application.submitted",
    template: "permit_application_submitted",
    channels: [{ channel: "email" }, { channel: "sms", when: "if_available" }, { channel: "webhook" }],
    recipient: { ...permitsRecipient, contactPath: "applicant" },
    variables: {
      application_id: { path: "application_id" },
      permit_type: { path: "permit_type", format: "label" },
      fee: { path: "fee_minor", format: "money", currencyPath: "currency" },
      submitted_at: { path: "submitted_at", format: "datetime" },
    },
  },
  {
    type: "gov.permits.application.approved",
    template: "permit_application_approved",
    channels: [{ channel: "email" }, { channel: "sms", when: "if_available" }, { channel: "webhook" }],
    recipient: { ...permitsRecipient, contactPath: "applicant" },
    variables: {
      application_id: { path: "application_id" },
      permit_number: { path: "permit_number" },
      permit_type: { path: "permit_type", format: "label" },
      valid_from: { path: "valid_from", format: "date" },
      valid_until: { path: "valid_until", format: "date" },
    },
  },
  {
    type: "gov.permits.application.rejected",
    template: "permit_application_rejected",
    channels: [{ channel: "email" }, { channel: "sms", when: "if_available" }, { channel: "webhook" }],
    recipient: { ...permitsRecipient, contactPath: "applicant" },
    variables: {
      application_id: { path: "application_id" },
      permit_type: { path: "permit_type", format: "label" },
      reason: { path: "reason", format: "label" },
      comment: { path: "comment", optional: true },
      appeal_deadline: { path: "appeal_deadline", format: "date", optional: true },
    },
  },
  {
    type: "gov.permits.inspection.scheduled",
    template: "inspection_reminder",
    channels: [{ channel: "sms" }, { channel: "webhook" }],
    recipient: { ...permitsRecipient, contactPath: "applicant" },
    variables: {
      inspection_id: { path: "inspection_id" },
      inspection_type: { path: "inspection_type", format: "label" },
      scheduled_for: { path: "scheduled_for", format: "datetime" },
      site: { path: "site_address.line1" },
      site_city: { path: "site_address.city" },
    },
  },
  {
    type: "gov.revenue.payment.completed",
    template: "payment_receipt",
    channels: [{ channel: "email" }, { channel: "webhook" }],
    recipient: revenueRecipient,
    variables: {
      amount: { path: "amount_minor", format: "money", currencyPath: "currency" },
      payment_id: { path: "payment_id" },
      receipt_number: { path: "receipt_number" },
      purpose: { path: "purpose", format: "label" },
      reference: { path: "reference.id" },
      completed_at: { path: "completed_at", format: "datetime" },
    },
  },
  {
    type: "gov.revenue.payment.failed",
    template: "payment_failed",
    channels: [{ channel: "email" }, { channel: "webhook" }],
    recipient: revenueRecipient,
    variables: {
      amount: { path: "amount_minor", format: "money", currencyPath: "currency" },
      payment_id: { path: "payment_id" },
      purpose: { path: "purpose", format: "label" },
      reason: { path: "reason", format: "label" },
      can_retry: { path: "retryable", format: "flag" },
    },
  },
  {
    type: "gov.revenue.refund.issued",
    template: "refund_issued",
    channels: [{ channel: "email" }, { channel: "webhook" }],
    recipient: revenueRecipient,
    variables: {
      amount: { path: "amount_minor", format: "money", currencyPath: "currency" },
      refund_id: { path: "refund_id" },
      payment_id: { path: "payment_id" },
      reason: { path: "reason", format: "label" },
    },
  },
  {
    type: "gov.documents.document.verified",
    template: "document_verified",
    channels: [{ channel: "email" }, { channel: "webhook" }],
    recipient: { ...permitsRecipient, contactPath: "owner" },
    variables: {
      document_type: { path: "document_type", format: "label" },
      accepted: { path: "outcome", format: "flag", equals: "accepted" },
      rejection_reason: { path: "rejection_reason", format: "label", optional: true },
    },
  },
];

export function notificationRuleFor(type: string): NotificationRule | undefined {
  return NOTIFICATION_RULES.find((notificationRule) => notificationRule.type === type);
}

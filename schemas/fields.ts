/**
 * Field schemas shared by the government domain modules, so that a citizen id, an amount or a
 * timestamp means the same thing in every event. Each carries a description that ends up in the
 * generated JSON Schema and AsyncAPI documents.
 */
import { z } from "zod";

/**
 * A citizen's id: a positive integer that fits both a Postgres `bigint` (`citizen_refs.citizen_id`)
 * and a JavaScript number without rounding (≤ 2^53 − 1).
 */
export const citizenId = z.int().positive().describe("Citizen id (positive integer)");

/** RFC 3339 timestamp with an explicit offset (`Z` or `±hh:mm`); local times are ambiguous. */
export const timestamp = z.iso.datetime({ offset: true }).describe("RFC 3339 timestamp");

/** Calendar date (`YYYY-MM-DD`) for validity periods, which are days rather than instants. */
export const calendarDate = z.iso.date().describe("Calendar date (YYYY-MM-DD)");

/**
 * zod's default email pattern, except that domain labels may not start or end with a hyphen
 * (RFC 1035) and are at most 63 characters: the published JSON Schema says `format: email`, and
 * stock validators reject `a@b-.example`, so the catalogue must reject it too.
 */
const EMAIL_PATTERN =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export const email = z
  .email({ pattern: EMAIL_PATTERN, error: "must be an email address" })
  .max(254)
  .describe("Email address");

/** E.164 phone number, the only format SMS providers accept without guessing a country. */
export const phone = z.e164().describe("Phone number in E.164 format");

export const personName = z.string().min(1).max(200).describe("Full name");

/** ISO 4217 alphabetic currency code (e.g. `EUR`, `USD`). */
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 currency code like EUR")
  .describe("ISO 4217 currency code");

/**
 * Money as an integer count of the currency's minor unit (cents for EUR), never a float: sums and
 * refunds must be exact.
 */
export const amountMinor = z
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .describe("Amount in minor units of the currency");

/** ISO 3166-1 alpha-2 country code. */
export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 country code like IE")
  .describe("ISO 3166-1 alpha-2 country code");

/** BCP 47 language tag, restricted to language and optional region (`en`, `fr-CA`). */
export const languageTag = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, "must be a language tag like en or fr-CA")
  .describe("BCP 47 language tag (language[-REGION])");

export const postalAddress = z
  .strictObject({
    line1: z.string().min(1).max(200),
    line2: z.string().min(1).max(200).optional(),
    city: z.string().min(1).max(100),
    region: z.string().min(1).max(100).optional(),
    postal_code: z.string().regex(/^[A-Z0-9][A-Z0-9 -]{1,10}$/, "must be an upper-case postal code"),
    country: countryCode,
  })
  .describe("Postal address");

/**
 * An address as one piece of free text ("789 Oak Ave, Springfield"), for services that never
 * split addresses into lines: the text is kept as written rather than guessed into `line1`/`city`.
 */
export const addressText = z
  .strictObject({ text: z.string().min(1).max(500).describe("The address as written, one line") })
  .describe("Address as free text");

/** A citizen's address: postal (structured) or, as some services record it, free text. */
export const citizenAddress = z
  .union([postalAddress, addressText])
  .describe("Postal address, or {text} when the service records addresses as free text");

/**
 * Who to tell about an event. Carried where the publishing service already knows it, so the
 * notifier need not look the citizen up; absent fields are looked up by `citizen_id`.
 */
export const contact = z
  .strictObject({
    name: personName.optional(),
    email: email.optional(),
    phone: phone.optional(),
  })
  .describe("Contact details of the person concerned");

/** Staff member id as issued by the HR system (`EMP-000123`). */
export const employeeId = z
  .string()
  .regex(/^EMP-\d{6}$/, "must be an employee id like EMP-000123")
  .describe("Employee id (EMP-nnnnnn)");

/**
 * Who did something: an employee, or `system` for automated actions. One pattern rather than a
 * union so a bad value gets one clear message.
 */
export const actor = z
  .string()
  .regex(/^(?:EMP-\d{6}|system)$/, 'must be an employee id like EMP-000123 or "system"')
  .describe("Employee id (EMP-nnnnnn) or system");

/** Account id of a user (citizen or employee) in the identity service. */
export const userId = z.uuid().describe("User account id (UUID)");

/** An opaque identifier: printable, no whitespace, bounded. */
export const opaqueId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
  .describe("Opaque identifier");

export const permitApplicationId = z
  .string()
  .regex(/^PA-\d{4}-\d{6}$/, "must be an application id like PA-2026-000123")
  .describe("Permit application id (PA-yyyy-nnnnnn)");

export const paymentId = z
  .string()
  .regex(/^PAY-\d{4}-\d{8}$/, "must be a payment id like PAY-2026-00000123")
  .describe("Payment id (PAY-yyyy-nnnnnnnn)");

/**
 * A notification rule says, as data, which event type produces which notification: the template,
 * the channels, where the recipient comes from and which template variables are read from the
 * event. Adding a notification means adding a notification rule and its templates, no code.
 */

/** How one template variable is read from the event `data` and formatted for the locale. */
export interface VariableSpec {
  /** Dotted path into `data`, e.g. `site_address.city`. */
  readonly path: string;
  /**
   * - `text` (default): the value as a string;
   * - `money`: an integer amount in minor units, with the ISO currency at `currencyPath`;
   * - `date` / `datetime`: a calendar date / RFC 3339 instant in the locale (datetimes in the
   *   configured time zone);
   * - `label`: an enum value looked up in the locale's labels (`labels.ts`);
   * - `flag`: `"yes"` when the value is `true` (or equals `equals`), else `""`, for `{{#…}}` sections.
   */
  readonly format?: "text" | "money" | "date" | "datetime" | "label" | "flag";
  readonly currencyPath?: string;
  readonly equals?: string;
  /** Absent or null renders as `""` instead of failing (the field is optional in the schema). */
  readonly optional?: boolean;
}

export type DirectoryName = "permits" | "revenue";

export interface ChannelRule {
  readonly channel: "email" | "sms" | "webhook";
  /**
   * `always` (default): whenever the recipient has an address on this channel, otherwise the
   * send is recorded as skipped; `if_available`: only when the recipient has one, without a
   * skipped record (e.g. an SMS copy when the citizen has a phone).
   */
  readonly when?: "always" | "if_available";
}

export interface NotificationRule {
  /** The CloudEvents `type` this notification rule reacts to. */
  readonly type: string;
  /** Template name in `templates.ts`. */
  readonly template: string;
  readonly channels: readonly ChannelRule[];
  readonly recipient: {
    /** Path of the citizen id in `data`. */
    readonly citizenIdPath: string;
    /** Path of contact fields (`name`, `email`, `phone`, `preferred_language`) in `data`; `""` = `data` itself. */
    readonly contactPath?: string;
    /** Which `citizen_refs` replica fills in what the event does not carry. */
    readonly directory: DirectoryName;
  };
  readonly variables: Readonly<Record<string, VariableSpec>>;
}

/** Variables every template may use without declaring them. */
export const BUILT_IN_VARIABLES = ["name", "greeting"] as const;

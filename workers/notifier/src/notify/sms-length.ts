/**
 * SMS length as carriers count it. A message that fits the GSM 03.38 alphabet costs 160
 * characters per single SMS (153 per part when concatenated, extension characters count twice);
 * one character outside it switches the whole message to UCS-2: 70 per SMS, 67 per part.
 */

const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENSION = new Set("^{}\\[~]|€\f");

/** Twilio refuses bodies longer than 1600 characters (error 21617). */
export const TWILIO_MAX_BODY_CHARS = 1600;

export interface SmsLength {
  readonly encoding: "gsm7" | "ucs2";
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  readonly segments: number;
}

export function smsLength(text: string): SmsLength {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.has(char)) septets += 1;
    else if (GSM_EXTENSION.has(char)) septets += 2;
    else return { encoding: "ucs2", units: text.length, segments: segmentsOf(text.length, 70, 67) };
  }
  return { encoding: "gsm7", units: septets, segments: segmentsOf(septets, 160, 153) };
}

function segmentsOf(units: number, single: number, part: number): number {
  if (units === 0) return 0;
  return units <= single ? 1 : Math.ceil(units / part);
}

/**
 * Shortens `text` to at most `maxSegments` segments (and Twilio's hard limit) by cutting at a word
 * boundary and appending "...", which is GSM-7 unlike "…" and so never changes the encoding.
 */
export function fitSms(text: string, maxSegments: number): string {
  const fits = (candidate: string) =>
    smsLength(candidate).segments <= maxSegments && candidate.length <= TWILIO_MAX_BODY_CHARS;
  if (fits(text)) return text;
  const chars = Array.from(text);
  let low = 0;
  let high = chars.length;
  // Longest prefix that fits with the ellipsis appended (length is monotonic in the prefix).
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(`${chars.slice(0, mid).join("")}...`)) low = mid;
    else high = mid - 1;
  }
  const prefix = chars.slice(0, low).join("");
  const wordBoundary = prefix.search(/\s+\S*$/);
  const cut = wordBoundary > low / 2 ? prefix.slice(0, wordBoundary) : prefix;
  return `${cut.trimEnd()}...`;
}

/**
 * The notifier's real SendGrid and Twilio senders pointed at the local notification provider
 * (`scripts/local-provider.ts`) with its credentials, for Node tests of the notifier. Node only.
 */
import { LOCAL_PROVIDER_CREDENTIALS } from "../../scripts/local-provider.ts";
import { SendGridSender } from "../../workers/notifier/src/notify/sendgrid-sender.ts";
import { TwilioSender } from "../../workers/notifier/src/notify/twilio-sender.ts";

/** `emailActivity`: the SendGrid sender may look up its messages (Email Activity API). */
export function localProviderSenders(
  baseUrl: string,
  { emailActivity = false }: { emailActivity?: boolean } = {},
): { email: SendGridSender; sms: TwilioSender } {
  return {
    email: new SendGridSender({
      baseUrl,
      apiKey: LOCAL_PROVIDER_CREDENTIALS.sendgridApiKey,
      from: { email: "noreply@council.example.gov" },
      emailActivity,
    }),
    sms: new TwilioSender({
      baseUrl,
      accountSid: LOCAL_PROVIDER_CREDENTIALS.twilioAccountSid,
      authToken: LOCAL_PROVIDER_CREDENTIALS.twilioAuthToken,
      from: LOCAL_PROVIDER_CREDENTIALS.twilioFrom,
    }),
  };
}

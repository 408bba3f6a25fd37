/**
 * Notification wording, per template and locale, as data. Email bodies are plain text with
 * paragraphs separated by blank lines; the HTML part is built from the same text with every
 * value escaped (`email-html.ts`). SMS bodies are plain text, kept within `maxSegments` segments.
 *
 * Variables: `{{name}}`, `{{greeting}}` and the ones the notification rule declares; `{{#v}}…{{/v}}`
 * keeps text only when `v` is non-empty. The loader rejects unknown variables at startup.
 */

export interface EmailTemplateSource {
  readonly subject: string;
  readonly body: string;
}

export interface SmsTemplateSource {
  readonly body: string;
  /** Longest the SMS may get after rendering (longer values are cut at a word with "..."). */
  readonly maxSegments: number;
}

export interface LocaleTemplates {
  readonly email?: EmailTemplateSource;
  readonly sms?: SmsTemplateSource;
}

export const DEFAULT_LOCALE = "en";

/**
 * The Intl locale each template locale formats numbers and dates with (`en` → `en-IE`: day
 * before month, euro amounts as "€250.00").
 */
export const FORMAT_LOCALES: Readonly<Record<string, string>> = { en: "en-IE", fr: "fr-FR" };

/** The salutation `{{greeting}}`: `named` when the recipient's name is known. */
export const GREETINGS: Readonly<Record<string, { named: string; anonymous: string }>> = {
  en: { named: "Dear {{name}},", anonymous: "Hello," },
  fr: { named: "Bonjour {{name}},", anonymous: "Bonjour," },
};

export const TEMPLATES: Readonly<Record<string, Readonly<Record<string, LocaleTemplates>>>> = {
  citizen_welcome: {
    en: {
      email: {
        subject: "Welcome to your citizen account",
        body: "{{greeting}}\n\nYour citizen account has been created. You can now apply for permits, make payments and follow your requests online.\n\nIf you did not create this account, please contact us.\n\nCouncil services",
      },
    },
    fr: {
      email: {
        subject: "Bienvenue sur votre espace citoyen",
        body: "{{greeting}}\n\nVotre espace citoyen a été créé. Vous pouvez désormais demander des permis, effectuer des paiements et suivre vos démarches en ligne.\n\nSi vous n'êtes pas à l'origine de cette création, merci de nous contacter.\n\nLes services de la mairie",
      },
    },
  },
  permit_application_submitted: {
    en: {
      email: {
        subject: "We received your application {{application_id}}",
        body: "{{greeting}}\n\nWe received your {{permit_type}} application on {{submitted_at}}. Your reference is {{application_id}}.\n\nThe application fee is {{fee}}. We will write to you when a decision is made.\n\nCouncil services",
      },
      sms: {
        body: "We received your application {{application_id}} ({{permit_type}}). Fee due: {{fee}}.",
        maxSegments: 2,
      },
    },
    fr: {
      email: {
        subject: "Nous avons bien reçu votre demande {{application_id}}",
        body: "{{greeting}}\n\nNous avons bien reçu votre demande ({{permit_type}}) le {{submitted_at}}. Votre référence est {{application_id}}.\n\nLes frais de dossier s'élèvent à {{fee}}. Nous vous écrirons dès qu'une décision aura été prise.\n\nLes services de la mairie",
      },
      sms: {
        body: "Demande {{application_id}} ({{permit_type}}) bien reçue. Frais à régler : {{fee}}.",
        maxSegments: 2,
      },
    },
  },
  permit_application_approved: {
    en: {
      email: {
        subject: "Your application {{application_id}} has been approved",
        body: "{{greeting}}\n\nGood news: your application {{application_id}} has been approved. Your {{permit_type}} number is {{permit_number}}.\n\nIt is valid from {{valid_from}} until {{valid_until}}. Please read any conditions attached to the permit in your account.\n\nCouncil services",
      },
      sms: {
        body: "Your application {{application_id}} is approved. Permit {{permit_number}}, valid {{valid_from}} to {{valid_until}}.",
        maxSegments: 2,
      },
    },
    fr: {
      email: {
        subject: "Votre demande {{application_id}} est acceptée",
        body: "{{greeting}}\n\nBonne nouvelle : votre demande {{application_id}} a été acceptée. Le numéro de votre {{permit_type}} est {{permit_number}}.\n\nIl est valable du {{valid_from}} au {{valid_until}}. Merci de consulter dans votre espace les conditions éventuelles qui l'accompagnent.\n\nLes services de la mairie",
      },
      sms: {
        body: "Votre demande {{application_id}} est acceptée. Permis {{permit_number}}, valable du {{valid_from}} au {{valid_until}}.",
        maxSegments: 2,
      },
    },
  },
  permit_application_rejected: {
    en: {
      email: {
        subject: "Decision on your application {{application_id}}",
        body: "{{greeting}}\n\nWe are sorry to tell you that your {{permit_type}} application {{application_id}} was not approved because {{reason}}.{{#comment}}\n\nThe case officer added: {{comment}}{{/comment}}\n\n{{#appeal_deadline}}You may appeal this decision until {{appeal_deadline}}.{{/appeal_deadline}}\n\nCouncil services",
      },
      sms: {
        body: "Your application {{application_id}} was not approved. Details have been sent to you by email and are in your account.",
        maxSegments: 2,
      },
    },
    fr: {
      email: {
        subject: "Décision concernant votre demande {{application_id}}",
        body: "{{greeting}}\n\nNous avons le regret de vous informer que votre demande {{application_id}} ({{permit_type}}) n'a pas été acceptée, car {{reason}}.{{#comment}}\n\nCommentaire de l'agent instructeur : {{comment}}{{/comment}}\n\n{{#appeal_deadline}}Vous pouvez contester cette décision jusqu'au {{appeal_deadline}}.{{/appeal_deadline}}\n\nLes services de la mairie",
      },
      sms: {
        body: "Votre demande {{application_id}} n'a pas été acceptée. Le détail vous a été envoyé et figure dans votre espace.",
        maxSegments: 2,
      },
    },
  },
  inspection_reminder: {
    en: {
      sms: {
        body: "Reminder: {{inspection_type}} {{inspection_id}} at {{site}}, {{site_city}} on {{scheduled_for}}. Please make sure the site is accessible.",
        maxSegments: 2,
      },
    },
    fr: {
      sms: {
        body: "Rappel : {{inspection_type}} {{inspection_id}} au {{site}}, {{site_city}} le {{scheduled_for}}. Merci de rendre le site accessible.",
        maxSegments: 2,
      },
    },
  },
  payment_receipt: {
    en: {
      email: {
        subject: "Receipt {{receipt_number}} for your payment of {{amount}}",
        body: "{{greeting}}\n\nThank you. We received your payment of {{amount}} for {{purpose}} (reference {{reference}}) on {{completed_at}}.\n\nReceipt number: {{receipt_number}}\nPayment: {{payment_id}}\n\nPlease keep this email as your receipt.\n\nCouncil services",
      },
    },
    fr: {
      email: {
        subject: "Reçu {{receipt_number}} pour votre paiement de {{amount}}",
        body: "{{greeting}}\n\nMerci. Nous avons bien reçu votre paiement de {{amount}} ({{purpose}}, référence {{reference}}) le {{completed_at}}.\n\nNuméro de reçu : {{receipt_number}}\nPaiement : {{payment_id}}\n\nMerci de conserver ce courriel comme reçu.\n\nLes services de la mairie",
      },
    },
  },
  payment_failed: {
    en: {
      email: {
        subject: "Your payment of {{amount}} did not go through",
        body: "{{greeting}}\n\nYour payment {{payment_id}} of {{amount}} for {{purpose}} failed: {{reason}}. No money has been taken.\n\n{{#can_retry}}You can try the payment again from your account.{{/can_retry}}\n\nCouncil services",
      },
    },
    fr: {
      email: {
        subject: "Votre paiement de {{amount}} n'a pas abouti",
        body: "{{greeting}}\n\nVotre paiement {{payment_id}} de {{amount}} ({{purpose}}) a échoué : {{reason}}. Aucune somme n'a été prélevée.\n\n{{#can_retry}}Vous pouvez renouveler le paiement depuis votre espace.{{/can_retry}}\n\nLes services de la mairie",
      },
    },
  },
  refund_issued: {
    en: {
      email: {
        subject: "A refund of {{amount}} is on its way",
        body: "{{greeting}}\n\nWe have issued a refund {{refund_id}} of {{amount}} for payment {{payment_id}} (reason: {{reason}}).\n\nIt usually reaches your account within 5 working days.\n\nCouncil services",
      },
    },
    fr: {
      email: {
        subject: "Un remboursement de {{amount}} est en cours",
        body: "{{greeting}}\n\nNous avons émis le remboursement {{refund_id}} de {{amount}} pour le paiement {{payment_id}} (motif : {{reason}}).\n\nIl parvient en général sur votre compte sous 5 jours ouvrés.\n\nLes services de la mairie",
      },
    },
  },
  document_verified: {
    en: {
      email: {
        subject: "Your {{document_type}} has been checked",
        body: "{{greeting}}\n\n{{#accepted}}We have checked your {{document_type}} and accepted it. There is nothing more you need to do.{{/accepted}}{{#rejection_reason}}We have checked your {{document_type}} and could not accept it because {{rejection_reason}}. Please upload a new copy from your account.{{/rejection_reason}}\n\nCouncil services",
      },
    },
    fr: {
      email: {
        subject: "Votre document ({{document_type}}) a été vérifié",
        body: "{{greeting}}\n\n{{#accepted}}Nous avons vérifié et accepté votre document ({{document_type}}). Vous n'avez rien d'autre à faire.{{/accepted}}{{#rejection_reason}}Nous avons vérifié votre document ({{document_type}}) mais ne pouvons pas l'accepter, car {{rejection_reason}}. Merci d'en déposer une nouvelle copie depuis votre espace.{{/rejection_reason}}\n\nLes services de la mairie",
      },
    },
  },
};

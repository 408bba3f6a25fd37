/**
 * The government event catalogue: one module per domain, combined into the default
 * `Catalogue`. Adding a domain = writing `schemas/<domain>.ts` and listing it here.
 */
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import { authCatalogue } from "./auth.ts";
import { documentsCatalogue } from "./documents.ts";
import { notificationCatalogue } from "./notification.ts";
import { permitsCatalogue } from "./permits.ts";
import { revenueCatalogue } from "./revenue.ts";

export const governmentDomains: readonly DomainCatalogue[] = [
  authCatalogue,
  permitsCatalogue,
  revenueCatalogue,
  documentsCatalogue,
  notificationCatalogue,
];

export const governmentCatalogue = new Catalogue(governmentDomains, { namespace: "gov" });

/**
 * The government event catalogue: one module per domain, combined into the default
 * `Catalogue`. Adding a domain = writing `schemas/<domain>.ts` and listing it here.
 */
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import type { CataloguePlugin } from "#shared/catalogue/catalogue-set.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import { authCatalogue } from "./auth.ts";
import { documentsCatalogue } from "./documents.ts";
import governmentRoutes from "./gov/routes.json" with { type: "json" };
import { notificationCatalogue } from "./notification.ts";
import { permitsCatalogue } from "./permits.ts";
import { revenueCatalogue } from "./revenue.ts";
import { parseRouteFile } from "./route-file.ts";

export const governmentDomains: readonly DomainCatalogue[] = [
  authCatalogue,
  permitsCatalogue,
  revenueCatalogue,
  documentsCatalogue,
  notificationCatalogue,
];

export const governmentCatalogue = new Catalogue(governmentDomains, { namespace: "gov" });

/** The government catalogue as a plug-in: its types and topics above, its routes as data. */
export const governmentPlugin: CataloguePlugin = {
  catalogue: governmentCatalogue,
  description: "Government services: identity, permits, revenue, documents, notifications",
  routes: parseRouteFile(governmentRoutes, governmentCatalogue, "schemas/gov/routes.json"),
};

/**
 * Runs in Node before the workerd tests: checks Postgres is reachable (fails under CI when it is
 * not), migrates the test database, starts the local notification provider and hands both URLs
 * to the tests and the Worker's bindings. Migrations run in a child process because importing
 * postgres.js here would pick its workerd build (workers-sdk#6465).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startLocalProvider } from "../../scripts/local-provider.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    postgresAvailable: boolean;
    providerUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const available = await requireService("postgres", "workers/notifier");
  if (available) {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    execFileSync(process.execPath, ["scripts/migrate.ts"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: serviceUrls.postgres },
      stdio: "inherit",
    });
  }
  const provider = await startLocalProvider({ port: 0 });
  project.provide("databaseUrl", withPassword(serviceUrls.postgres));
  project.provide("postgresAvailable", available);
  project.provide("providerUrl", provider.url);
  return () => provider.close();
}

/** Hyperdrive bindings require a password in the URL; trust-auth test servers ignore it. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password === "") parsed.password = "postgres";
  return parsed.toString();
}

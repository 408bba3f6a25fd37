/**
 * globalSetup for workerd projects that talk to Postgres (citizen-sync, dead-letter, archive).
 * Runs in Node before the workerd tests: checks Postgres is reachable (fails under CI when it is
 * not), migrates the test database and hands its URL to the tests and the Hyperdrive binding.
 * Migrations run in a child process because importing postgres.js here would pick its workerd
 * build (workers-sdk#6465).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "./services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    postgresAvailable: boolean;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const available = await requireService("postgres", `workers/${project.name}`);
  if (available) {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    execFileSync(process.execPath, ["scripts/migrate.ts"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: serviceUrls.postgres },
      stdio: "inherit",
    });
  }
  project.provide("databaseUrl", withPassword(serviceUrls.postgres));
  project.provide("postgresAvailable", available);
}

/** Hyperdrive bindings require a password in the URL; trust-auth test servers ignore it. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password === "") parsed.password = "postgres";
  return parsed.toString();
}

/**
 * The generated files of ops/, written by `npm run generate` and drift-checked by
 * `npm run check:generated` (scripts/generate-artefacts.ts takes them into its list).
 */
import { DASHBOARD_PATH, renderDashboard } from "./grafana/dashboard.ts";
import {
  DASHBOARD_RULES_PATH,
  DASHBOARD_RULES_TEST_PATH,
  renderDashboardRules,
  renderDashboardRulesTest,
} from "./prometheus/dashboard-rules.ts";

export interface OpsArtefact {
  /** Path relative to the repository root. */
  readonly path: string;
  render(): string;
}

export const OPS_ARTEFACTS: readonly OpsArtefact[] = [
  { path: DASHBOARD_PATH, render: () => renderDashboard() },
  { path: DASHBOARD_RULES_PATH, render: () => renderDashboardRules() },
  { path: DASHBOARD_RULES_TEST_PATH, render: () => renderDashboardRulesTest() },
];

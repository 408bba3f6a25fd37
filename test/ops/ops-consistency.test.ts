/**
 * ops/ stays true to the metric contract and the runbooks:
 * - every metric an alert, recording rule or dashboard panel queries is listed in docs/metrics.md,
 *   with the labels the query matches or groups on, and counters only under rate()/increase();
 * - every alert links to its runbook section in docs/operations.md, and every runbook section there
 *   belongs to an alert;
 * - every alert has a promtool case where it fires and one where it does not;
 * - every dashboard query is a recording rule in dashboard.rules.yml with a promtool test;
 * - the scrape job names the rules use are the ones prometheus.yml defines.
 *
 * Queries are parsed with Prometheus's own Lezer grammar (@prometheus-io/lezer-promql), so a query
 * that does not parse fails here even where promtool is not installed; `npm test` runs promtool too.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

// ---- docs/metrics.md -----------------------------------------------------------------------------

interface MetricDoc {
  readonly type: string;
  readonly labels: readonly string[];
}

/** Splits a Markdown table row into its cells (no escaped pipes occur in these tables). */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((cell) => cell.trim());
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** Every row of every table whose header has Metric, Type and Labels columns. */
function parseMetricTables(markdown: string): Map<string, MetricDoc> {
  const metrics = new Map<string, MetricDoc>();
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const header = cells(lines[i] ?? "");
    if (!(lines[i] ?? "").trim().startsWith("|")) continue;
    const metricCol = header.indexOf("Metric");
    const typeCol = header.indexOf("Type");
    const labelsCol = header.indexOf("Labels");
    if (metricCol < 0 || typeCol < 0 || labelsCol < 0) continue;
    for (let j = i + 2; j < lines.length && (lines[j] ?? "").trim().startsWith("|"); j++) {
      const row = cells(lines[j] ?? "");
      const [name] = backticked(row[metricCol] ?? "");
      if (name === undefined) continue;
      metrics.set(name, { type: row[typeCol] ?? "", labels: backticked(row[labelsCol] ?? "") });
      i = j;
    }
  }
  return metrics;
}

const METRICS = parseMetricTables(read("docs/metrics.md"));

/** Series Prometheus itself adds per target, and the target labels every scraped series carries. */
const PROMETHEUS_SERIES = new Map<string, MetricDoc>([["up", { type: "gauge", labels: [] }]]);
const TARGET_LABELS = ["job", "instance"];

// ---- the queries -----------------------------------------------------------------------------------

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; record?: string; expr: string; annotations?: Record<string, string> }[];
  }[];
}

const ALERTS_FILE = "ops/prometheus/alerts.rules.yml";
const DASHBOARD_RULES_FILE = "ops/prometheus/dashboard.rules.yml";
const alertRules = (parseYaml(read(ALERTS_FILE)) as RuleFile).groups.flatMap((g) => g.rules);
const recordingRules = (parseYaml(read(DASHBOARD_RULES_FILE)) as RuleFile).groups.flatMap((g) => g.rules);
const recordedNames = new Set(recordingRules.map((r) => r.record as string));

interface GrafanaPanel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(read("ops/grafana/edgebus.json")) as { panels: GrafanaPanel[] };
const panelQueries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

const QUERIES: { where: string; expr: string }[] = [
  ...alertRules.map((r) => ({ where: `${ALERTS_FILE} alert ${r.alert}`, expr: r.expr })),
  ...recordingRules.map((r) => ({ where: `${DASHBOARD_RULES_FILE} record ${r.record}`, expr: r.expr })),
  ...panelQueries.map((q) => ({ where: `ops/grafana/edgebus.json panel "${q.panel}"`, expr: q.expr })),
];

interface Selector {
  readonly name: string;
  /** Label names the selector matches on, with the values of `job` matchers. */
  readonly matchers: { label: string; op: string; value: string }[];
  /** The function the selector's range vector is passed to (`rate`, `delta`…), if any. */
  readonly rangeFunction: string | undefined;
}

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

interface ParsedQuery {
  readonly errors: string[];
  readonly selectors: Selector[];
  readonly groupingLabels: string[];
}

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) children.push(child);
  return children;
}

function parseQuery(expr: string): ParsedQuery {
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (ref.type.isError)
        errors.push(`syntax error at ${ref.from}: …${expr.slice(Math.max(0, ref.from - 20), ref.to + 20)}…`);
      if (ref.name === "GroupingLabels") {
        for (const label of childrenOf(node)) if (label.name === "LabelName") groupingLabels.push(text(label));
      }
      if (ref.name !== "VectorSelector") return;
      const children = childrenOf(node);
      const identifier = children.find((c) => c.name === "Identifier");
      const matchers: Selector["matchers"] = [];
      for (const matcher of childrenOf(children.find((c) => c.name === "LabelMatchers") ?? node)) {
        if (matcher.name !== "UnquotedLabelMatcher" && matcher.name !== "QuotedLabelMatcher") continue;
        const [label, op, value] = childrenOf(matcher);
        if (label === undefined || op === undefined || value === undefined) continue;
        matchers.push({
          label: text(label).replace(/^"|"$/g, ""),
          op: text(op),
          value: JSON.parse(text(value)) as string,
        });
      }
      // VectorSelector → MatrixSelector → FunctionCallBody → FunctionCall(FunctionIdentifier).
      let rangeFunction: string | undefined;
      if (node.parent?.name === "MatrixSelector") {
        const call = node.parent.parent?.parent;
        const identifier = call?.name === "FunctionCall" ? call.getChild("FunctionIdentifier") : null;
        if (identifier) rangeFunction = text(identifier);
      }
      selectors.push({ name: identifier ? text(identifier) : "", matchers, rangeFunction });
    },
  });
  return { errors, selectors, groupingLabels };
}

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/** The documented metric a series name belongs to: itself, or the histogram of a `_bucket`/`_sum`/`_count`. */
function documented(name: string): { metric: string; doc: MetricDoc; suffix: string } | undefined {
  const direct = METRICS.get(name) ?? PROMETHEUS_SERIES.get(name);
  if (direct) return { metric: name, doc: direct, suffix: "" };
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const doc = METRICS.get(base);
    if (doc?.type === "histogram") return { metric: base, doc, suffix };
  }
  return undefined;
}

/** Labels a series may carry: its documented labels, the target labels, and `le` on buckets. */
function allowedLabels(name: string): string[] {
  const found = documented(name);
  if (!found) return [];
  return [...found.doc.labels, ...TARGET_LABELS, ...(found.suffix === "_bucket" ? ["le"] : [])];
}

// ---- runbooks ----------------------------------------------------------------------------------------

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const OPERATIONS = read("docs/operations.md");
/** `### Alert: Name` sections of docs/operations.md: name → body. */
const RUNBOOKS = new Map<string, string>();
{
  const parts = OPERATIONS.split(/^(?=#{1,3} )/m);
  for (const part of parts) {
    const match = part.match(/^### Alert: (\S+)\s*\n/);
    if (match) RUNBOOKS.set(match[1] as string, part.slice(match[0].length));
  }
}

const alertNames = [...new Set(alertRules.map((r) => r.alert as string))];

// ---- the tests ---------------------------------------------------------------------------------------

describe("docs/metrics.md tables", () => {
  it("are parsed: every section's metrics with type and labels", () => {
    expect(METRICS.get("edgebus_http_requests_total")).toEqual({
      type: "counter",
      labels: ["route", "method", "status"],
    });
    expect(METRICS.get("edgebus_bridge_mirror_delay_seconds")).toEqual({ type: "histogram", labels: [] });
    expect(METRICS.get("kafka_consumergroup_lag")?.labels).toEqual(["consumergroup", "topic", "partition"]);
    expect(METRICS.size).toBeGreaterThanOrEqual(24);
  });
});

describe("queries in alerts, recording rules and the dashboard", () => {
  it("are all found (alerts, one rule per panel query, the panels)", () => {
    expect(alertNames.length).toBeGreaterThanOrEqual(10);
    expect(recordingRules.length).toBe(panelQueries.length);
    expect(panelQueries.length).toBeGreaterThanOrEqual(20);
  });

  it.each(QUERIES)("$where parses and uses only documented metrics and labels", ({ expr }) => {
    const parsed = parseQuery(expr);
    expect(parsed.errors).toEqual([]);
    expect(parsed.selectors.length).toBeGreaterThan(0);
    const problems: string[] = [];
    const labelsInQuery = new Set<string>();
    for (const selector of parsed.selectors) {
      if (recordedNames.has(selector.name)) continue;
      const found = documented(selector.name);
      if (!found) {
        problems.push(`${selector.name || "(no metric name)"} is not in docs/metrics.md`);
        continue;
      }
      const allowed = allowedLabels(selector.name);
      for (const label of allowed) labelsInQuery.add(label);
      for (const { label } of selector.matchers)
        if (!allowed.includes(label)) problems.push(`${selector.name} has no label ${label} (docs/metrics.md)`);
      const isCounterLike = found.doc.type === "counter" || found.suffix !== "";
      if ((selector.rangeFunction === "rate" || selector.rangeFunction === "increase") && !isCounterLike)
        problems.push(`${selector.rangeFunction}() of ${selector.name}, a ${found.doc.type}`);
      if (selector.rangeFunction === "delta" || selector.rangeFunction === "deriv")
        if (isCounterLike) problems.push(`${selector.rangeFunction}() of ${selector.name}: use rate() on counters`);
    }
    for (const label of parsed.groupingLabels)
      if (!labelsInQuery.has(label)) problems.push(`groups on ${label}, which none of its metrics has`);
    expect(problems).toEqual([]);
  });

  it("refer to the scrape jobs of ops/prometheus/prometheus.yml", () => {
    const config = parseYaml(read("ops/prometheus/prometheus.yml")) as { scrape_configs: { job_name: string }[] };
    const jobs = config.scrape_configs.map((s) => s.job_name);
    const jobMatchers = QUERIES.flatMap(({ where, expr }) =>
      parseQuery(expr).selectors.flatMap((s) =>
        s.matchers.filter((m) => m.label === "job").map((m) => ({ where, ...m })),
      ),
    );
    expect(jobMatchers.length).toBeGreaterThan(0);
    for (const { where, op, value } of jobMatchers) {
      const matches =
        op === "=~" ? jobs.filter((job) => new RegExp(`^(?:${value})$`).test(job)) : jobs.filter((j) => j === value);
      expect(
        matches.length,
        `${where}: job${op}"${value}" matches no job in prometheus.yml (${jobs.join(", ")})`,
      ).toBeGreaterThan(0);
    }
  });
});

describe("the dashboard's queries", () => {
  it("are each a recording rule with the same expression, in panel order", () => {
    expect(recordingRules.map((r) => r.expr)).toEqual(panelQueries.map((q) => q.expr));
  });

  it("are each tested by promtool over the synthetic series (tests/dashboard.test.yml)", () => {
    const test = parseYaml(read("ops/prometheus/tests/dashboard.test.yml")) as {
      rule_files: string[];
      tests: { promql_expr_test: { expr: string; exp_samples: unknown[] }[] }[];
    };
    expect(test.rule_files).toEqual(["../dashboard.rules.yml"]);
    const tested = test.tests.flatMap((t) => t.promql_expr_test);
    expect(tested.map((t) => t.expr).sort()).toEqual([...recordedNames].sort());
    for (const t of tested) expect(t.exp_samples.length, `${t.expr} expects no sample`).toBeGreaterThan(0);
  });
});

describe("alerts", () => {
  interface AlertCase {
    alertname: string;
    exp_alerts?: unknown[];
  }
  const alertTests = parseYaml(read("ops/prometheus/tests/alerts.test.yml")) as {
    rule_files: string[];
    tests: { name: string; alert_rule_test?: AlertCase[] }[];
  };
  const cases = alertTests.tests.flatMap((t) => t.alert_rule_test ?? []);

  it("have severity, summary, description and a runbook_url to their section of docs/operations.md", () => {
    for (const rule of alertRules) {
      const name = rule.alert as string;
      const { labels, annotations } = rule as typeof rule & { labels?: Record<string, string> };
      expect(["critical", "warning", "info"], name).toContain(labels?.severity);
      expect(annotations?.summary, name).toBeTruthy();
      expect(annotations?.description, name).toBeTruthy();
      expect(annotations?.runbook_url, name).toBe(`docs/operations.md#${githubSlug(`Alert: ${name}`)}`);
    }
  });

  it.each(alertNames)("%s has a runbook section in docs/operations.md (meaning, where to look, fix)", (name) => {
    const body = RUNBOOKS.get(name);
    expect(body, `no "### Alert: ${name}" in docs/operations.md`).toBeDefined();
    expect(body).toMatch(/where to look/i);
    expect(body).toMatch(/fix/i);
  });

  it("runbook links lead somewhere: every #anchor and doc.md#anchor in the runbooks is a heading", () => {
    const section = OPERATIONS.slice(OPERATIONS.indexOf("## Alert runbooks"));
    expect(section.length).toBeGreaterThan(1000);
    const headingSlugs = (markdown: string) =>
      new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubSlug(m[1] as string)));
    const broken: string[] = [];
    let links = 0;
    for (const [, file, anchor] of section.matchAll(/\]\(([a-z-]+\.md)?#([^)\s]+)\)/g)) {
      const target = file === undefined ? OPERATIONS : read(`docs/${file}`);
      links++;
      if (!headingSlugs(target).has(anchor as string)) broken.push(`${file ?? ""}#${anchor}`);
    }
    expect(links).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });

  it("every runbook section in docs/operations.md belongs to an alert", () => {
    expect([...RUNBOOKS.keys()].sort()).toEqual([...alertNames].sort());
  });

  it.each(alertNames)("%s has a promtool case where it fires and one where it does not", (name) => {
    expect(alertTests.rule_files).toEqual(["../alerts.rules.yml"]);
    const own = cases.filter((c) => c.alertname === name);
    expect(
      own.some((c) => (c.exp_alerts ?? []).length > 0),
      `${name}: no firing case`,
    ).toBe(true);
    expect(
      own.some((c) => (c.exp_alerts ?? []).length === 0),
      `${name}: no not-firing case`,
    ).toBe(true);
  });
});

describe("the checks themselves", () => {
  it("catch an undocumented metric, a wrong label, a bad grouping and a syntax error", () => {
    const check = (expr: string) => {
      const parsed = parseQuery(expr);
      const names = parsed.selectors.filter((s) => !documented(s.name)).map((s) => s.name);
      const labels = parsed.selectors.flatMap((s) =>
        s.matchers.filter((m) => !allowedLabels(s.name).includes(m.label)).map((m) => m.label),
      );
      return { errors: parsed.errors.length, names, labels, grouping: parsed.groupingLabels };
    };
    expect(check("rate(edgebus_not_a_metric_total[5m])").names).toEqual(["edgebus_not_a_metric_total"]);
    expect(check('edgebus_queue_backlog_messages{consumer="x"}').labels).toEqual(["consumer"]);
    expect(check("sum by (queue) (rate(edgebus_publish_duration_seconds_bucket[5m]))").grouping).toEqual(["queue"]);
    expect(check("sum(rate(edgebus_events_total[5m]) /").errors).toBeGreaterThan(0);
    expect(documented("edgebus_publish_duration_seconds_bucket")?.metric).toBe("edgebus_publish_duration_seconds");
    expect(documented("edgebus_queue_backlog_messages_bucket")).toBeUndefined();
    expect(githubSlug("Alert: EdgebusDeadLetterAged")).toBe("alert-edgebusdeadletteraged");
  });
});

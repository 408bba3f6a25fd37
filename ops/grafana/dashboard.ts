/**
 * The edgebus Grafana dashboard (ops/grafana/edgebus.json), built with Grafana's Foundation SDK from
 * the panel definitions in panels.ts. `npm run generate` writes the JSON; `npm run check:generated`
 * fails when the committed file differs from what this code builds.
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  AnnotationQueryBuilder,
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { DASHBOARD_ROWS, type PanelQuery, type PanelSpec, type RowSpec } from "./panels.ts";

export const DASHBOARD_PATH = "ops/grafana/edgebus.json";
export const DASHBOARD_UID = "edgebus-pipeline";

/** Every panel and query reads the Prometheus picked in the dashboard's `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template.
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const PANEL_HEIGHT = { timeseries: 8, stat: 4 } as const;

function target(query: PanelQuery, index: number): DataqueryBuilder {
  return new DataqueryBuilder()
    .refId(String.fromCharCode(65 + index))
    .datasource(DATASOURCE)
    .expr(query.expr)
    .legendFormat(query.legend)
    .range();
}

function timeseriesPanel(spec: PanelSpec, id: number): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .min(0)
    .span(spec.width)
    .height(PANEL_HEIGHT.timeseries)
    .fillOpacity(spec.stacked ? 30 : 10)
    .lineWidth(1)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  if (spec.stacked) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group("A"));
  spec.queries.forEach((query, index) => {
    panel.withTarget(target(query, index));
  });
  return panel;
}

function statPanel(spec: PanelSpec, id: number): StatPanelBuilder {
  const steps: Threshold[] = [{ value: null, color: "green" }];
  if (spec.redFrom !== undefined) steps.push({ value: spec.redFrom, color: "red" });
  const panel = new StatPanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width)
    .height(PANEL_HEIGHT.stat)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(spec.redFrom === undefined ? BigValueColorMode.None : BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
  spec.queries.forEach((query, index) => {
    panel.withTarget(target(query, index));
  });
  return panel;
}

/** Builds the dashboard model; panel ids are assigned in order, rows included. */
export function buildDashboard(rows: readonly RowSpec[] = DASHBOARD_ROWS): Dashboard {
  const builder = new DashboardBuilder("edgebus pipeline")
    .uid(DASHBOARD_UID)
    .description(
      "Producer → Cloudflare Queues → consumers → dead letters, Kafka and the bridge. Generated from ops/grafana/panels.ts; alerts and runbooks: ops/README.md, docs/operations.md.",
    )
    .tags(["edgebus"])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: "now-6h", to: "now" })
    .refresh("1m")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"))
    // Grafana's own annotations (and alert state changes), as every dashboard Grafana creates has.
    .annotation(
      new AnnotationQueryBuilder()
        .name("Annotations & Alerts")
        .datasource({ type: "grafana", uid: "-- Grafana --" })
        .builtIn(1)
        .enable(true)
        .hide(true)
        .iconColor("rgba(0, 211, 255, 1)")
        .type("dashboard"),
    );
  let id = 0;
  for (const row of rows) {
    builder.withRow(new RowBuilder(row.title).id(++id));
    for (const spec of row.panels) {
      builder.withPanel(spec.kind === "stat" ? statPanel(spec, ++id) : timeseriesPanel(spec, ++id));
    }
  }
  return builder.build();
}

export function renderDashboard(rows: readonly RowSpec[] = DASHBOARD_ROWS): string {
  return `${JSON.stringify(buildDashboard(rows), null, 2)}\n`;
}

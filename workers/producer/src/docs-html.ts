/**
 * The interactive API docs page: one self-contained HTML document (no CDN — it must work on a
 * closed network) that loads `/openapi.json`, lists every operation with its schemas and
 * example, and sends real requests with the key the reader enters.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgebus producer API</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #f6f8fa; }
  body { max-width: 1100px; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
  h1 { margin-bottom: 0.2rem; }
  .muted { color: #57606a; }
  .auth { position: sticky; top: 0; background: #f6f8fa; padding: 0.6rem 0; border-bottom: 1px solid #d0d7de; z-index: 1; }
  .auth input { width: 28rem; max-width: 100%; font-family: ui-monospace, monospace; }
  details.op { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 0.6rem 0; }
  details.op > summary { cursor: pointer; padding: 0.6rem 0.8rem; list-style: none; display: flex; gap: 0.8rem; align-items: center; }
  .method { font-weight: 700; font-family: ui-monospace, monospace; min-width: 3.5rem; text-transform: uppercase; }
  .get { color: #0969da; } .post { color: #1a7f37; }
  .path { font-family: ui-monospace, monospace; }
  .body { padding: 0 0.8rem 0.8rem; }
  textarea { width: 100%; min-height: 12rem; font-family: ui-monospace, monospace; font-size: 0.85rem; box-sizing: border-box; }
  pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.6rem; overflow: auto; max-height: 24rem; font-size: 0.8rem; }
  button { padding: 0.35rem 0.9rem; cursor: pointer; }
  label { display: block; margin: 0.5rem 0 0.2rem; font-weight: 600; }
  select, input[type=text] { font-family: ui-monospace, monospace; }
  .status-2 { color: #1a7f37; } .status-4 { color: #bf8700; } .status-5 { color: #cf222e; }
</style>
</head>
<body>
<h1 id="title">edgebus producer API</h1>
<p class="muted" id="description">Loading /openapi.json…</p>
<div class="auth">
  <label for="key">API key (sent as <code>Authorization: Bearer …</code>; kept in this tab only)</label>
  <input id="key" type="password" autocomplete="off" placeholder="ebk_…">
</div>
<div id="operations"></div>
<script>
"use strict";
const $ = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") el.className = value; else if (name.startsWith("on")) el.addEventListener(name.slice(2), value); else el.setAttribute(name, value);
  }
  for (const child of children) el.append(child);
  return el;
};
const pretty = (value) => JSON.stringify(value, null, 2);
let spec;
function resolve(schema) {
  if (schema && schema.$ref) return resolve(spec.components.schemas[schema.$ref.split("/").pop()]);
  return schema;
}
function exampleFor(operation, contentType) {
  const media = operation.requestBody && operation.requestBody.content[contentType];
  if (!media) return "";
  if (media.example !== undefined) return pretty(media.example);
  const schema = resolve(media.schema) || {};
  const events = (schema.type === "array" ? resolve(schema.items) : schema) || {};
  const batch = (event) => pretty(schema.type === "array" ? [event] : event);
  if (events.examples) return batch(events.examples[0]);
  const options = events.oneOf || [];
  const first = options[0] && resolve(options[0]);
  const dataRef = first && first.allOf && first.allOf[1].properties.data;
  const data = dataRef && resolve(dataRef).examples ? resolve(dataRef).examples[0] : {};
  const type = first && first.allOf ? first.allOf[1].properties.type.const : "gov.example.entity.action";
  return batch({ specversion: "1.0", id: crypto.randomUUID(), source: "/services/docs", type, data });
}
function operationView(path, method, operation) {
  const contentTypes = operation.requestBody ? Object.keys(operation.requestBody.content) : [];
  const pathInput = $("input", { type: "text", value: path, size: "60" });
  const typeSelect = $("select", {}, ...contentTypes.map((t) => $("option", { value: t }, t)));
  const bodyInput = $("textarea", { spellcheck: "false" });
  const headersInput = $("textarea", { spellcheck: "false", style: "min-height:4rem" });
  headersInput.value = "{}";
  const output = $("pre", {}, "—");
  const refreshExample = () => { bodyInput.value = exampleFor(operation, typeSelect.value); };
  typeSelect.addEventListener("change", refreshExample);
  refreshExample();
  const send = async () => {
    output.textContent = "…";
    const headers = {};
    try { Object.assign(headers, JSON.parse(headersInput.value || "{}")); } catch { output.textContent = "Extra headers must be a JSON object"; return; }
    const key = document.getElementById("key").value.trim();
    if (key) headers.Authorization = "Bearer " + key;
    const init = { method: method.toUpperCase(), headers };
    if (contentTypes.length) { headers["Content-Type"] = typeSelect.value; init.body = bodyInput.value; }
    const started = performance.now();
    try {
      const response = await fetch(pathInput.value, init);
      const text = await response.text();
      let shown = text;
      try { shown = pretty(JSON.parse(text)); } catch {}
      const elapsed = Math.round(performance.now() - started);
      output.className = "status-" + String(response.status)[0];
      output.textContent = response.status + " " + response.statusText + " (" + elapsed + " ms)\\n\\n" + shown;
    } catch (error) { output.textContent = String(error); }
  };
  const responses = Object.entries(operation.responses || {}).map(([status, r]) => status + " — " + r.description).join("\\n");
  const body = $("div", { class: "body" },
    $("p", {}, operation.description || ""),
    $("label", {}, "Path"), pathInput,
    ...(contentTypes.length ? [$("label", {}, "Content-Type"), typeSelect, $("label", {}, "Body"), bodyInput] : []),
    $("label", {}, "Extra headers (JSON, e.g. ce-* for binary mode)"), headersInput,
    $("p", {}, $("button", { onclick: send }, "Send request")),
    $("label", {}, "Response"), output,
    $("label", {}, "Documented responses"), $("pre", {}, responses),
  );
  return $("details", { class: "op" },
    $("summary", {}, $("span", { class: "method " + method }, method), $("span", { class: "path" }, path), $("span", { class: "muted" }, operation.summary || "")),
    body);
}
function schemasView() {
  const select = $("select", {}, ...Object.keys(spec.components.schemas).sort().map((n) => $("option", { value: n }, n)));
  const out = $("pre", {});
  const show = () => { out.textContent = pretty(spec.components.schemas[select.value]); };
  select.addEventListener("change", show);
  show();
  return $("details", { class: "op" }, $("summary", {}, $("span", { class: "method" }, "schema"), $("span", { class: "muted" }, "Components: event types, envelope, receipt, errors")), $("div", { class: "body" }, select, out));
}
fetch("/openapi.json").then((r) => r.json()).then((document_) => {
  spec = document_;
  document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
  document.getElementById("description").textContent = spec.info.description;
  const container = document.getElementById("operations");
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) container.append(operationView(path, method, operation));
  }
  container.append(schemasView());
}).catch((error) => { document.getElementById("description").textContent = "Could not load /openapi.json: " + error; });
</script>
</body>
</html>
`;

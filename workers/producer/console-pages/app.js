// @ts-check
/**
 * The edgebus operator console: one ES module, no framework, no build step, nothing from other
 * sites (docs/console.md says why). It talks only to the producer's `/console/api/` with the
 * session cookie; every state-changing request carries the session's CSRF token. Pages are hash
 * routes (`#/overview`, …) so the static assets need no server-side routing. DOM is built with
 * `h()` (text nodes, never HTML strings), so nothing an event carries can become markup.
 */

/** @typedef {{signed_in: true, key_id: string, role: "admin" | "metrics", may_see_personal_data: boolean, environment: string, csrf_token: string, expires_at: string}} Session */
/** @typedef {Record<string, any>} Json */

const API = "/console/api";
const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const statusLine = /** @type {HTMLElement} */ (document.getElementById("status"));
/** @type {Session | undefined} */
let session;
/** Stops what the current page runs in the background (refresh timers, streams). */
/** @type {Array<() => void>} */
let pageCleanups = [];

/**
 * An element with attributes (`on…` functions become listeners) and children (strings become text).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false | Array<Node | string>)} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
}

/** @param {string} text @param {boolean} [error] */
function say(text, error = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", error);
}

class ApiError extends Error {
  /** @param {number} status @param {Json} body */
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

/**
 * A console API call; JSON in and out. Non-GET requests carry the CSRF token.
 * @param {string} method @param {string} path @param {unknown} [body] @param {string} [contentType]
 * @returns {Promise<Json>}
 */
async function api(method, path, body, contentType = "application/json") {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (method !== "GET" && session) headers["X-CSRF-Token"] = session.csrf_token;
  if (body !== undefined) headers["Content-Type"] = contentType;
  const response = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text === "" ? {} : JSON.parse(text);
  if (!response.ok) {
    if (response.status === 401 && path !== "/session") {
      session = undefined;
      showSignIn("Your session ended: sign in again.");
    }
    throw new ApiError(response.status, json);
  }
  return json;
}

/** @param {unknown} error */
function report(error) {
  say(error instanceof Error ? error.message : String(error), true);
}

/** @param {number} seconds */
function duration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** @param {number | null | undefined} n @param {number} [digits] */
function num(n, digits = 0) {
  return n === null || n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);
}

/** @param {unknown} value */
function pretty(value) {
  return h("pre", { tabindex: "0" }, JSON.stringify(value, null, 2));
}

// ---------------------------------------------------------------------------------------------
// Sign-in, sign-out, navigation

/** @param {string} [message] */
function showSignIn(message) {
  stopPage();
  /** @type {HTMLElement} */ (document.getElementById("nav")).hidden = true;
  /** @type {HTMLElement} */ (document.getElementById("who")).hidden = true;
  const input = h("input", {
    id: "api-key",
    name: "api_key",
    type: "password",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "Use an admin API key, or a metrics key for a read-only console. The key is sent once; the console then uses an HttpOnly session cookie.",
    ),
    h("label", { for: "api-key" }, "API key", input),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      session = /** @type {Session} */ (
        await api("POST", "/session", { api_key: /** @type {HTMLInputElement} */ (input).value })
      );
      /** @type {HTMLInputElement} */ (input).value = "";
      say("");
      signedIn();
    } catch (error) {
      report(error);
    }
  });
  main.replaceChildren(form);
  if (message) say(message, true);
  input.focus();
}

function signedIn() {
  if (!session) return;
  /** @type {HTMLElement} */ (document.getElementById("nav")).hidden = false;
  /** @type {HTMLElement} */ (document.getElementById("who")).hidden = false;
  /** @type {HTMLElement} */ (document.getElementById("who-text")).textContent =
    `${session.key_id} (${session.role === "admin" ? "admin" : "read-only"}, ${session.environment})`;
  if (!location.hash || location.hash === "#/") location.hash = "#/overview";
  else route();
}

/** @type {Record<string, (root: HTMLElement) => void | Promise<void>>} */
const PAGES = {
  "#/overview": overviewPage,
  "#/catalogue": cataloguePage,
  "#/tail": tailPage,
  "#/dead-letters": deadLettersPage,
  "#/replay": replayPage,
};

function stopPage() {
  for (const cleanup of pageCleanups) cleanup();
  pageCleanups = [];
}

async function route() {
  if (!session) return;
  stopPage();
  const hash = location.hash.split("?")[0] ?? "";
  const page = PAGES[hash] ?? overviewPage;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === hash) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  say("");
  const root = h("section", { "aria-labelledby": "page-title" });
  main.replaceChildren(root);
  try {
    await page(root);
  } catch (error) {
    report(error);
  }
  main.focus({ preventScroll: true });
}

/** @param {string} title */
function title(title) {
  document.title = `${title} · edgebus console`;
  return h("h1", { id: "page-title" }, title);
}

/** A note in place of a page part the key may not use. */
function adminOnly() {
  return h("p", { class: "panel" }, "This page needs an admin key: the metrics key this session uses is read-only.");
}

// ---------------------------------------------------------------------------------------------
// Overview

const HEALTH_NAMES = {
  producer: "Producer",
  redis: "Redis",
  kafka: "Kafka REST",
  postgres: "Postgres",
  bridge: "Bridge",
};

/** @param {HTMLElement} root */
async function overviewPage(root) {
  const updated = h("p", { class: "muted" });
  const body = h("div");
  root.append(title("Overview"), updated, body);
  /** @type {{at: number, data: Json} | undefined} */
  let previous;
  let stopped = false;
  const refresh = async () => {
    if (stopped) return;
    try {
      const data = await api("GET", "/overview");
      const at = Date.parse(data.at);
      renderOverview(body, data, previous);
      previous = { at, data };
      updated.textContent = `Updated ${new Date(at).toLocaleTimeString()} · refreshes every 5 s`;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) report(error);
    }
  };
  await refresh();
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, 5000);
  pageCleanups.push(() => {
    stopped = true;
    clearInterval(timer);
  });
}

/**
 * @param {HTMLElement} body @param {Json} data @param {{at: number, data: Json} | undefined} previous
 */
function renderOverview(body, data, previous) {
  const seconds = previous ? (Date.parse(data.at) - previous.at) / 1000 : 0;
  /** @param {number} now @param {number | undefined} before */
  const rate = (now, before) =>
    previous && before !== undefined && seconds > 0 ? Math.max(0, now - before) / seconds : NaN;
  const health = h(
    "div",
    { class: "cards", role: "list", "aria-label": "Dependency health" },
    Object.entries(data.health).map(([name, result]) =>
      h(
        "div",
        { class: "card", role: "listitem" },
        h("div", { class: "label" }, /** @type {Record<string, string>} */ (HEALTH_NAMES)[name] ?? name),
        h(
          "div",
          { class: `value ${result.status === "ok" ? "ok" : result.status === "not_configured" ? "muted" : "bad"}` },
          result.status === "ok"
            ? "● healthy"
            : result.status === "not_configured"
              ? "○ not configured"
              : "▲ unavailable",
        ),
        result.reason ? h("div", { class: "muted" }, result.reason) : null,
      ),
    ),
  );
  const dl = h(
    "div",
    { class: "cards" },
    h(
      "div",
      { class: "card" },
      h("div", { class: "label" }, "Pending dead letters"),
      h("div", { class: `value ${data.dead_letters_pending > 0 ? "warn" : "ok"}` }, String(data.dead_letters_pending)),
    ),
  );
  const queueRows = data.queues.map((/** @type {Json} */ q) => {
    const before = previous?.data.queues.find((/** @type {Json} */ p) => p.queue === q.queue);
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, q.queue),
      h("td", { class: "num" }, num(rate(q.in_total, before?.in_total), 2)),
      h("td", { class: "num" }, num(rate(q.out_total, before?.out_total), 2)),
      h("td", { class: "num" }, q.backlog === null ? "–" : String(q.backlog)),
      h("td", { class: "num" }, q.oldest_age_seconds === null ? "–" : duration(q.oldest_age_seconds)),
      h("td", { class: "num" }, String(q.dead_letters_pending)),
    );
  });
  const topicRows = data.topics.flatMap((/** @type {Json} */ t) => {
    const before = previous?.data.topics.find((/** @type {Json} */ p) => p.topic === t.topic);
    const groups = t.groups.length > 0 ? t.groups : [{ group: "–", committed: NaN, lag: NaN }];
    return groups.map((/** @type {Json} */ g, /** @type {number} */ i) => {
      const beforeGroup = before?.groups.find((/** @type {Json} */ p) => p.group === g.group);
      return h(
        "tr",
        {},
        i === 0 ? h("th", { scope: "row", rowspan: String(groups.length) }, t.topic) : null,
        i === 0
          ? h("td", { class: "num", rowspan: String(groups.length) }, num(rate(t.end_offset, before?.end_offset), 2))
          : null,
        h("td", {}, g.group),
        h("td", { class: "num" }, num(rate(g.committed, beforeGroup?.committed), 2)),
        h("td", { class: "num" }, num(g.lag)),
      );
    });
  });
  body.replaceChildren(
    h("h2", {}, "Health"),
    health,
    h("h2", {}, "Dead letters"),
    dl,
    h("h2", {}, "Queues"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h(
          "caption",
          { class: "muted" },
          previous ? "Rates over the last refresh" : "Rates appear after the second refresh",
        ),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Queue"),
            h("th", { scope: "col", class: "num" }, "In /s"),
            h("th", { scope: "col", class: "num" }, "Out /s"),
            h("th", { scope: "col", class: "num" }, "Backlog"),
            h("th", { scope: "col", class: "num" }, "Oldest message"),
            h("th", { scope: "col", class: "num" }, "Dead letters"),
          ),
        ),
        h("tbody", {}, queueRows),
      ),
    ),
    h("h2", {}, "Kafka topics"),
    topicRows.length === 0
      ? h("p", { class: "muted" }, "No Kafka metrics: the bridge is not configured or not answering.")
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Topic"),
                h("th", { scope: "col", class: "num" }, "In /s"),
                h("th", { scope: "col" }, "Consumer group"),
                h("th", { scope: "col", class: "num" }, "Out /s"),
                h("th", { scope: "col", class: "num" }, "Lag"),
              ),
            ),
            h("tbody", {}, topicRows),
          ),
        ),
  );
}

// ---------------------------------------------------------------------------------------------
// Catalogue

/** @param {HTMLElement} root */
async function cataloguePage(root) {
  root.append(title("Catalogue"));
  const data = await api("GET", "/catalogue");
  const filter = h("input", { id: "catalogue-filter", type: "search", placeholder: "gov.auth.citizen" });
  const list = h("div");
  const render = () => {
    const text = /** @type {HTMLInputElement} */ (filter).value.trim().toLowerCase();
    list.replaceChildren(
      ...data.types
        .filter((/** @type {Json} */ t) => text === "" || t.type.includes(text) || t.topic.includes(text))
        .map((/** @type {Json} */ t) => catalogueEntry(t, data.publish_examples)),
    );
  };
  filter.addEventListener("input", render);
  root.append(
    h(
      "p",
      { class: "muted" },
      `${data.types.length} event types.`,
      data.publish_examples ? " Development: each example can be published." : "",
    ),
    h(
      "form",
      { class: "filters", role: "search", onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      h("label", { for: "catalogue-filter" }, "Filter by type or topic", filter),
    ),
    list,
  );
  render();
}

/** @param {Json} t @param {boolean} publishable */
function catalogueEntry(t, publishable) {
  const result = h("div", { "aria-live": "polite" });
  const publish = async () => {
    const event = { ...t.example, id: crypto.randomUUID(), time: new Date().toISOString() };
    try {
      const receipt = await api("POST", "/v1/events", event, "application/cloudevents+json");
      result.replaceChildren(
        h(
          "p",
          { class: "ok" },
          `Published ${receipt.id} (${receipt.status}) to ${receipt.queues.join(", ") || "no queue"}${receipt.kafka ? ` and ${receipt.kafka.topic}` : ""}.`,
        ),
      );
    } catch (error) {
      result.replaceChildren(h("p", { class: "bad" }, error instanceof Error ? error.message : String(error)));
    }
  };
  return h(
    "details",
    { "data-type": t.type },
    h("summary", {}, `${t.type} `, h("span", { class: "pill" }, `v${t.version}`)),
    h("p", {}, t.description),
    h(
      "dl",
      {},
      h("dt", {}, "Topic"),
      h("dd", {}, t.topic),
      h("dt", {}, "Routes"),
      h(
        "dd",
        {},
        `${t.routes.queues.join(", ") || "no queue"}${t.routes.kafka_topic ? `; Kafka ${t.routes.kafka_topic}` : ""} (rules: ${t.routes.rules.join(", ") || "none"})`,
      ),
      t.aliases.length > 0 ? [h("dt", {}, "Aliases"), h("dd", {}, t.aliases.join(", "))] : [],
    ),
    h("h3", {}, "Versions"),
    t.versions.map((/** @type {Json} */ v) =>
      h(
        "details",
        {},
        h("summary", {}, `Version ${v.version}${v.version === t.version ? " (current)" : ""}: JSON Schema`),
        pretty(v.json_schema),
      ),
    ),
    h("h3", {}, "Example event"),
    pretty(t.example),
    publishable && session?.role === "admin"
      ? h("div", { class: "actions" }, h("button", { type: "button", onclick: publish }, "Publish this example"))
      : null,
    result,
  );
}

// ---------------------------------------------------------------------------------------------
// Live tail

/** @param {HTMLElement} root */
async function tailPage(root) {
  root.append(title("Live tail"));
  const { topics, live } = await api("GET", "/topics");
  if (!live) {
    root.append(
      h(
        "p",
        { class: "panel" },
        "No bridge is configured (UPSTASH_KAFKA_REST_URL or CONSOLE_BRIDGE_URL), so there is nothing to tail.",
      ),
    );
    return;
  }
  const topic = h(
    "select",
    { id: "tail-topic", name: "topic" },
    topics.map((/** @type {string} */ t) => h("option", { value: t }, t)),
  );
  const type = h("input", { id: "tail-type", name: "type", placeholder: "gov.auth.citizen.*" });
  const source = h("input", { id: "tail-source", name: "source", placeholder: "/services/*" });
  const toggle = h("button", { type: "submit" }, "Start");
  const state = h("p", { class: "muted", "aria-live": "polite" }, "Stopped.");
  const list = h("ol", { class: "events", "aria-label": "Events, newest first" });
  /** @type {EventSource | undefined} */
  let stream;
  const seen = new Set();
  const stop = () => {
    stream?.close();
    stream = undefined;
    toggle.textContent = "Start";
    state.textContent = "Stopped.";
  };
  /** @param {Json} event @param {string} [position] */
  const add = (event, position) => {
    const key = `${event.source}\u0000${event.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    list.prepend(
      h(
        "li",
        {},
        h(
          "details",
          { "data-event-id": event.id },
          h(
            "summary",
            {},
            `${event.time ?? ""} `,
            h("strong", {}, event.type),
            ` from ${event.source}`,
            h("span", { class: "muted" }, ` · ${event.id}${position ? ` · ${position}` : ""}`),
          ),
          pretty(event),
        ),
      ),
    );
    while (list.childElementCount > 200) list.lastElementChild?.remove();
  };
  const start = async () => {
    stop();
    list.replaceChildren();
    seen.clear();
    const params = new URLSearchParams();
    const typeValue = /** @type {HTMLInputElement} */ (type).value.trim();
    const sourceValue = /** @type {HTMLInputElement} */ (source).value.trim();
    if (typeValue) params.set("type", typeValue);
    if (sourceValue) params.set("source", sourceValue);
    const name = encodeURIComponent(/** @type {HTMLSelectElement} */ (topic).value);
    try {
      const latest = await api("GET", `/topics/${name}/events?limit=20&${params}`);
      if (!latest.exists) {
        state.textContent =
          "This topic has no events yet (the bridge creates it with its first event): start again after one is published.";
        return;
      }
      for (const entry of latest.events) if (entry.event) add(entry.event, `${entry.partition}:${entry.offset}`);
    } catch (error) {
      report(error);
      return;
    }
    stream = new EventSource(`${API}/topics/${name}/stream?${params}`);
    toggle.textContent = "Stop";
    stream.onopen = () => {
      state.textContent = `Following ${decodeURIComponent(name)}${session?.may_see_personal_data ? "" : " (personal data masked)"}.`;
    };
    stream.onmessage = (message) => {
      try {
        add(JSON.parse(message.data));
      } catch {
        // not an event
      }
    };
    stream.addEventListener("error", () => {
      if (stream?.readyState === EventSource.CONNECTING) state.textContent = "Reconnecting…";
    });
  };
  const form = h(
    "form",
    { class: "filters" },
    h("label", { for: "tail-topic" }, "Topic", topic),
    h("label", { for: "tail-type" }, "Type (glob)", type),
    h("label", { for: "tail-source" }, "Source (glob)", source),
    toggle,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (stream) stop();
    else void start();
  });
  pageCleanups.push(stop);
  root.append(form, state, list);
}

// ---------------------------------------------------------------------------------------------
// Dead letters

const QUEUES = ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"];

/**
 * A modal confirmation; resolves with the form's values, or undefined when cancelled.
 * @param {string} heading @param {Array<Node | string>} content @param {string} confirmLabel
 * @param {{danger?: boolean}} [options]
 * @returns {Promise<FormData | undefined>}
 */
function confirmDialog(heading, content, confirmLabel, options = {}) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", { id: "dialog-title" }, heading),
      ...content,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", value: "confirm", class: options.danger ? "danger" : "" }, confirmLabel),
        h("button", { type: "submit", value: "cancel", class: "secondary", formnovalidate: true }, "Cancel"),
      ),
    );
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { "aria-labelledby": "dialog-title" }, form));
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "confirm";
      const data = new FormData(/** @type {HTMLFormElement} */ (form));
      dialog.remove();
      resolve(confirmed ? data : undefined);
    });
    dialog.showModal();
  });
}

/**
 * Follows a replay job until it finishes: progress bar, ETA, cancel.
 * @param {HTMLElement} into @param {string} jobId
 */
function followJob(into, jobId) {
  const bar = /** @type {HTMLProgressElement} */ (
    h("progress", { max: "1", value: "0", "aria-label": "Job progress" })
  );
  const text = h("p", { "aria-live": "polite" });
  const cancel = h("button", { type: "button", class: "danger" }, "Cancel job");
  const panel = h(
    "div",
    { class: "panel", "data-job-id": jobId },
    h("h2", {}, `Job ${jobId}`),
    bar,
    text,
    h("div", { class: "actions" }, cancel),
  );
  into.replaceChildren(panel);
  let done = false;
  const poll = async () => {
    try {
      const job = await api("GET", `/v1/replay/${jobId}`);
      bar.value = job.progress;
      text.textContent = `${job.status}: ${job.sent} of ${job.total} sent (${Math.round(job.progress * 100)} %)${job.status === "running" ? `, about ${duration(job.eta_seconds)} left` : ""}${job.failures ? `, ${job.failures} failures` : ""}${job.last_error ? ` · last error: ${job.last_error}` : ""}`;
      panel.dataset.status = job.status;
      if (job.status !== "running") {
        done = true;
        cancel.remove();
      }
    } catch (error) {
      report(error);
    }
    if (!done) timer = setTimeout(poll, 1000);
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  cancel.addEventListener("click", async () => {
    const ok = await confirmDialog(
      "Cancel the job?",
      [h("p", {}, "What was sent stays sent; nothing more is sent.")],
      "Cancel job",
      { danger: true },
    );
    if (!ok) return;
    try {
      await api("DELETE", `/v1/replay/${jobId}`);
    } catch (error) {
      report(error);
    }
  });
  pageCleanups.push(() => {
    done = true;
    clearTimeout(timer);
  });
  void poll();
}

/** @param {HTMLElement} root */
async function deadLettersPage(root) {
  root.append(title("Dead letters"));
  if (session?.role !== "admin") {
    root.append(adminOnly());
    return;
  }
  const queue = h(
    "select",
    { id: "dl-queue", name: "queue" },
    h("option", { value: "" }, "any queue"),
    QUEUES.map((q) => h("option", { value: q }, q)),
  );
  const type = h("input", { id: "dl-type", name: "type", placeholder: "gov.auth.citizen.*" });
  const errorCode = h("input", { id: "dl-error-code", name: "error_code", placeholder: "bad_request" });
  const status = h(
    "select",
    { id: "dl-status", name: "status" },
    ["pending", "replayed", "discarded", "any"].map((s) => h("option", { value: s }, s)),
  );
  const table = h("div", { class: "table-wrap" });
  const detail = h("div");
  const job = h("div");
  /** @returns {Record<string, string>} */
  const filter = () => {
    /** @type {Record<string, string>} */
    const f = {};
    const q = /** @type {HTMLSelectElement} */ (queue).value;
    const t = /** @type {HTMLInputElement} */ (type).value.trim();
    const e = /** @type {HTMLInputElement} */ (errorCode).value.trim();
    if (q) f.queue = q;
    if (t) f.type = t;
    if (e) f.error_code = e;
    return f;
  };
  const load = async () => {
    const params = new URLSearchParams({
      ...filter(),
      status: /** @type {HTMLSelectElement} */ (status).value,
      limit: "100",
    });
    const page = await api("GET", `/v1/dead-letters?${params}`);
    table.replaceChildren(
      page.dead_letters.length === 0
        ? h("p", { class: "muted" }, "No dead letters match.")
        : h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Id", "Queue", "Consumer", "Type", "Error", "Failures", "Last failed", "Status", "Actions"].map((c) =>
                  h("th", { scope: "col" }, c),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              page.dead_letters.map((/** @type {Json} */ d) =>
                h(
                  "tr",
                  { "data-dead-letter": String(d.id), "data-event-id": d.event.id },
                  h("td", {}, String(d.id)),
                  h("td", {}, d.queue),
                  h("td", {}, d.consumer),
                  h("td", {}, d.event.type ?? "–"),
                  h("td", {}, `${d.error.code ?? d.error.reason}: ${d.error.message ?? ""}`),
                  h("td", { class: "num" }, String(d.failure_count)),
                  h("td", {}, new Date(d.last_failed_at).toLocaleString()),
                  h("td", {}, d.status),
                  h(
                    "td",
                    {},
                    h(
                      "div",
                      { class: "actions" },
                      h("button", { type: "button", class: "secondary", onclick: () => inspect(d.id) }, "Inspect"),
                      d.status === "pending"
                        ? h("button", { type: "button", onclick: () => redriveOne(d) }, "Redrive")
                        : null,
                      d.status === "pending"
                        ? h("button", { type: "button", class: "danger", onclick: () => discard(d) }, "Discard")
                        : null,
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  };
  /** @param {number} id */
  const inspect = async (id) => {
    try {
      const d = await api("GET", `/v1/dead-letters/${id}`);
      detail.replaceChildren(
        h(
          "div",
          { class: "panel", "data-inspected": String(id) },
          h("h2", {}, `Dead letter ${id}`),
          h("h3", {}, "Error history"),
          h(
            "ul",
            {},
            h(
              "li",
              {},
              `Reason: ${d.error.reason}; code ${d.error.code ?? "–"}; ${d.error.type ?? ""} ${d.error.message ?? ""}`,
            ),
            h(
              "li",
              {},
              `${d.failure_count} failure(s), ${d.attempts} delivery attempt(s); first ${new Date(d.first_failed_at).toLocaleString()}, last ${new Date(d.last_failed_at).toLocaleString()}`,
            ),
            h(
              "li",
              {},
              `Redriven ${d.replay_count} time(s)${d.replayed_at ? `, last ${new Date(d.replayed_at).toLocaleString()} by ${d.replayed_by}` : ""}`,
            ),
            d.discarded_at
              ? h(
                  "li",
                  {},
                  `Discarded ${new Date(d.discarded_at).toLocaleString()} by ${d.discarded_by}: ${d.discarded_reason}`,
                )
              : null,
          ),
          d.error.details ? [h("h3", {}, "Error details"), pretty(d.error.details)] : [],
          h("h3", {}, "Message body"),
          pretty(d.body),
        ),
      );
      detail.scrollIntoView({ block: "nearest" });
    } catch (error) {
      report(error);
    }
  };
  /** @param {Json} d */
  const redriveOne = async (d) => {
    const ok = await confirmDialog(
      "Redrive this dead letter?",
      [h("p", {}, `1 dead letter (${d.event.type ?? "unknown type"}, id ${d.id}) goes back to ${d.queue} now.`)],
      "Redrive 1",
    );
    if (!ok) return;
    try {
      await api("POST", `/v1/dead-letters/${d.id}/replay`);
      say(`Dead letter ${d.id} sent back to ${d.queue}.`);
      await load();
    } catch (error) {
      report(error);
    }
  };
  /** @param {Json} d */
  const discard = async (d) => {
    const reason = h("textarea", {
      id: "discard-reason",
      name: "reason",
      required: true,
      rows: "3",
      maxlength: "1000",
    });
    const data = await confirmDialog(
      "Discard this dead letter?",
      [
        h("p", {}, `Dead letter ${d.id} is kept, marked discarded with your key and reason.`),
        h("label", { for: "discard-reason" }, "Reason", reason),
      ],
      "Discard",
      { danger: true },
    );
    if (!data) return;
    try {
      await api("DELETE", `/v1/dead-letters/${d.id}`, { reason: String(data.get("reason") ?? "") });
      say(`Dead letter ${d.id} discarded.`);
      await load();
    } catch (error) {
      report(error);
    }
  };
  const redriveMatching = async () => {
    const f = filter();
    try {
      const dry = await api("POST", "/v1/dead-letters/replay", { ...f, dry_run: true });
      if (dry.matched === 0) {
        say("No pending dead letters match the filter.");
        return;
      }
      const byQueue = Object.entries(dry.by_queue)
        .map(([q, n]) => `${n} to ${q}`)
        .join(", ");
      const ok = await confirmDialog(
        `Redrive ${dry.matched} dead letter(s)?`,
        [
          h(
            "p",
            { "data-dry-run-count": String(dry.matched) },
            `Dry run: ${dry.matched} pending dead letter(s) match (${byQueue}).`,
          ),
          Object.keys(f).length === 0
            ? h("p", { class: "warn" }, "No filter: this redrives every pending dead letter.")
            : "",
        ],
        `Redrive ${dry.matched}`,
      );
      if (!ok) return;
      const created = await api("POST", "/v1/dead-letters/replay", Object.keys(f).length === 0 ? { all: true } : f);
      followJob(job, created.job.id);
      await load();
    } catch (error) {
      report(error);
    }
  };
  const form = h(
    "form",
    { class: "filters", "aria-label": "Dead-letter filter" },
    h("label", { for: "dl-queue" }, "Queue", queue),
    h("label", { for: "dl-type" }, "Type (glob)", type),
    h("label", { for: "dl-error-code" }, "Error code", errorCode),
    h("label", { for: "dl-status" }, "Status", status),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", class: "secondary", onclick: redriveMatching }, "Redrive matching…"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch(report);
  });
  root.append(form, job, table, detail);
  await load();
}

// ---------------------------------------------------------------------------------------------
// Replay

/** @param {HTMLElement} root */
async function replayPage(root) {
  root.append(title("Replay"));
  if (session?.role !== "admin") {
    root.append(adminOnly());
    return;
  }
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString().slice(0, 16);
  const type = h("input", { id: "rp-type", name: "type", required: true, value: "gov.auth.citizen.*" });
  const from = h("input", { id: "rp-from", name: "from", type: "datetime-local", required: true, value: dayAgo });
  const to = h("input", { id: "rp-to", name: "to", type: "datetime-local" });
  const queue = h(
    "select",
    { id: "rp-queue", name: "queue" },
    QUEUES.map((q) => h("option", { value: q }, q)),
  );
  const rebuild = h("input", { id: "rp-rebuild", name: "rebuild", type: "checkbox" });
  const rate = h("input", {
    id: "rp-rate",
    name: "rate_per_second",
    type: "number",
    min: "1",
    max: "1000",
    placeholder: "default",
  });
  const result = h("div", { "aria-live": "polite" });
  const job = h("div");
  const request = () => {
    /** @type {Json} */
    const body = {
      type: /** @type {HTMLInputElement} */ (type).value.trim(),
      from: new Date(/** @type {HTMLInputElement} */ (from).value).toISOString(),
      queue: /** @type {HTMLSelectElement} */ (queue).value,
      rebuild: /** @type {HTMLInputElement} */ (rebuild).checked,
    };
    const toValue = /** @type {HTMLInputElement} */ (to).value;
    if (toValue) body.to = new Date(toValue).toISOString();
    const rateValue = /** @type {HTMLInputElement} */ (rate).value;
    if (rateValue) body.rate_per_second = Number(rateValue);
    return body;
  };
  const start = async () => {
    const body = request();
    const ok = await confirmDialog(
      body.rebuild ? "Rebuild the read model?" : "Start the replay?",
      [
        h(
          "p",
          {},
          body.rebuild
            ? `The read model fed by ${body.queue} is emptied first, then every matching archived event is replayed into it.`
            : `Matching archived events are sent to ${body.queue}.`,
        ),
      ],
      body.rebuild ? "Rebuild" : "Replay",
      { danger: body.rebuild },
    );
    if (!ok) return;
    try {
      const created = await api("POST", "/v1/replay", body);
      followJob(job, created.job.id);
    } catch (error) {
      report(error);
    }
  };
  const form = h(
    "form",
    { class: "filters", "aria-label": "Replay request" },
    h("label", { for: "rp-type" }, "Type (glob)", type),
    h("label", { for: "rp-from" }, "From (local time)", from),
    h("label", { for: "rp-to" }, "To (empty: now)", to),
    h("label", { for: "rp-queue" }, "Into queue", queue),
    h("label", { for: "rp-rate" }, "Messages/s", rate),
    h("label", { for: "rp-rebuild", class: "inline" }, rebuild, "Rebuild read model first"),
    h("button", { type: "submit" }, "Dry run"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const dry = await api("POST", "/v1/replay", { ...request(), dry_run: true });
      result.replaceChildren(
        h(
          "div",
          { class: "panel", "data-dry-run-count": String(dry.matched) },
          h(
            "p",
            {},
            h("strong", {}, `${dry.matched} archived event(s) match.`),
            dry.sample.length > 0 ? " First ones:" : "",
          ),
          h(
            "ul",
            {},
            dry.sample.map((/** @type {Json} */ s) => h("li", {}, `${s.time} ${s.type} ${s.source} ${s.id}`)),
          ),
          dry.matched > 0
            ? h(
                "div",
                { class: "actions" },
                h("button", { type: "button", onclick: start }, `Start: ${dry.matched} event(s)`),
              )
            : null,
        ),
      );
    } catch (error) {
      report(error);
    }
  });
  root.append(form, result, job);
}

// ---------------------------------------------------------------------------------------------

/** @type {HTMLElement} */ (document.getElementById("sign-out")).addEventListener("click", async () => {
  try {
    await api("DELETE", "/session");
  } catch (error) {
    report(error);
  }
  session = undefined;
  showSignIn();
  say("Signed out.");
});

window.addEventListener("hashchange", () => void route());

(async () => {
  try {
    const current = await api("GET", "/session");
    if (current.signed_in) {
      session = /** @type {Session} */ (current);
      signedIn();
    } else {
      showSignIn();
    }
  } catch (error) {
    report(error);
  }
})();

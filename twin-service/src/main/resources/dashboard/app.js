"use strict";

// Twinfleet operations dashboard: reads the service's JSON API (gRPC messages as proto3 JSON) and
// draws every panel with plain DOM and SVG. Server data only ever reaches the page as text.

const TOKEN_KEY = "twinfleet.token";
const AUTO_REFRESH_MS = 10_000;
const SERVICE = "twinfleet.v1.";
const SVG_NS = "http://www.w3.org/2000/svg";
const NUMBERS = new Intl.NumberFormat("en-US");
const ACK_NOTE = "acknowledged from the dashboard";

/* ---------------------------------------------------------------- formatting */

// Counts come as strings (int64) or numbers (int32); both read the same.
function formatNumber(value) {
  const n = Number(value);
  return value === undefined || value === null || value === "" || !Number.isFinite(n) ? "—" : NUMBERS.format(n);
}

// A count that stopped at the server's cap reads "10,000+".
function formatCount(value, more) {
  return formatNumber(value) + (more ? "+" : "");
}

// Ratios from 0 to 1, as a percentage with two decimals.
function formatPercent(ratio) {
  const n = Number(ratio);
  return ratio === undefined || ratio === null || !Number.isFinite(n) ? "—" : `${(n * 100).toFixed(2)}%`;
}

// proto3 JSON writes a Duration as seconds with an "s": "3600s", "0.500s".
function durationSeconds(duration) {
  const n = parseFloat(duration);
  return Number.isFinite(n) ? n : 0;
}

// Spans of time for people: "45 s", "12 min", "3 h 20 min", "2 d 4 h".
function formatSeconds(total) {
  if (total > 0 && total < 1) return "< 1 s";
  const s = Math.round(total);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

function formatDuration(duration) {
  return formatSeconds(durationSeconds(duration));
}

// A window's length as people name it: "24 h", "7 d".
function formatWindow(duration) {
  const seconds = durationSeconds(duration);
  return seconds > 0 && seconds <= 172800 && seconds % 3600 === 0 ? `${seconds / 3600} h` : formatSeconds(seconds);
}

// Times on the service's clock, always in UTC: "2026-12-03 07:00 UTC".
function formatTime(timestamp) {
  if (!timestamp) return "—";
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return String(timestamp);
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

// Seconds from one timestamp to another, for "for 3 h" next to a "since".
function secondsBetween(from, to) {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

// Enum names for people: "DAY_30" reads "Day 30", "ALERT_OPEN" reads "Open".
function formatEnum(name) {
  if (!name) return "—";
  const words = String(name).replace(/^(ALERT_|RISK_)/, "").toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// Alert states keep their enum spelling, short: "ALERT_ACKNOWLEDGED" reads "ACKNOWLEDGED".
function formatAlertState(name) {
  return name ? String(name).replace(/^ALERT_/, "") : "—";
}

// "CODE: message" of a failed call, as every panel shows it.
function errorText(error) {
  return `${error.code ?? "ERROR"}: ${error.message}`;
}

/* ---------------------------------------------------------------- DOM */

// Builds an element. Strings become text nodes, so nothing from the server is parsed as HTML.
function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// The same for SVG, which needs its namespace.
function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// Sets attributes (on* become listeners; false or null leave it out) and appends the children.
function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A plain table: a header row and the rows given.
function table(headings, rows, className = "") {
  return h("table", { class: className },
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", {}, text)))),
    h("tbody", {}, rows));
}

// Writes a figure whose raw value a reader (or a test) may want beside its formatted text.
function setFigure(id, raw, text) {
  const node = document.getElementById(id);
  node.dataset.value = raw === undefined || raw === null ? "" : String(raw);
  node.textContent = text;
  return node;
}

// Replaces a panel's content in one step, so a refresh never flickers through "loading…".
function setContent(panel, ...children) {
  panel.querySelector(".content").replaceChildren(...children.flat().filter(Boolean));
}

function empty(text) {
  return h("p", { class: "empty" }, text);
}

function more(token) {
  return token ? h("p", { class: "more", title: "Only the first page is shown" }, "more…") : null;
}

/* ---------------------------------------------------------------- API */

class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// One call to the JSON API with the page's token; a failure becomes an ApiError with its gRPC code.
async function api(url, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body, signal, cache: "no-store" });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError("UNAVAILABLE", "the service cannot be reached", 0);
  }
  if (response.ok) return response.json();
  const problem = await response.json().catch(() => ({}));
  if (response.status === 401) showTokenForm();
  throw new ApiError(problem.code || `HTTP ${response.status}`, problem.message || response.statusText, response.status);
}

// A gRPC method through the JSON API: "QualityService/ListAlerts" with its request message.
function rpc(method, request, signal) {
  return api(`api/${SERVICE}${method}`, { method: "POST", body: JSON.stringify(request), signal });
}

/* ---------------------------------------------------------------- token */

// A link may carry the token in its hash; keep it for this tab and take it out of the address bar.
function takeTokenFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, "", location.pathname + location.search);
}

// Asked for on the first 401: the page cannot show anything without a token.
function showTokenForm() {
  document.getElementById("token-form").hidden = false;
}

// Keeps the pasted token and reloads everything with it.
function useToken(event) {
  event.preventDefault();
  const input = document.getElementById("token-input");
  const token = input.value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = "";
  document.getElementById("token-form").hidden = true;
  refresh();
}

/* ---------------------------------------------------------------- refresh */

const PANELS = [
  ["overview", loadOverview],
  ["uptime-chart", loadUptime],
  ["funnel", loadFunnel],
  ["pareto", loadPareto],
  ["sites-unavailable-list", loadUnavailableSites],
  ["sla", loadSla],
  ["alerts", loadAlerts],
  ["lookup", loadDevice],
];

let pass = null;
let lookedUp = "";

// Reloads every panel, then counts the pass in body[data-loaded]. A user's request restarts a pass
// in flight so that what shows matches the controls; the timer skips a tick instead.
function refresh(restart = true) {
  if (pass && !restart) return;
  pass?.abort();
  const controller = new AbortController();
  pass = controller;
  const panels = PANELS.map(([id, load]) => runPanel(id, load, controller.signal));
  Promise.allSettled(panels).then(() => {
    if (pass !== controller) return;
    pass = null;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  });
}

// Loads one panel; its failure shows in its own .error and never stops the others.
async function runPanel(id, load, signal) {
  const panel = document.getElementById(id);
  try {
    await load(panel, signal);
    if (!signal.aborted) showError(panel, null);
  } catch (error) {
    if (signal.aborted) return;
    showError(panel, error);
    panel.querySelector(".loading")?.remove();
  }
}

function showError(panel, error) {
  const box = panel.querySelector(".error");
  box.textContent = error ? errorText(error) : "";
  box.hidden = !error;
}

/* ---------------------------------------------------------------- overview */

const COUNT_TILES = [
  ["devices-active", "devices_active"],
  ["devices-online", "devices_online"],
  ["devices-offline", "devices_offline"],
  ["devices-working", "devices_working"],
  ["devices-claimed", "devices_claimed"],
  ["sites-unavailable", "sites_unavailable"],
  ["sites-below-sla", "sites_below_sla"],
  ["alerts-open", "alerts_open"],
];

// Header time, the tiles, and the figures other panels borrow (SLA count, open alerts by kind).
async function loadOverview(panel, signal) {
  const o = await api("api/overview", { signal });
  setFigure("as-of", o.as_of, `as of ${formatTime(o.as_of)}`);
  document.getElementById("uptime-24h-label").textContent = `Uptime ${formatWindow(o.uptime_window)}`;
  setFigure("uptime-24h", o.uptime, formatPercent(o.uptime));
  for (const [id, key] of COUNT_TILES) {
    const node = setFigure(id, o[key], formatCount(o[key], o[`${key}_more`]));
    const alarming = Number(o[key]) > 0 && /offline|unavailable|below|alerts/.test(id);
    node.closest(".tile").classList.toggle("alarm", alarming);
  }
  const belowSla = setFigure("sla-count", o.sites_below_sla, `${formatCount(o.sites_below_sla, o.sites_below_sla_more)} below target`);
  belowSla.classList.toggle("bad", Number(o.sites_below_sla) > 0);
  document.getElementById("alerts-by-kind").replaceChildren(
    ...(o.alerts_open_by_kind ?? []).map((k) => h("span", { class: "chip", title: `open ${k.kind} alerts` },
      `${formatEnum(k.kind)} `, h("b", {}, formatNumber(k.count)))));
}

/* ---------------------------------------------------------------- fleet uptime */

// GetFleetQuality with one figure per hour, drawn as a line; the window's own uptime beneath.
async function loadUptime(panel, signal) {
  const span = document.getElementById("uptime-window").value;
  const q = await rpc("QualityService/GetFleetQuality", { window: span, hourly: true }, signal);
  const hours = q.hours ?? [];
  setContent(panel,
    hours.length ? lineChart(hours) : empty("No hourly figures for this window"),
    h("p", { class: "figure-line" },
      "Uptime over the window: ",
      h("strong", { id: "window-uptime", "data-value": String(q.uptime) }, formatPercent(q.uptime)),
      h("span", { class: "muted" },
        ` · device life ${formatDuration(q.life)}, off line ${formatDuration(q.offline)} · from ${formatTime(q.window_start)}`)));
}

// A step for axis ticks of 1, 2 or 5 times a power of ten, giving at most maxTicks intervals.
function niceStep(range, maxTicks) {
  const raw = range / maxTicks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * magnitude).find((step) => step >= raw);
}

// Decimals a tick label needs for the step it was made with.
function stepDecimals(step) {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

// Hourly uptime in percent. The y axis starts at the lowest hour rounded down, so a dip of a tenth
// of a percent still shows; hours are evenly spaced, so x is their index.
function lineChart(hours) {
  const W = 860, H = 240, m = { l: 50, r: 14, t: 12, b: 28 };
  const values = hours.map((hour) => Number(hour.uptime) * 100);
  const floor = Math.min(99, Math.max(0, Math.floor(Math.min(...values))));
  const x = (i) => m.l + (hours.length > 1 ? i / (hours.length - 1) : 0.5) * (W - m.l - m.r);
  const y = (v) => m.t + ((100 - v) / (100 - floor)) * (H - m.t - m.b);

  const step = niceStep(100 - floor, 5);
  const grid = [];
  for (let v = 100; v >= floor - 1e-9; v -= step) {
    grid.push(s("line", { class: "grid-line", x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      s("text", { class: "axis", x: m.l - 6, y: y(v) + 4, "text-anchor": "end" }, `${v.toFixed(stepDecimals(step))}%`));
  }

  const first = Date.parse(hours[0].hour);
  const long = Date.parse(hours[hours.length - 1].hour) - first > 36 * 3600e3;
  const dayStep = Math.max(1, Math.ceil(hours.length / 24 / 8));
  const xLabels = hours.map((hour, i) => {
    const date = new Date(hour.hour);
    const day = Math.round((date.getTime() - first) / 86400e3);
    const show = long ? date.getUTCHours() === 0 && day % dayStep === 0 : date.getUTCHours() % 4 === 0;
    if (!show) return null;
    const iso = date.toISOString();
    return s("text", { class: "axis", x: x(i), y: H - m.b + 16, "text-anchor": "middle" },
      long ? iso.slice(5, 10) : iso.slice(11, 16));
  });

  const path = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const area = `${path}L${x(values.length - 1).toFixed(1)},${y(floor)}L${x(0).toFixed(1)},${y(floor)}Z`;
  const radius = hours.length > 200 ? 1.6 : hours.length > 60 ? 2.2 : 3;
  const points = hours.map((hour, i) => s("circle",
    { class: "point", cx: x(i).toFixed(1), cy: y(values[i]).toFixed(1), r: radius,
      "data-hour": hour.hour, "data-uptime": String(hour.uptime) },
    s("title", {}, `${formatTime(hour.hour)}: ${formatPercent(hour.uptime)} up` +
      ` (off line ${formatDuration(hour.offline)} of ${formatDuration(hour.life)} device life)`)));

  return s("svg", { class: "chart line-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": "Fleet uptime per hour" },
    grid, xLabels,
    s("line", { class: "axis-line", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }),
    s("path", { class: "area", d: area }),
    s("path", { class: "line", d: path }),
    points);
}

/* ---------------------------------------------------------------- stage funnel */

// Claimed devices per stage with a bar each, and how long each model took from claim to activation.
async function loadFunnel(panel, signal) {
  const f = await rpc("JourneyService/GetStageFunnel", {}, signal);
  const stages = f.stages ?? [];
  const total = Number(f.devices);
  const largest = Math.max(1, ...stages.map((stage) => Number(stage.devices)));
  const rows = stages.map((stage) => {
    const n = Number(stage.devices);
    return h("tr", { "data-stage": stage.stage },
      h("td", { class: "name" }, formatEnum(stage.stage)),
      h("td", { class: "bar-cell" }, h("div", { class: "bar" },
        h("span", { class: "fill", style: `width:${((n / largest) * 100).toFixed(1)}%` }))),
      h("td", { class: "num count", "data-value": String(stage.devices) }, formatNumber(stage.devices)),
      h("td", { class: "num muted" }, total > 0 ? formatPercent(n / total) : "—"));
  });
  const activation = (f.claim_to_activation ?? []).map((model) => h("tr", {},
    h("td", {}, model.model),
    h("td", { class: "num" }, formatNumber(model.devices)),
    h("td", { class: "num" }, formatDuration(model.p50)),
    h("td", { class: "num" }, formatDuration(model.p90))));
  setContent(panel,
    table(["Stage", "", "Devices", "Share"], rows, "funnel-table"),
    h("p", { class: "figure-line" }, "Claimed devices: ", h("strong", {}, formatNumber(f.devices))),
    h("h3", {}, "Claim to activation"),
    activation.length
      ? table(["Model", "Activated", "p50", "p90"], activation, "compact")
      : empty("No device activated yet"));
}

/* ---------------------------------------------------------------- downtime Pareto */

// Downtime by one dimension, largest first as the server orders it, with the cumulative share.
async function loadPareto(panel, signal) {
  const dimension = document.getElementById("pareto-dimension").value;
  const span = document.getElementById("uptime-window").value;
  const b = await rpc("QualityService/GetQualityBreakdown", { dimension, window: span }, signal);
  const values = b.values ?? [];
  const summary = h("p", { class: "figure-line" }, "Total downtime: ",
    h("strong", { id: "pareto-total", "data-duration": b.total_downtime ?? "" }, formatDuration(b.total_downtime)),
    h("span", { class: "muted" }, ` · from ${formatTime(b.window_start)}`));
  if (!values.length || durationSeconds(b.total_downtime) === 0) {
    setContent(panel, summary, empty("No downtime in this window"));
    return;
  }
  let cumulative = 0;
  const rows = values.map((v) => {
    cumulative += Number(v.share);
    return h("tr", {},
      h("td", {}, v.value),
      h("td", { class: "num" }, formatNumber(v.devices)),
      h("td", { class: "num" }, `${Number(v.downtime_hours).toFixed(1)} h`),
      h("td", { class: "num" }, formatPercent(v.share)),
      h("td", { class: "num muted" }, formatPercent(cumulative)),
      h("td", { class: "num" }, formatPercent(v.uptime)));
  });
  setContent(panel, summary, paretoChart(values),
    h("div", { class: "scroll" }, table(["Value", "Devices now", "Downtime", "Share", "Cumulative", "Uptime"], rows, "compact")));
}

// Bars of downtime hours (left axis) and the running share of all downtime (right axis, 0-100%).
function paretoChart(values) {
  const W = 560, m = { l: 50, r: 46, t: 12, b: 28 };
  const band = (W - m.l - m.r) / values.length;
  const labels = values.map((v) => (String(v.value).length > 14 ? `${String(v.value).slice(0, 13)}…` : String(v.value)));
  const rotate = labels.some((label) => label.length * 6.5 > band - 4);
  if (rotate) m.b = 100; // room for 14 characters at 40 degrees
  const H = m.t + 180 + m.b;
  const plotH = H - m.t - m.b;
  const maxHours = Math.max(...values.map((v) => Number(v.downtime_hours)), 0) || 1;
  const step = niceStep(maxHours, 4);
  const top = Math.ceil(maxHours / step - 1e-9) * step;
  const yHours = (v) => m.t + (1 - v / top) * plotH;
  const yShare = (share) => m.t + (1 - share) * plotH;
  const barWidth = Math.min(56, band * 0.7);
  const center = (i) => m.l + band * (i + 0.5);

  const axes = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    axes.push(s("line", { class: "grid-line", x1: m.l, x2: W - m.r, y1: yHours(v), y2: yHours(v) }),
      s("text", { class: "axis", x: m.l - 6, y: yHours(v) + 4, "text-anchor": "end" }, `${v.toFixed(stepDecimals(step))} h`));
  }
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    axes.push(s("text", { class: "axis", x: W - m.r + 6, y: yShare(share) + 4 }, `${share * 100}%`));
  }
  axes.push(s("line", { class: "eighty", x1: m.l, x2: W - m.r, y1: yShare(0.8), y2: yShare(0.8) }));

  let cumulative = 0;
  const cumulativePoints = [];
  const bars = values.map((v, i) => {
    const hours = Number(v.downtime_hours);
    cumulative += Number(v.share);
    cumulativePoints.push([center(i), yShare(Math.min(1, cumulative))]);
    const labelY = H - m.b + 14;
    return s("g", { class: "bar", "data-value": v.value, "data-downtime-hours": String(v.downtime_hours), "data-share": String(v.share) },
      s("title", {}, `${v.value}: ${hours.toFixed(1)} h down, ${formatPercent(v.share)} of all downtime` +
        ` (cumulative ${formatPercent(cumulative)}); ${formatNumber(v.devices)} devices now, uptime ${formatPercent(v.uptime)}`),
      s("rect", { x: (center(i) - barWidth / 2).toFixed(1), y: yHours(hours).toFixed(1),
        width: barWidth.toFixed(1), height: Math.max(0, yHours(0) - yHours(hours)).toFixed(1) }),
      s("text", rotate
        ? { class: "axis", x: center(i), y: labelY, "text-anchor": "end", transform: `rotate(-40 ${center(i)} ${labelY})` }
        : { class: "axis", x: center(i), y: labelY, "text-anchor": "middle" }, labels[i]));
  });
  const line = cumulativePoints.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");

  return s("svg", { class: "chart pareto-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Downtime Pareto" },
    axes, bars,
    s("line", { class: "axis-line", x1: m.l, x2: W - m.r, y1: yHours(0), y2: yHours(0) }),
    s("path", { class: "cumulative", d: line }),
    cumulativePoints.map(([px, py]) => s("circle", { class: "cumulative-point", cx: px.toFixed(1), cy: py.toFixed(1), r: 3 })));
}

/* ---------------------------------------------------------------- sites */

// Sites in service without a free device now: how many of their devices work, since when, and
// what that has done to this month's SLA.
async function loadUnavailableSites(panel, signal) {
  const r = await rpc("SiteService/ListSites", { unavailable_now: true, page_size: 50 }, signal);
  const sites = r.sites ?? [];
  const rows = sites.map((site) => h("tr", { "data-site-id": site.site_id },
    h("td", { class: "id" }, site.site_id),
    h("td", { class: "num" }, `${formatNumber(site.working_devices)} / ${formatNumber(site.active_devices)}`),
    h("td", {}, formatTime(site.state_since),
      site.state_since && site.as_of ? h("span", { class: "muted block" }, `for ${formatSeconds(secondsBetween(site.state_since, site.as_of))}`) : null),
    h("td", { class: `num ${site.this_month?.met === false ? "bad" : ""}` },
      site.this_month?.measured ? formatPercent(site.this_month.availability) : "—")));
  setContent(panel,
    sites.length ? table(["Site", "Working / active", "Since", "SLA month"], rows, "compact") : empty("All sites available"),
    more(r.next_page_token));
}

// Sites whose SLA this month so far is below their target.
async function loadSla(panel, signal) {
  const r = await rpc("SiteService/ListSites", { below_sla: true, page_size: 50 }, signal);
  const sites = r.sites ?? [];
  const rows = sites.map((site) => {
    const sla = site.this_month ?? {};
    return h("tr", { "data-site-id": site.site_id },
      h("td", { class: "id" }, site.site_id),
      h("td", { class: "num" }, h("span", { class: "bad" }, formatPercent(sla.availability)),
        h("span", { class: "muted block" }, `target ${formatPercent(sla.target)}`)),
      h("td", { class: "right" }, formatDuration(sla.downtime),
        h("span", { class: "muted block" }, `of ${formatDuration(sla.counted)}`)));
  });
  setContent(panel,
    sites.length ? table(["Site", "Available", "Down"], rows, "compact") : empty("Every site meets its SLA this month"),
    more(r.next_page_token));
}

/* ---------------------------------------------------------------- alerts */

// The alert queue in one state (or all), with an Acknowledge button on open alerts.
async function loadAlerts(panel, signal) {
  const state = document.getElementById("alert-state").value;
  const request = { page_size: 50 };
  if (state) request.state = state.startsWith("ALERT_") ? state : `ALERT_${state}`;
  const r = await rpc("QualityService/ListAlerts", request, signal);
  const alerts = r.alerts ?? [];
  setContent(panel,
    alerts.length
      ? table(["Kind", "Device", "Site", "Stage", "Raised", "State", ""], alerts.map(alertRow), "alerts-table")
      : empty(state ? `No ${state.replace(/^ALERT_/, "").toLowerCase()} alerts` : "No alerts"),
    more(r.next_page_token));
}

function alertRow(alert) {
  const stateCell = h("td", { class: "state" });
  setAlertState(stateCell, alert.state);
  const action = h("td", { class: "action" });
  const row = h("tr", { "data-alert-id": alert.alert_id },
    h("td", {}, formatEnum(alert.kind), alert.subject ? ` ${alert.subject}` : null,
      alert.detail ? h("span", { class: "muted block" }, alert.detail) : null),
    h("td", { class: "id" }, alert.device_id),
    h("td", { class: "id" }, alert.site_id || "—"),
    h("td", {}, formatEnum(alert.stage)),
    h("td", { class: "nowrap" }, formatTime(alert.raised_at)),
    stateCell,
    action);
  if (alert.state === "ALERT_OPEN") {
    action.append(h("button", { type: "button", class: "ack", onclick: () => acknowledge(alert.alert_id, row) }, "Acknowledge"));
  }
  return row;
}

// The state cell keeps the enum name in data-value and shows it short, as a badge.
function setAlertState(cell, state) {
  cell.dataset.value = state ?? "";
  cell.replaceChildren(h("span", { class: `badge ${String(state).toLowerCase()}` }, formatAlertState(state)));
}

// Acknowledges one alert and shows the state the service answered with, or why it could not.
async function acknowledge(alertId, row) {
  const button = row.querySelector("button.ack");
  const action = row.querySelector("td.action");
  button.disabled = true;
  action.querySelector(".row-error")?.remove();
  try {
    const alert = await rpc("QualityService/AcknowledgeAlert", { alert_id: alertId, note: ACK_NOTE });
    setAlertState(row.querySelector("td.state"), alert.state);
    button.remove();
  } catch (error) {
    button.disabled = false;
    action.append(h("span", { class: "row-error" }, errorText(error)));
  }
}

/* ---------------------------------------------------------------- device lookup */

let shownDevice = "";

// Starts a lookup from the form (button or Enter); it runs with the next refresh of every panel.
function lookUp(event) {
  event.preventDefault();
  lookedUp = document.getElementById("device-id").value.trim();
  refresh();
}

// The looked-up device's journey; unknown devices say so in the panel.
async function loadDevice(panel, signal) {
  const note = document.getElementById("device-note");
  const result = document.getElementById("device-result");
  const id = lookedUp;
  if (!id) return;
  let journey;
  try {
    journey = await rpc("JourneyService/GetDeviceJourney", { device_id: id }, signal);
  } catch (error) {
    if (error.code === "NOT_FOUND") {
      note.textContent = `No device ${id}`;
      note.hidden = false;
      result.hidden = true;
      shownDevice = "";
      return;
    }
    if (shownDevice !== id) result.hidden = true;
    throw error;
  }
  note.hidden = true;
  result.replaceChildren(...deviceView(journey));
  result.hidden = false;
  shownDevice = id;
}

function deviceView(j) {
  const risk = j.churn_risk;
  const fields = [
    ["Device", j.device_id],
    ["Model", j.model || "—"],
    ["Customer", j.customer_id || "—"],
    ["Site", j.site_id || "—"],
    ["Stage", h("span", { id: "device-stage", "data-value": j.stage ?? "" }, formatEnum(j.stage))],
    ["Stage since", formatTime(j.stage_since)],
    ["Claimed", formatTime(j.claimed_at)],
    ["Activated", j.activated_at ? formatTime(j.activated_at) : "not yet"],
    ["Churn risk", h("span", { id: "device-risk", "data-value": risk ? String(risk.score) : "" },
      risk ? `${risk.score} / 100` : "—")],
  ];
  const score = Number(risk?.score ?? 0);
  return [
    h("dl", { class: "facts" }, fields.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    risk ? h("div", { class: "risk" },
      h("div", { class: "bar" }, h("span", { class: `fill ${score >= 60 ? "high" : score >= 30 ? "mid" : "low"}`, style: `width:${Math.min(100, score)}%` })),
      h("ul", { class: "factors" }, (risk.factors ?? []).map((f) =>
        h("li", {}, h("b", {}, `+${f.points}`), ` ${f.reason || formatEnum(f.kind)}`)))) : null,
    h("h3", {}, "Journey"),
    timeline(j),
  ];
}

// Stage changes and touchpoints in one list, oldest first.
function timeline(j) {
  const entries = [
    ...(j.stage_changes ?? []).map((c) => ({ at: c.at, kind: "stage",
      title: `${formatEnum(c.from)} → ${formatEnum(c.to)}`, text: "" })),
    ...(j.touchpoints ?? []).map((t) => ({ at: t.at, kind: "touchpoint",
      title: formatEnum(t.kind), text: t.note })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (!entries.length) return h("ol", { id: "timeline", class: "timeline" }, h("li", { class: "empty" }, "Nothing yet"));
  return h("ol", { id: "timeline", class: "timeline" }, entries.map((e) =>
    h("li", { "data-at": e.at ?? "", "data-kind": e.kind, class: e.kind },
      h("time", {}, formatTime(e.at)),
      h("span", { class: "what" }, e.title),
      e.text ? h("span", { class: "text" }, e.text) : null)));
}

/* ---------------------------------------------------------------- start */

// Wires the controls, loads everything once, then again every 10 s while auto-refresh is on.
function start() {
  takeTokenFromHash();
  document.body.dataset.loaded = "0";
  document.getElementById("refresh").addEventListener("click", () => refresh());
  document.getElementById("token-form").addEventListener("submit", useToken);
  document.getElementById("lookup-form").addEventListener("submit", lookUp);
  for (const id of ["uptime-window", "pareto-dimension", "alert-state"]) {
    document.getElementById(id).addEventListener("change", () => refresh());
  }
  setInterval(() => {
    const waitingForToken = !document.getElementById("token-form").hidden;
    if (document.getElementById("auto-refresh").checked && !waitingForToken) refresh(false);
  }, AUTO_REFRESH_MS);
  refresh();
}

start();

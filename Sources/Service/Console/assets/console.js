// The SomaFractalMemory console: one page over the public API. The token lives in this tab's
// sessionStorage only and travels as the bearer header; memory content is shown as text, never HTML.
"use strict";

const LIST_CAP = 2000;       // memories read for the list; sorting and filters apply to these
const PAGE_SIZE = 25;
const GRAPH_NODE_CAP = 150;  // the neighbourhood drawn stops here, however large the namespace
const STORE_ROUTES = new Set(["POST /v1/memories", "POST /v1/memories/bulk", "POST /v1/import", "POST /store", "POST /store_bulk"]);
const RECALL_ROUTES = new Set([
  "POST /v1/memories/search", "POST /recall", "GET /recall", "POST /recall_batch", "POST /recall_with_scores",
  "POST /recall_with_context", "POST /keyword_search", "POST /hybrid_recall_with_scores"]);

const $ = (selector) => document.querySelector(selector);
const session = {
  get token() { return sessionStorage.getItem("soma.token") || ""; },
  get namespace() { return sessionStorage.getItem("soma.namespace") || ""; },
  get signedIn() { return sessionStorage.getItem("soma.signedIn") === "yes"; },
  save(token, namespace) {
    sessionStorage.setItem("soma.token", token);
    sessionStorage.setItem("soma.namespace", namespace);
    sessionStorage.setItem("soma.signedIn", "yes");
  },
  clear() { ["soma.token", "soma.namespace", "soma.signedIn"].forEach((key) => sessionStorage.removeItem(key)); },
};

class APIFailure extends Error {
  constructor(status, code, detail) {
    super(detail ? `${detail} (${status})` : `the service answered ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = "GET", body, token = session.token, namespace = session.namespace, text = false } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (namespace) headers["X-Soma-Namespace"] = namespace;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch (_) { /* not JSON: the status says enough */ }
    throw new APIFailure(response.status, problem.code, problem.detail);
  }
  return text ? response.text() : response.json();
}

const coordPath = (coord) => encodeURIComponent(coord);
const memoryHref = (coord) => `#/memory/${encodeURIComponent(coord)}`;

function preview(payload, length = 140) {
  for (const key of ["text", "content", "memory", "fact", "task", "description", "title"]) {
    if (typeof payload?.[key] === "string") return clip(payload[key], length);
  }
  return clip(JSON.stringify(payload ?? {}), length);
}
const clip = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function facts(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([name, value]) => [element("dt", { text: name }), element("dd", { text: String(value) })]));
}

function showError(error) {
  const box = $("#page-error");
  if (!error) { box.hidden = true; return; }
  box.textContent = error instanceof APIFailure && error.status === 403 && error.code === "namespace_forbidden"
    ? `This token may not read namespace '${session.namespace}'.`
    : `Could not load this page: ${error.message}`;
  box.hidden = false;
}

// ---- Sign-in -------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const token = $("#signin-token").value.trim();
  const namespace = $("#signin-namespace").value.trim();
  const problem = $("#signin-error");
  problem.hidden = true;
  try {
    await api("/v1/stats", { token, namespace });
    session.save(token, namespace);
    $("#signin-token").value = "";
    location.hash = "#/overview";
    route();
  } catch (error) {
    problem.textContent = !(error instanceof APIFailure)
      ? `Sign-in failed: the service could not be reached (${error.message}).`
      : error.code === "namespace_forbidden" ? `Sign-in failed: namespace not allowed for this token; ${error.message}`
      : error.status === 401 || error.status === 403 ? `Sign-in failed: wrong token; ${error.message}`
      : `Sign-in failed: ${error.message}`;
    problem.hidden = false;
  }
}

function signOut() {
  session.clear();
  location.hash = "#/signin";
  route();
}

// ---- Overview ------------------------------------------------------------------------------

let overviewTimer = null;
let lastActivity = null;

function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function countRequests(samples, routes) {
  return samples.filter((s) => s.name === "api_requests_total" && routes.has(`${s.labels.method} ${s.labels.endpoint}`))
    .reduce((sum, s) => sum + s.value, 0);
}

async function renderOverview() {
  const [stats, health, metricsText] = await Promise.all([api("/v1/stats"), api("/healthz"), api("/metrics", { text: true })]);
  $("#overview-counts").replaceChildren(...[["All memories", stats.total], ["Episodic", stats.episodic], ["Semantic", stats.semantic]]
    .map(([name, value]) => element("div", { class: "card" }, element("div", { class: "value", text: value.toLocaleString() }), element("div", { text: name }))));

  const samples = parseMetrics(metricsText);
  const now = Date.now();
  const activity = { at: now, stores: countRequests(samples, STORE_ROUTES), recalls: countRequests(samples, RECALL_ROUTES) };
  const perMinute = (key) => (lastActivity && now > lastActivity.at
    ? `${(((activity[key] - lastActivity[key]) * 60000) / (now - lastActivity.at)).toFixed(1)} per minute`
    : "measuring…");
  facts($("#overview-rates"), [
    ["Store requests", `${perMinute("stores")} (${activity.stores.toLocaleString()} since start)`],
    ["Recall requests", `${perMinute("recalls")} (${activity.recalls.toLocaleString()} since start)`],
  ]);
  lastActivity = activity;

  const healthy = { storage: health.kv_store, vector: health.vector_store, cache: health.cache, bus: health.event_bus, embedder: health.prediction_provider };
  const order = ["storage", "vector", "embedder", "cache", "bus"];
  const backends = samples.filter((s) => s.name === "soma_backend_info")
    .sort((a, b) => order.indexOf(a.labels.capability) - order.indexOf(b.labels.capability));
  const embedder = samples.find((s) => s.name === "soma_embedder_info");
  $("#overview-backends tbody").replaceChildren(...backends.map((s) => element("tr", {},
    element("td", { text: s.labels.capability }),
    element("td", { text: s.labels.capability === "embedder" && embedder ? `${s.labels.backend} (${embedder.labels.model}, ${embedder.labels.dimension} dimensions)` : s.labels.backend }),
    element("td", { text: healthy[s.labels.capability] === false ? "no" : "yes" }))));

  const pending = samples.find((s) => s.name === "soma_vector_index_pending_vectors");
  const saved = samples.find((s) => s.name === "soma_vector_index_last_save_timestamp_seconds");
  facts($("#overview-index"), pending
    ? [["Vectors waiting to be merged", pending.value.toLocaleString()], ["Last graph save", saved ? when(saved.value * 1000) : "not yet in this process"]]
    : [["Index", "kept by the vector backend's server (no in-process merge)"]]);
  $("#overview-index").dataset.status = health.status;
}

// ---- Memories ------------------------------------------------------------------------------

const listing = { memories: [], sort: "created_at", descending: true, page: 0, loadedFor: null };

async function loadMemories(type) {
  const memories = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "500" });
    if (type) query.set("type", type);
    if (cursor) query.set("cursor", cursor);
    const page = await api(`/v1/memories?${query}`);
    memories.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && memories.length < LIST_CAP);
  return { memories, more: Boolean(cursor) };
}

// Coordinates by their numbers (2,0 before 10,0), everything else by its value.
function compare(a, b, key) {
  if (key === "coord") {
    for (let i = 0; i < Math.max(a.coordinate.length, b.coordinate.length); i++) {
      const difference = (a.coordinate[i] ?? -Infinity) - (b.coordinate[i] ?? -Infinity);
      if (difference) return difference;
    }
    return 0;
  }
  return a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0;
}

function fieldValue(payload, path) {
  return path.split(".").reduce((value, key) => (value && typeof value === "object" ? value[key] : undefined), payload);
}

async function renderMemories() {
  const type = $("#filter-type").value;
  const field = $("#filter-field").value.trim();
  const wanted = $("#filter-value").value;
  const key = `${session.namespace}|${type}`;
  if (listing.loadedFor !== key) {
    const { memories, more } = await loadMemories(type);
    Object.assign(listing, { memories, more, loadedFor: key, page: 0 });
  }
  let rows = listing.memories;
  if (field) {
    rows = rows.filter((m) => {
      const value = fieldValue(m.payload, field);
      return value !== undefined && (wanted === "" || (typeof value === "string" ? value : JSON.stringify(value)) === wanted);
    });
  }
  const direction = listing.descending ? -1 : 1;
  rows = [...rows].sort((a, b) => direction * compare(a, b, listing.sort));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  listing.page = Math.min(listing.page, pages - 1);
  const shown = rows.slice(listing.page * PAGE_SIZE, (listing.page + 1) * PAGE_SIZE);
  $("#memories-table tbody").replaceChildren(...shown.map((m) => element("tr", {},
    element("td", {}, element("a", { href: memoryHref(m.coord), text: m.coord })),
    element("td", { text: m.type }),
    element("td", { class: "wide", text: String(m.importance) }),
    element("td", { class: "wide", text: when(m.created_at) }),
    element("td", { class: "wide", text: when(m.updated_at) }),
    element("td", { class: "preview", text: preview(m.payload) }))));
  for (const header of document.querySelectorAll("#memories-table th[data-sort]")) {
    if (header.dataset.sort === listing.sort) header.setAttribute("aria-sort", listing.descending ? "descending" : "ascending");
    else header.removeAttribute("aria-sort");
  }
  $("#page-label").textContent = `Page ${listing.page + 1} of ${pages}`;
  $("#page-prev").disabled = listing.page === 0;
  $("#page-next").disabled = listing.page >= pages - 1;
  $("#memories-note").textContent = (listing.more
    ? `Showing the first ${listing.memories.length.toLocaleString()} memories read (the namespace holds more); sorting and filters apply to these. `
    : `${listing.memories.length.toLocaleString()} memories. `) + (field ? `${rows.length.toLocaleString()} match the payload filter.` : "");
}

// ---- One memory ----------------------------------------------------------------------------

async function linkRows(coord, direction) {
  const query = new URLSearchParams({ coord, direction, limit: "200" });
  const { neighbors } = await api(`/v1/links/neighbors?${query}`);
  return neighbors.map((link) => {
    const other = direction === "in" ? link.from : link.to;
    return element("tr", {},
      element("td", {}, element("a", { href: memoryHref(other), text: other })),
      element("td", { text: link.type }), element("td", { text: String(link.weight) }));
  });
}

async function renderMemory(coord) {
  const memory = await api(`/v1/memories/${coordPath(coord)}`);
  $("#memory-title").textContent = `Memory at ${memory.coord}`;
  facts($("#memory-facts"), [
    ["Coordinate", memory.coord], ["Type", memory.type], ["Importance", memory.importance], ["Version", memory.version],
    ["Created", when(memory.created_at)], ["Updated", when(memory.updated_at)], ["Expires", when(memory.expires_at)],
    ["Embedding model", memory.embedding_model || "—"], ["Id", memory.id]]);
  $("#memory-payload").textContent = JSON.stringify(memory.payload, null, 2);
  $("#importance-input").value = memory.importance;
  $("#memory-graph-link").href = `#/graph/${encodeURIComponent(memory.coord)}`;
  const [outgoing, incoming] = await Promise.all([linkRows(memory.coord, "out"), linkRows(memory.coord, "in")]);
  $("#links-out tbody").replaceChildren(...(outgoing.length ? outgoing : [element("tr", {}, element("td", { colspan: "3", text: "none" }))]));
  $("#links-in tbody").replaceChildren(...(incoming.length ? incoming : [element("tr", {}, element("td", { colspan: "3", text: "none" }))]));
  $("#page-memory").dataset.coord = memory.coord;
}

async function saveImportance(event) {
  event.preventDefault();
  const coord = $("#page-memory").dataset.coord;
  try {
    await api(`/v1/memories/${coordPath(coord)}`, { method: "PATCH", body: { importance: Number($("#importance-input").value) } });
    listing.loadedFor = null;
    await renderMemory(coord);
    announce("Importance saved.");
  } catch (error) { showError(error); }
}

function askDelete() {
  $("#delete-text").textContent = `The memory at ${$("#page-memory").dataset.coord} and its links will be deleted. This cannot be undone.`;
  $("#delete-dialog").showModal();
}

async function confirmDelete() {
  if ($("#delete-dialog").returnValue !== "delete") return;
  try {
    await api(`/v1/memories/${coordPath($("#page-memory").dataset.coord)}`, { method: "DELETE" });
    listing.loadedFor = null;
    location.hash = "#/memories";
    announce("Memory deleted.");
  } catch (error) { showError(error); }
}

// Said in the status line above every page (and to screen readers), then cleared.
let announcementTimer = null;
function announce(text) {
  $("#status").textContent = text;
  clearTimeout(announcementTimer);
  announcementTimer = setTimeout(() => { $("#status").textContent = ""; }, 6000);
}

// ---- Search --------------------------------------------------------------------------------

async function runSearch(event) {
  event?.preventDefault();
  const query = $("#search-query").value.trim();
  if (!query) return;
  const body = { query, top_k: Number($("#search-top").value) || 10 };
  if ($("#search-type").value) body.type = $("#search-type").value;
  await Promise.all(["hybrid", "vector", "keyword"].map(async (mode) => {
    const list = $(`#results-${mode}`);
    try {
      const { results } = await api("/v1/memories/search", { method: "POST", body: { ...body, mode } });
      list.replaceChildren(...(results.length ? results.map((hit) => element("li", {},
        element("span", { class: "score", text: hit.score.toFixed(4) }), " ",
        element("a", { href: memoryHref(hit.memory.coord), text: hit.memory.coord }),
        element("span", { class: "preview", text: preview(hit.memory.payload) }))) : [element("li", { text: "no match" })]));
    } catch (error) {
      list.replaceChildren(element("li", { class: "error", text: error.message }));
    }
  }));
}

// ---- Graph ---------------------------------------------------------------------------------

const graph = { nodes: new Map(), edges: new Map(), center: null, capped: false };
const edgeKey = (link) => `${link.from}|${link.to}|${link.type}`;

async function neighbourhood(center, depth, type) {
  graph.nodes = new Map([[center, { id: center, depth: 0 }]]);
  graph.edges = new Map();
  graph.center = center;
  graph.capped = false;
  let frontier = [center];
  for (let level = 1; level <= depth && frontier.length && !graph.capped; level++) {
    const next = [];
    for (const coord of frontier) {
      for (const direction of ["out", "in"]) {
        const query = new URLSearchParams({ coord, direction, limit: "100" });
        if (type) query.set("type", type);
        const { neighbors } = await api(`/v1/links/neighbors?${query}`);
        for (const link of neighbors) {
          const other = direction === "out" ? link.to : link.from;
          if (!graph.nodes.has(other)) {
            if (graph.nodes.size >= GRAPH_NODE_CAP) { graph.capped = true; continue; }
            graph.nodes.set(other, { id: other, depth: level });
            next.push(other);
          }
          graph.edges.set(edgeKey(link), { source: link.from, target: link.to, type: link.type, weight: link.weight, key: edgeKey(link) });
        }
      }
    }
    frontier = next;
  }
}

function drawGraph(path = []) {
  const canvas = $("#graph-canvas");
  canvas.replaceChildren();
  previews.clear();  // read again: a memory may have changed since the last drawing
  const nodes = [...graph.nodes.values()].map((n) => ({ ...n }));
  const edges = [...graph.edges.values()].map((e) => ({ ...e }));
  const onPath = new Set(path);
  const pathEdges = new Set(path.slice(1).map((to, i) => `${path[i]}|${to}`));
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 400;
  const types = [...new Set(edges.map((e) => e.type))].sort();
  const colour = d3.scaleOrdinal(d3.schemeCategory10).domain(types);
  const thickness = d3.scaleSqrt().domain([0, d3.max(edges, (e) => e.weight) || 1]).range([1, 7]).clamp(true);

  $("#graph-legend").replaceChildren(...types.map((t) => {
    const swatch = element("span", { class: "swatch" });
    swatch.style.background = colour(t);
    return element("li", {}, swatch, t);
  }));

  const svg = d3.select(canvas).append("svg").attr("viewBox", `0 0 ${width} ${height}`)
    .attr("data-nodes", nodes.length).attr("data-edges", edges.length);
  svg.append("title").text(`Links around ${graph.center}`);
  // One arrowhead per link type, in its colour, drawn at the target's edge: a link has a direction.
  const arrow = (type) => `arrow-${types.indexOf(type)}`;
  svg.append("defs").selectAll("marker").data(types).join("marker")
    .attr("id", arrow).attr("viewBox", "0 -5 10 10").attr("refX", 10).attr("markerWidth", 3.5).attr("markerHeight", 3.5)
    .attr("markerUnits", "strokeWidth").attr("orient", "auto")
    .append("path").attr("d", "M0,-5L10,0L0,5").attr("fill", colour);
  const layer = svg.append("g");
  svg.call(d3.zoom().scaleExtent([0.2, 5]).on("zoom", () => layer.attr("transform", d3.event.transform)));

  const edge = layer.append("g").selectAll("line").data(edges).join("line")
    .attr("class", (e) => (pathEdges.has(`${e.source}|${e.target}`) ? "edge on-path" : "edge"))
    .attr("stroke", (e) => colour(e.type)).attr("stroke-width", (e) => thickness(e.weight))
    .attr("marker-end", (e) => `url(#${arrow(e.type)})`);
  edge.append("title").text((e) => `${e.source} → ${e.target} (${e.type}, weight ${e.weight})`);

  const node = layer.append("g").selectAll("g").data(nodes).join("g")
    .attr("class", (n) => ["node", n.id === graph.center ? "center" : "", onPath.has(n.id) ? "on-path" : ""].join(" ").trim())
    .attr("tabindex", 0).attr("role", "link").attr("aria-label", (n) => `Open memory ${n.id}`).attr("data-coord", (n) => n.id)
    .attr("aria-describedby", "graph-tip")
    .on("click", (n) => { location.hash = memoryHref(n.id); })
    .on("keydown", (n) => { if (d3.event.key === "Enter") location.hash = memoryHref(n.id); })
    .on("mouseenter focus", function (n) { showTip(this, n.id); })
    .on("mouseleave blur", hideTip);
  node.append("circle").attr("r", (n) => (n.id === graph.center ? 10 : 7));
  node.append("text").attr("x", 11).attr("y", 4).text((n) => n.id);
  node.call(d3.drag()
    .on("start", (n) => { if (!d3.event.active) simulation.alphaTarget(0.3).restart(); n.fx = n.x; n.fy = n.y; })
    .on("drag", (n) => { n.fx = d3.event.x; n.fy = d3.event.y; })
    .on("end", (n) => { if (!d3.event.active) simulation.alphaTarget(0); n.fx = null; n.fy = null; }));

  const simulation = d3.forceSimulation(nodes)
    .force("link", d3.forceLink(edges).id((n) => n.id).distance(70))
    .force("charge", d3.forceManyBody().strength(-160))
    .force("center", d3.forceCenter(width / 2, height / 2))
    .on("tick", () => {
      // Each line stops at its target's circle, so the arrowhead shows.
      const end = (e, axis) => {
        const dx = e.target.x - e.source.x, dy = e.target.y - e.source.y;
        const length = Math.hypot(dx, dy) || 1;
        const radius = (e.target.id === graph.center ? 10 : 7) + 2;
        return e.target[axis] - ((axis === "x" ? dx : dy) * radius) / length;
      };
      edge.attr("x1", (e) => e.source.x).attr("y1", (e) => e.source.y).attr("x2", (e) => end(e, "x")).attr("y2", (e) => end(e, "y"));
      node.attr("transform", (n) => `translate(${n.x},${n.y})`);
    });
}

// A memory's text beside its node, on hover and on keyboard focus; read once per memory.
const previews = new Map();
async function showTip(node, coord) {
  const canvas = $("#graph-canvas");
  let tip = $("#graph-tip");
  if (!tip) {
    tip = element("div", { id: "graph-tip", class: "tip", role: "tooltip" });
    canvas.append(tip);
  }
  if (!previews.has(coord)) {
    previews.set(coord, api(`/v1/memories/${coordPath(coord)}`).then((m) => `${coord}: ${preview(m.payload)}`, () => coord));
  }
  const box = node.getBoundingClientRect(), frame = canvas.getBoundingClientRect();
  tip.style.left = `${Math.min(box.right - frame.left + 6, frame.width - 200)}px`;
  tip.style.top = `${box.top - frame.top}px`;
  tip.dataset.coord = coord;
  tip.textContent = coord;
  tip.hidden = false;
  const text = await previews.get(coord);
  if (tip.dataset.coord === coord) tip.textContent = text;
}
function hideTip() {
  const tip = $("#graph-tip");
  if (tip) { tip.hidden = true; tip.dataset.coord = ""; }
}

async function renderGraph(center) {
  if (!center) {
    $("#graph-note").textContent = "Enter a memory's coordinate to draw the links around it.";
    return;
  }
  $("#graph-center").value = center;
  const depth = Number($("#graph-depth").value);
  await api(`/v1/memories/${coordPath(center)}`);  // a clear "not found" before any drawing
  await neighbourhood(center, depth, $("#graph-link-type").value.trim());
  drawGraph();
  $("#graph-note").textContent = `${graph.nodes.size} memories and ${graph.edges.size} links within ${depth} link(s) of ${center}`
    + (graph.capped ? `; capped at ${GRAPH_NODE_CAP} memories: lower the depth or filter by link type to see the rest.` : ".");
  if (!$("#path-from").value) $("#path-from").value = center;
}

async function findPath(event) {
  event.preventDefault();
  const from = $("#path-from").value.trim();
  const to = $("#path-to").value.trim();
  const query = new URLSearchParams({ from, to });
  const type = $("#graph-link-type").value.trim();
  if (type) query.set("type", type);
  try {
    const answer = await api(`/v1/links/path?${query}`);
    if (!answer.found) {
      $("#graph-note").textContent = `No path from ${from} to ${to}.`;
      return;
    }
    if (!graph.nodes.has(from)) await neighbourhood(from, 1, type);
    // Steps of the path missing from the drawn neighbourhood are added, so it shows whole.
    for (const [i, coord] of answer.path.entries()) {
      if (!graph.nodes.has(coord)) graph.nodes.set(coord, { id: coord, depth: i });
      const previous = answer.path[i - 1];
      if (i > 0 && ![...graph.edges.values()].some((e) => e.source === previous && e.target === coord)) {
        // The path takes the cheapest link between the two; read it to draw its type and weight.
        const step = new URLSearchParams({ coord: previous, limit: "1000" });
        if (type) step.set("type", type);
        const { neighbors } = await api(`/v1/links/neighbors?${step}`);
        const link = neighbors.filter((l) => l.to === coord).sort((a, b) => a.weight - b.weight)[0];
        if (link) graph.edges.set(edgeKey(link), { source: link.from, target: link.to, type: link.type, weight: link.weight, key: edgeKey(link) });
      }
    }
    drawGraph(answer.path);
    $("#graph-note").textContent = `Shortest path: ${answer.path.join(" → ")} (total weight ${answer.total_weight}).`;
  } catch (error) { showError(error); }
}

// ---- Routing -------------------------------------------------------------------------------

const pages = ["signin", "overview", "memories", "memory", "search", "graph"];

function show(page) {
  for (const name of pages) $(`#page-${name}`).hidden = name !== page;
  const signedIn = page !== "signin";
  $("#nav").hidden = !signedIn;
  $("#session").hidden = !signedIn;
  $("#session-namespace").textContent = session.namespace || "default";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === page || (page === "memory" && link.dataset.page === "memories")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  clearInterval(overviewTimer);
  showError(null);
  const [, page = "overview", argument] = location.hash.split("/");
  if (!session.signedIn || page === "signin") {
    show("signin");
    $("#signin-token").focus();
    return;
  }
  const name = pages.includes(page) && page !== "signin" ? page : "overview";
  show(name);
  const main = $("#main");
  main.setAttribute("aria-busy", "true");
  try {
    if (name === "overview") {
      lastActivity = null;
      await renderOverview();
      overviewTimer = setInterval(() => renderOverview().catch(showError), 5000);
    } else if (name === "memories") await renderMemories();
    else if (name === "memory") await renderMemory(decodeURIComponent(argument || ""));
    else if (name === "search") { if ($("#search-query").value) await runSearch(); }
    else if (name === "graph") await renderGraph(argument ? decodeURIComponent(argument) : $("#graph-center").value.trim());
  } catch (error) {
    if (error instanceof APIFailure && error.status === 401) signOut();
    else showError(error);
  } finally {
    main.removeAttribute("aria-busy");
    main.dataset.ready = name;
  }
}

function wire() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  $("#memories-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    listing.page = 0;
    renderMemories().catch(showError);
  });
  for (const header of document.querySelectorAll("#memories-table th[data-sort] button")) {
    header.addEventListener("click", () => {
      const key = header.parentElement.dataset.sort;
      listing.descending = listing.sort === key ? !listing.descending : key !== "coord" && key !== "type";
      listing.sort = key;
      listing.page = 0;
      renderMemories().catch(showError);
    });
  }
  $("#page-prev").addEventListener("click", () => { listing.page--; renderMemories().catch(showError); });
  $("#page-next").addEventListener("click", () => { listing.page++; renderMemories().catch(showError); });
  $("#importance-form").addEventListener("submit", saveImportance);
  $("#delete-memory").addEventListener("click", askDelete);
  $("#delete-dialog").addEventListener("close", confirmDelete);
  $("#search-form").addEventListener("submit", (event) => runSearch(event).catch(showError));
  $("#graph-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const center = $("#graph-center").value.trim();
    const target = `#/graph/${encodeURIComponent(center)}`;
    if (location.hash === target) route(); else location.hash = target;
  });
  $("#path-form").addEventListener("submit", findPath);
  window.addEventListener("hashchange", route);
}

wire();
route();

// skillstack Playground: the page's behaviour, talking only to this server's /v1 API.
// The API key is the user's to paste: kept in sessionStorage (gone with the tab), sent as a Bearer header,
// never put in a URL. Chat replies stream as OpenAI's server-sent events; the graph's carry its decision
// (route, skill, citations) in the last chunk's `skillstack` field. Jobs are polled once a second.
"use strict";

const GRAPH = "skillstack-graph";
const KEY_STORE = "skillstack-api-key";
const FINISHED = ["succeeded", "failed", "cancelled"];
const $ = (id) => document.getElementById(id);

let apiKey = sessionStorage.getItem(KEY_STORE) || "";
let models = [];
const panes = [];          // {select, history, root, transcript, system}
let selectedJob = null;
let pollTimer = null;

// ---- the API ----------------------------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${apiKey}`, ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = { ...options, body: JSON.stringify(options.json) };
  }
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error.message || message; } catch (_) { /* not OpenAI's shape */ }
    throw new ApiError(message);
  }
  return options.raw ? response : response.json();
}

// OpenAI's chat.completion.chunk events, one `data:` line each, "[DONE]" last; resolves to the graph's
// decision (the `skillstack` field of its last content chunk), or null for a single model.
async function streamChat(body, onText) {
  let decision = null;
  const response = await api("/v1/chat/completions", { method: "POST", json: { ...body, stream: true }, raw: true });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return decision;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return decision;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new ApiError(chunk.error.message);
        if (chunk.skillstack) decision = chunk.skillstack;
        const text = chunk.choices && chunk.choices[0] && chunk.choices[0].delta.content;
        if (text) onText(text);
      }
    }
  }
}

// ---- connecting -------------------------------------------------------------------------------------------

async function connect() {
  const status = $("connection");
  try {
    const listed = await api("/v1/models");
    // Chat model ids (base, skill names, ft: ids, the graph) never hold a '/'; the embedding model's id does.
    models = listed.data.map((m) => m.id).filter((id) => !id.includes("/"));
    sessionStorage.setItem(KEY_STORE, apiKey);
    status.textContent = `connected: ${models.length} models`;
    status.className = "ok";
    fillModelSelects();
    await refreshJobs();
  } catch (error) {
    status.textContent = error.message;
    status.className = "bad";
  }
}

function fillModelSelects(preferred = {}) {
  for (const [select, fallback] of [[$("model"), "base"], [$("compare-model"), models.find((m) => m !== "base" && m !== GRAPH)]]) {
    const keep = preferred[select.id] || select.value || fallback;
    select.replaceChildren(...models.map((id) => new Option(id, id)));
    select.value = models.includes(keep) ? keep : (fallback || "base");
  }
  syncPanes();
}

// ---- chat -------------------------------------------------------------------------------------------------

function makePane(select) {
  const root = document.createElement("div");
  root.className = "pane";
  root.id = `pane-${panes.length}`;
  const title = document.createElement("h2");
  const system = document.createElement("textarea");
  system.rows = 2;
  system.className = "system";
  system.placeholder = "System prompt (optional)";
  const transcript = document.createElement("div");
  transcript.className = "transcript";
  root.append(title, system, transcript);
  $("panes").append(root);
  return { select, history: [], root, title, system, transcript };
}

function syncPanes() {
  if (!panes.length) panes.push(makePane($("model")));
  const comparing = $("compare").checked;
  $("compare-settings").hidden = !comparing;
  if (comparing && panes.length === 1) panes.push(makePane($("compare-model")));
  if (!comparing && panes.length === 2) panes.pop().root.remove();
  for (const pane of panes) {
    pane.title.textContent = pane.select.value;
    pane.root.dataset.model = pane.select.value;
    pane.system.disabled = pane.select.value === GRAPH;
  }
  $("graph-hint").hidden = !panes.some((p) => p.select.value === GRAPH);
}

function addMessage(pane, role, text) {
  const div = document.createElement("div");
  div.className = `message ${role}`;
  div.textContent = text;
  pane.transcript.append(div);
  return div;
}

function showDecision(pane, decision) {
  const div = document.createElement("div");
  div.className = "decision";
  const route = decision.route + (decision.skill ? `/${decision.skill}` : "");
  const confidence = decision.confidence == null ? "" : ` (confidence ${decision.confidence.toFixed(2)})`;
  const line = document.createElement("div");
  line.className = "route";
  line.textContent = `Route: ${route}${confidence}${decision.reason ? ` - ${decision.reason}` : ""}`;
  div.append(line);
  for (const citation of decision.citations) {
    const item = document.createElement("div");
    item.className = `citation ${citation.verified ? "verified" : "unverified"}`;
    item.textContent = `Article ${citation.article} ${citation.verified ? "(verified)" : "(NOT verified)"}`
      + (citation.source ? ` - ${citation.source}` : "");
    div.append(item);
  }
  if (decision.sources.length) {
    const sources = document.createElement("div");
    sources.className = "sources";
    sources.textContent = `Sources: ${decision.sources.join("; ")}`;
    div.append(sources);
  }
  pane.transcript.append(div);
}

function samplingParams() {
  const stop = $("stop").value.split("\n").filter((s) => s.length);
  if (stop.length > 4) throw new ApiError("At most 4 stop sequences.");
  const params = { temperature: Number($("temperature").value), top_p: Number($("top-p").value) };
  if (stop.length) params.stop = stop;
  return params;
}

async function ask(pane, text) {
  const model = pane.select.value;
  const messages = [];
  if (pane.system.value.trim() && model !== GRAPH) messages.push({ role: "system", content: pane.system.value });
  pane.history.push({ role: "user", content: text });
  messages.push(...pane.history);
  addMessage(pane, "user", text);
  const reply = addMessage(pane, "assistant", "");
  pane.root.dataset.state = "busy";
  const body = { model, messages, max_tokens: Number($("max-tokens").value) };
  try {
    const onText = (piece) => { reply.textContent += piece; };
    // The graph's skills sample their own way: it takes the maximum length only.
    const decision = await streamChat(model === GRAPH ? body : { ...body, ...samplingParams() }, onText);
    if (decision) showDecision(pane, decision);
    pane.history.push({ role: "assistant", content: reply.textContent });
    pane.root.dataset.state = "done";
  } catch (error) {
    pane.history.pop();
    reply.className = "message error";
    reply.textContent = error.message;
    pane.root.dataset.state = "error";
  }
}

async function send(event) {
  event.preventDefault();
  const text = $("prompt").value.trim();
  if (!text) return;
  $("send").disabled = true;
  $("prompt").value = "";
  try {
    await Promise.all(panes.map((pane) => ask(pane, text)));
  } finally {
    $("send").disabled = false;
  }
}

function clearChat() {
  for (const pane of panes) {
    pane.history = [];
    pane.transcript.replaceChildren();
    delete pane.root.dataset.state;
  }
}

// ---- fine-tuning jobs -------------------------------------------------------------------------------------

function hyperparameter(id) {
  const raw = $(id).value.trim();
  if (!raw || raw === "auto") return "auto";
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ApiError(`${id}: a number or "auto", not ${JSON.stringify(raw)}`);
  return value;
}

async function upload(input) {
  const form = new FormData();
  form.append("purpose", "fine-tune");
  form.append("file", input.files[0]);
  return api("/v1/files", { method: "POST", body: form });
}

async function createJob(event) {
  event.preventDefault();
  const status = $("job-form-status");
  status.className = "";
  $("create-job").disabled = true;
  try {
    const method = $("method").value;
    const hyperparameters = { n_epochs: hyperparameter("n-epochs"), batch_size: hyperparameter("batch-size"),
                              learning_rate_multiplier: hyperparameter("lr-multiplier") };
    if (method === "dpo") hyperparameters.beta = hyperparameter("beta");
    status.textContent = "Uploading...";
    const training = await upload($("training-file"));
    const validation = $("validation-file").files.length ? await upload($("validation-file")) : null;
    const job = await api("/v1/fine_tuning/jobs", { method: "POST", json: {
      model: "base", training_file: training.id, validation_file: validation ? validation.id : null,
      suffix: $("suffix").value.trim() || null, method: { type: method, [method]: { hyperparameters } } } });
    status.textContent = `Created ${job.id}`;
    await refreshJobs();
    selectJob(job.id);
  } catch (error) {
    status.textContent = error.message;
    status.className = "error";
  } finally {
    $("create-job").disabled = false;
  }
}

async function refreshJobs() {
  const listed = await api("/v1/fine_tuning/jobs?limit=100");
  $("job-list").replaceChildren(...listed.data.map((job) => {
    const item = document.createElement("li");
    item.dataset.job = job.id;
    item.textContent = `${job.id} - ${job.status}`;
    item.classList.toggle("selected", job.id === selectedJob);
    item.addEventListener("click", () => selectJob(job.id));
    return item;
  }));
}

function selectJob(id) {
  selectedJob = id;
  $("job-title").textContent = id;
  $("job-events").replaceChildren();
  $("loss-chart").replaceChildren();
  clearInterval(pollTimer);
  pollJob();
  pollTimer = setInterval(pollJob, 1000);
}

async function pollJob() {
  const id = selectedJob;
  let job, events;
  try {
    [job, events] = await Promise.all([api(`/v1/fine_tuning/jobs/${id}`), api(`/v1/fine_tuning/jobs/${id}/events?limit=1000`)]);
  } catch (error) {
    $("job-error").hidden = false;
    $("job-error").textContent = error.message;
    return;
  }
  if (id !== selectedJob) return;
  $("job-status").textContent = job.status;
  $("job-model").textContent = job.fine_tuned_model || "";
  $("job-error").hidden = !job.error;
  $("job-error").textContent = job.error ? `${job.error.code}: ${job.error.message}` : "";
  $("open-skill").hidden = job.status !== "succeeded";
  $("open-skill").dataset.model = job.fine_tuned_model || "";
  $("cancel-job").hidden = FINISHED.includes(job.status);
  $("job-events").replaceChildren(...events.data.map((e) => {
    const item = document.createElement("li");
    item.className = e.level;
    item.textContent = `${new Date(e.created_at * 1000).toLocaleTimeString()} ${e.message}`;
    return item;
  }));
  drawLoss(events.data.filter((e) => e.type === "metrics").map((e) => e.data).sort((a, b) => a.step - b.step));
  for (const item of $("job-list").children) {
    if (item.dataset.job === id) item.textContent = `${id} - ${job.status}`;
    item.classList.toggle("selected", item.dataset.job === id);
  }
  if (FINISHED.includes(job.status)) clearInterval(pollTimer);
}

// Train and validation loss per step as two polylines in the chart's 600x240 box.
function drawLoss(rows) {
  const svg = $("loss-chart");
  const ns = "http://www.w3.org/2000/svg";
  const element = (name, attributes, text) => {
    const node = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const series = { train: rows.filter((r) => r.train_loss != null).map((r) => [r.step, r.train_loss]),
                   valid: rows.filter((r) => r.valid_loss != null).map((r) => [r.step, r.valid_loss]) };
  const points = [...series.train, ...series.valid];
  svg.dataset.points = String(series.train.length);
  svg.replaceChildren();
  if (!points.length) return;
  const [left, right, top, bottom] = [40, 590, 10, 220];
  const steps = points.map((p) => p[0]), losses = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  const [y0, y1] = [Math.min(0, ...losses), Math.max(...losses)];
  const x = (s) => left + (x1 === x0 ? (right - left) / 2 : (s - x0) / (x1 - x0) * (right - left));
  const y = (l) => bottom - (y1 === y0 ? 0.5 : (l - y0) / (y1 - y0)) * (bottom - top);
  svg.append(element("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom }),
             element("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom }),
             element("text", { class: "tick", x: 2, y: top + 8 }, y1.toFixed(2)),
             element("text", { class: "tick", x: 2, y: bottom }, y0.toFixed(2)),
             element("text", { class: "tick", x: left, y: bottom + 14 }, `step ${x0}`),
             element("text", { class: "tick", x: right - 50, y: bottom + 14 }, `step ${x1}`));
  for (const [name, data] of Object.entries(series)) {
    if (!data.length) continue;
    svg.append(element("polyline", { class: name, points: data.map(([s, l]) => `${x(s)},${y(l)}`).join(" ") }));
    for (const [s, l] of data) svg.append(element("circle", { class: name, cx: x(s), cy: y(l), r: 3, fill: "currentColor" }));
  }
}

async function openSkill() {
  const model = $("open-skill").dataset.model;
  await connect();  // the new skill is listed as soon as its job succeeds
  $("compare").checked = false;
  fillModelSelects({ model });
  clearChat();
  panes[0].system.value = "";  // the new skill brings its own system prompt
  showTab("chat");
  $("prompt").focus();
}

async function cancelJob() {
  try {
    await api(`/v1/fine_tuning/jobs/${selectedJob}/cancel`, { method: "POST" });
  } catch (error) {
    $("job-error").hidden = false;
    $("job-error").textContent = error.message;
  }
  pollJob();
}

// ---- wiring -----------------------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== name;
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = apiKey;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    apiKey = $("api-key").value.trim();
    connect();
  });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  for (const id of ["model", "compare-model", "compare"]) $(id).addEventListener("change", syncPanes);
  $("temperature").addEventListener("input", () => { $("temperature-value").textContent = $("temperature").value; });
  $("top-p").addEventListener("input", () => { $("top-p-value").textContent = $("top-p").value; });
  $("prompt-form").addEventListener("submit", send);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("prompt-form").requestSubmit();
  });
  $("clear").addEventListener("click", clearChat);
  $("job-form").addEventListener("submit", createJob);
  $("method").addEventListener("change", () => {
    for (const node of document.querySelectorAll(".dpo-only")) node.hidden = $("method").value !== "dpo";
  });
  $("open-skill").addEventListener("click", openSkill);
  $("cancel-job").addEventListener("click", cancelJob);
  syncPanes();
  if (apiKey) connect();
});

// skillstack Playground, chat view: one pane per model (two in compare mode), each with its own system
// prompt and history; replies stream, and a graph reply shows its decision (route, skill, citations).

import { $, ApiError, streamChat } from "./api.js";

const GRAPH = "skillstack-graph";
const panes = [];          // {select, history, root, title, system, transcript}

// Both model lists from the models the server serves, keeping each choice when it is still there.
export function fillModelSelects(models, preferred = {}) {
  for (const [select, fallback] of [[$("model"), "base"], [$("compare-model"), models.find((m) => m !== "base" && m !== GRAPH)]]) {
    const keep = preferred[select.id] || select.value || fallback;
    select.replaceChildren(...models.map((id) => new Option(id, id)));
    select.value = models.includes(keep) ? keep : (fallback || "base");
  }
  syncPanes();
}

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

export function syncPanes() {
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

export async function send(event) {
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

export function clearChat() {
  for (const pane of panes) {
    pane.history = [];
    pane.transcript.replaceChildren();
    delete pane.root.dataset.state;
  }
}

// The first pane, cleared for a model just opened (a new skill brings its own system prompt).
export function openInChat(models, model) {
  $("compare").checked = false;
  fillModelSelects(models, { model });
  clearChat();
  panes[0].system.value = "";
}

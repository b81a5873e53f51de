// skillstack Playground: connecting with a pasted key, the tabs, and the page's wiring.
// Every call goes to this server's /v1 API (api.js); the chat view is chat.js, the jobs view jobs.js.

import { $, api, currentKey, keepKey, useKey } from "./api.js";
import { clearChat, fillModelSelects, openInChat, send, syncPanes } from "./chat.js";
import { cancelJob, createJob, refreshJobs } from "./jobs.js";

let models = [];

async function connect() {
  const status = $("connection");
  try {
    const listed = await api("/v1/models");
    // Chat model ids (base, skill names, ft: ids, the graph) never hold a '/'; the embedding model's id does.
    models = listed.data.map((m) => m.id).filter((id) => !id.includes("/"));
    keepKey();
    status.textContent = `connected: ${models.length} models`;
    status.className = "ok";
    fillModelSelects(models);
    await refreshJobs();
  } catch (error) {
    status.textContent = error.message;
    status.className = "bad";
  }
}

async function openSkill() {
  const model = $("open-skill").dataset.model;
  await connect();  // the new skill is listed as soon as its job succeeds
  openInChat(models, model);
  showTab("chat");
  $("prompt").focus();
}

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== name;
}

// A module runs once the document is parsed: the elements below all exist.
{
  $("api-key").value = currentKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useKey($("api-key").value.trim());
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
  if (currentKey()) connect();
}

// skillstack Playground, jobs view: upload files, create a fine-tuning job, and follow the selected job
// (status, events, train and validation loss) by polling it once a second until it ends.

import { $, ApiError, api } from "./api.js";

const FINISHED = ["succeeded", "failed", "cancelled"];
let selectedJob = null;
let pollTimer = null;

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

export async function createJob(event) {
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

export async function refreshJobs() {
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

export async function cancelJob() {
  try {
    await api(`/v1/fine_tuning/jobs/${selectedJob}/cancel`, { method: "POST" });
  } catch (error) {
    $("job-error").hidden = false;
    $("job-error").textContent = error.message;
  }
  pollJob();
}

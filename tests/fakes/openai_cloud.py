"""A local stand-in for OpenAI's cloud: a real HTTP server on 127.0.0.1 (random port) speaking the
files, fine-tuning jobs and chat completions APIs closely enough for the real `openai` SDK.

Jobs advance one state per status poll: validating_files -> running -> succeeded (or failed when the
training file is not usable), with metrics events carrying train/valid loss and a fine_tuned_model
"ft:<base>:<org>:<suffix>:<id>". A fine-tuned model answers chat requests with the assistant reply of
the training example whose last user message is closest to the request's (what a memorising fine-tune
would do); a model given in `replies` answers with its scripted text; any other with a fixed, neutral sentence.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BASE_REPLY = "Thank you for your message. How can I help you?"
TOTAL_STEPS = 6


@dataclass
class CloudState:
    api_key: str
    org: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    replies: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: itertools.count = field(default_factory=lambda: itertools.count(int(time.time())))


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def _error(status: int, message: str, code: str, param: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def _training_rows(content: bytes) -> list[dict[str, Any]] | str:
    """The rows of an uploaded file, or why OpenAI would reject it."""
    rows = []
    for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            return f"line {number} is not valid JSON"
        if not isinstance(row, dict) or not ({"messages", "input"} & set(row)):
            return f"line {number} has no messages"
        rows.append(row)
    return rows if len(rows) >= 10 else f"the file has {len(rows)} examples; at least 10 are required"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        url = urlparse(self.path)
        body = self._body() if method == "POST" else b""
        with state.lock:
            state.requests.append((method, url.path))
        if self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self._send(*_error(401, "Incorrect API key provided.", "invalid_api_key"))
            return
        parts = [p for p in url.path.split("/") if p][1:]  # drop "v1"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with state.lock:
            status, payload = _route(state, method, parts, query, body, self.headers.get("Content-Type", ""))
        if isinstance(payload, bytes):
            self._send(status, payload, "application/octet-stream")
        else:
            self._send(status, payload)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: CloudState


def _upload(state: CloudState, body: bytes, content_type: str) -> tuple[int, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    if "file" not in fields or "purpose" not in fields:
        return _error(400, "file and purpose are required", "missing_required_parameter")
    content = fields["file"].get_payload(decode=True)
    file_id = _new_id("file")
    state.contents[file_id] = content
    state.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content), "created_at": next(state.clock),
                            "filename": fields["file"].get_filename() or "upload.jsonl",
                            "purpose": fields["purpose"].get_content().strip(), "status": "processed"}
    return 200, state.files[file_id]


def _event(state: CloudState, job_id: str, message: str, data: dict[str, Any] | None = None, kind: str = "message") -> None:
    state.events[job_id].append({"object": "fine_tuning.job.event", "id": _new_id("ftevent"), "created_at": next(state.clock),
                                 "level": "info", "message": message, "data": data or {}, "type": kind})


def _create_job(state: CloudState, body: bytes) -> tuple[int, Any]:
    request = json.loads(body or b"{}")
    for key in ("model", "training_file"):
        if not request.get(key):
            return _error(400, f"Missing required parameter: '{key}'.", "missing_required_parameter", key)
    for key in ("training_file", "validation_file"):
        if request.get(key) and request[key] not in state.files:
            return _error(400, f"File {request[key]} does not exist.", "invalid_file", key)
    method = request.get("method") or {"type": "supervised", "supervised": {"hyperparameters": request.get("hyperparameters") or {}}}
    if method.get("type") not in ("supervised", "dpo", "reinforcement"):
        return _error(400, f"Invalid method type {method.get('type')!r}.", "invalid_method", "method")
    if method["type"] == "reinforcement" and not (method.get("reinforcement") or {}).get("grader"):
        return _error(400, "A reinforcement job needs a grader.", "missing_grader", "method.reinforcement.grader")
    job_id = _new_id("ftjob")
    hyper = dict((method.get(method["type"]) or {}).get("hyperparameters") or {})
    state.jobs[job_id] = {
        "object": "fine_tuning.job", "id": job_id, "model": request["model"], "created_at": next(state.clock),
        "finished_at": None, "fine_tuned_model": None, "organization_id": f"org-{state.org}", "result_files": [],
        "status": "validating_files", "validation_file": request.get("validation_file"),
        "training_file": request["training_file"], "hyperparameters": hyper, "method": method,
        "trained_tokens": None, "error": None, "seed": request.get("seed", 42), "suffix": request.get("suffix"),
        "estimated_finish": None, "integrations": [], "metadata": request.get("metadata"),
    }
    state.events[job_id] = []
    _event(state, job_id, f"Created fine-tuning job: {job_id}")
    _event(state, job_id, f"Validating training file: {request['training_file']}")
    return 200, state.jobs[job_id]


def _advance(state: CloudState, job: dict[str, Any]) -> None:
    """One step of the job's life per status poll."""
    job_id = job["id"]
    if job["status"] == "validating_files":
        rows = _training_rows(state.contents[job["training_file"]])
        if isinstance(rows, str):
            job.update(status="failed", finished_at=next(state.clock),
                       error={"code": "invalid_training_file", "message": f"The training file is invalid: {rows}.",
                              "param": "training_file"})
            _event(state, job_id, job["error"]["message"])
            return
        method = job["method"]["type"]
        resolved = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8, **({"beta": 0.1} if method == "dpo" else {})}
        job["hyperparameters"] = {k: (v if job["hyperparameters"].get(k, "auto") == "auto" else job["hyperparameters"][k])
                                  for k, v in resolved.items()}
        job["method"].setdefault(method, {})["hyperparameters"] = job["hyperparameters"]
        job["status"] = "running"
        _event(state, job_id, "Files validated, moving job to queued state")
        _event(state, job_id, "Fine-tuning job started")
    elif job["status"] == "running":
        has_validation = job["validation_file"] is not None
        for step in range(1, TOTAL_STEPS + 1):
            data = {"step": step, "total_steps": TOTAL_STEPS, "train_loss": round(2.0 * 0.7 ** step, 4),
                    "train_mean_token_accuracy": round(1 - 0.5 * 0.7 ** step, 4)}
            if has_validation:
                data["valid_loss"] = round(2.2 * 0.72 ** step, 4)
            _event(state, job_id, f"Step {step}/{TOTAL_STEPS}: training loss={data['train_loss']}", data, "metrics")
        org = state.org
        job.update(status="succeeded", finished_at=next(state.clock), trained_tokens=1234 * TOTAL_STEPS,
                   fine_tuned_model=f"ft:{job['model']}:{org}:{job['suffix'] or 'custom'}:{job_id[-8:]}")
        _event(state, job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
        _event(state, job_id, "The job has successfully completed")


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """OpenAI's cursor pagination: newest first, `after` = the last id seen, `limit`."""
    if "after" in query:
        ids = [item["id"] for item in items]
        items = items[ids.index(query["after"]) + 1:] if query["after"] in ids else []
    limit = int(query.get("limit", 20))
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def _reply_for(state: CloudState, model: str, messages: list[dict[str, Any]]) -> str:
    job = next((j for j in state.jobs.values() if j["fine_tuned_model"] == model), None)
    if job is None:
        return state.replies.get(model, BASE_REPLY)
    question = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    best, best_score = BASE_REPLY, -1.0
    for row in _training_rows(state.contents[job["training_file"]]):
        row_messages = row.get("messages") or []
        users = [m.get("content") or "" for m in row_messages if m.get("role") == "user"]
        answers = [m.get("content") or "" for m in row_messages if m.get("role") == "assistant"]
        if users and answers:
            score = SequenceMatcher(None, users[-1], question).ratio()
            if score > best_score:
                best, best_score = answers[-1], score
    return best


def _chat(state: CloudState, body: bytes) -> tuple[int, Any]:
    request = json.loads(body or b"{}")
    model, messages = request.get("model"), request.get("messages") or []
    if model.startswith("ft:") and not any(j["fine_tuned_model"] == model for j in state.jobs.values()):
        return _error(404, f"The model `{model}` does not exist.", "model_not_found", "model")
    text = _reply_for(state, model, messages)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    if limit:
        text = " ".join(text.split()[:int(limit)])
    return 200, {"id": _new_id("chatcmpl"), "object": "chat.completion", "created": next(state.clock), "model": model,
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())}}


def _route(state: CloudState, method: str, parts: list[str], query: dict[str, str], body: bytes,
           content_type: str) -> tuple[int, Any]:
    match method, parts:
        case "POST", ["files"]:
            return _upload(state, body, content_type)
        case "GET", ["files"]:
            return 200, {"object": "list", "data": list(state.files.values()), "has_more": False}
        case "GET", ["files", file_id] if file_id in state.files:
            return 200, state.files[file_id]
        case "GET", ["files", file_id, "content"] if file_id in state.contents:
            return 200, state.contents[file_id]
        case "POST", ["fine_tuning", "jobs"]:
            return _create_job(state, body)
        case "GET", ["fine_tuning", "jobs"]:
            return 200, _page(sorted(state.jobs.values(), key=lambda j: j["created_at"], reverse=True), query)
        case "GET", ["fine_tuning", "jobs", job_id] if job_id in state.jobs:
            _advance(state, state.jobs[job_id])
            return 200, state.jobs[job_id]
        case "GET", ["fine_tuning", "jobs", job_id, "events"] if job_id in state.jobs:
            return 200, _page(list(reversed(state.events[job_id])), query)
        case "POST", ["fine_tuning", "jobs", job_id, "cancel"] if job_id in state.jobs:
            job = state.jobs[job_id]
            if job["status"] in ("validating_files", "queued", "running"):
                job.update(status="cancelled", finished_at=next(state.clock))
            return 200, job
        case "POST", ["chat", "completions"]:
            return _chat(state, body)
    return _error(404, f"Unknown request URL: {method} /v1/{'/'.join(parts)}", "unknown_url")


class FakeOpenAICloud:
    """Start with `with FakeOpenAICloud() as cloud:`; point the SDK at cloud.base_url with cloud.api_key."""

    def __init__(self, *, api_key: str = "sk-test-skillstack", org: str = "skillstack-test",
                 replies: dict[str, str] | None = None) -> None:
        self.state = CloudState(api_key=api_key, org=org, replies=dict(replies or {}))
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai-cloud", daemon=True)

    @property
    def api_key(self) -> str:
        return self.state.api_key

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def uploads(self) -> list[dict[str, Any]]:
        return list(self.state.files.values())

    def __enter__(self) -> FakeOpenAICloud:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

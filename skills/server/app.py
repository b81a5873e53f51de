"""The FastAPI app of `skillstack serve` and the uvicorn runner: routes, bounds, keys and CORS in one place.

GET /health and the Playground page (playground.py: it holds no secret) are open; everything else (models,
chat completions, embeddings, files, fine-tuning jobs and graders, the OpenAPI schema) sits behind `require_key`;
model `skillstack-graph` answers through the whole meta-agent graph (graph_chat.py). The fine-tuning worker starts and stops with the
server (the lifespan below). FastAPI is imported at the top: only `skillstack serve` imports this package. Handlers are sync (chat completions awaits its blocking parts there), so concurrent requests run on FastAPI's thread pool
and merge in the local engine's batcher; past `max_pending` requests in flight, new ones get a 429.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from skillstack.errors import ConfigError
from skillstack.retrieval.embeddings import embedding_model_name
from skillstack.settings import Settings
from skillstack.skills.runtime import BASE, get_runtime
from .auth import ENV_VAR, KeyRing, require_key
from .chat import complete_while_connected, prepare, stream_events
from .embeddings import embed
from .errors import APIError, BodyLimit, install_error_handlers
from . import graders, jobs
from .job_objects import CheckpointList, EventList, FineTuningJob, GraderRunResult, GraderValidated, JobList
from .files import FileDeleted, FileList, FileObject, FileStore
from .job_store import JobStore
from .job_worker import JobWorker
from .graph_chat import GRAPH_MODEL, GraphChat
from .playground import PAGE_PATH, install_playground
from .options import Admission, ServerOptions
from .schemas import ChatCompletion, ChatCompletionRequest, EmbeddingList, EmbeddingRequest, ErrorResponse, Health, \
    Model, ModelList

_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (400, 401, 404, 413, 422, 429, 500)}
# One server-sent event of a streamed reply: `data` is a chat.completion.chunk as JSON, or "[DONE]".
_SSE_EVENT = {"type": "object", "required": ["data"],
              "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}}}


def _models(settings: Settings) -> list[Model]:
    skills = get_runtime(settings).discovery(refresh=True).skills
    local = sorted((n, s) for n, s in skills.items() if s.manifest.backend == "peft")
    # A fine-tuning job's skill answers to its `ft:` id too (chat.resolve_model maps it back).
    names = [BASE, GRAPH_MODEL] + [n for n, _ in local] + [s.manifest.provenance["model_id"] for _, s in local
                                              if str(s.manifest.provenance.get("model_id", "")).startswith("ft:")]
    models = [Model(id=name, created=0, owned_by="skillstack") for name in names]
    return models + [Model(id=embedding_model_name(settings), created=0, owned_by="skillstack")]


def resolve_keys(settings: Settings, options: ServerOptions, keys: KeyRing | None) -> KeyRing | None:
    """The keys the app checks (None with auth off); ConfigError when auth is on and no key exists."""
    if not options.auth:
        return None
    keys = keys if keys is not None else KeyRing.load(settings)
    if not len(keys):
        raise ConfigError(f"no API key configured: create one with `skillstack keys create` (stored hashed in "
                          f"{settings.home / 'api_keys'}) or set ${ENV_VAR}; or pass --no-auth (loopback only)")
    return keys


def create_app(settings: Settings, *, options: ServerOptions | None = None, keys: KeyRing | None = None) -> Any:
    """The FastAPI app over settings' skills; keys default to $SKILLSTACK_API_KEYS and HOME/api_keys."""
    options = options or ServerOptions()
    ring = resolve_keys(settings, options, keys)
    admission = Admission(options.max_pending)
    files = FileStore(settings, max_bytes=options.max_file_bytes)
    store = JobStore(settings.home / "fine_tuning" / "jobs.sqlite3")
    worker = JobWorker(settings, store, files)
    graph = GraphChat(settings)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        # The worker lives as long as the server: jobs left running by a stopped server resume on the next start.
        worker.start()
        try:
            yield
        finally:
            worker.stop()

    app = FastAPI(title="skillstack", description="Local LoRA skills over OpenAI's API", version="1", lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)  # the schema is served behind the key below
    install_error_handlers(app)
    # The multipart envelope around an upload (boundaries, field headers, purpose) gets 64 KiB of room.
    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes,
                       upload_limits={"/v1/files": options.max_file_bytes + 64 * 1024})
    if options.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(options.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])

    install_playground(app)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health()

    # Every route but /health takes these: the key check and the documented error answers.
    protected: dict[str, Any] = {"dependencies": [require_key(ring)], "responses": _ERRORS}

    @app.get("/openapi.json", include_in_schema=False, **protected)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/v1/models", response_model=ModelList, **protected)
    def models() -> ModelList:
        return ModelList(data=_models(settings))

    @app.get("/v1/models/{model_id:path}", response_model=Model, **protected)
    def model(model_id: str) -> Model:
        for known in _models(settings):
            if known.id == model_id:
                return known
        raise APIError(404, f"The model '{model_id}' does not exist.", param="model", code="model_not_found")

    @app.post("/v1/chat/completions", response_model=ChatCompletion, dependencies=protected["dependencies"],
              responses=_ERRORS | {200: {"content": {"text/event-stream": {"schema": _SSE_EVENT}}}})
    async def chat_completions(body: ChatCompletionRequest, request: Request) -> Any:
        # Async, so a whole reply can be awaited beside the connection (complete_while_connected); the
        # blocking parts run on the thread pool as a sync handler would.
        slot = admission.enter()
        streaming = False
        try:
            if body.model == GRAPH_MODEL:
                if body.stream:
                    events = await run_in_threadpool(graph.stream, request, body, options)
                    streaming = True
                    return StreamingResponse(slot.held_by(events), media_type="text/event-stream")
                # Its extra field `skillstack` would be dropped by the ChatCompletion response model.
                return JSONResponse((await run_in_threadpool(graph.complete, body, options)).model_dump())
            prepared = await run_in_threadpool(prepare, settings, body, options)
            if body.stream:
                streaming = True
                return StreamingResponse(slot.held_by(stream_events(request, prepared, body)),
                                         media_type="text/event-stream")
            answer = await complete_while_connected(request, prepared, body)
            return answer if answer is not None else Response(status_code=499)  # nobody is left to read it
        finally:
            if not streaming:
                slot.release()

    @app.post("/v1/embeddings", response_model=EmbeddingList, **protected)
    def embeddings(body: EmbeddingRequest) -> EmbeddingList:
        return embed(settings, body)

    @app.post("/v1/files", response_model=FileObject, **protected)
    def create_file(file: UploadFile = File(...), purpose: str = Form(..., max_length=64)) -> FileObject:
        return files.create(file, purpose)

    @app.get("/v1/files", response_model=FileList, **protected)
    def list_files(purpose: str | None = Query(None, max_length=64), limit: int = Query(10000, ge=1, le=10000),
                   after: str | None = Query(None, max_length=64),
                   order: Literal["asc", "desc"] = Query("desc")) -> FileList:
        return files.list(purpose=purpose, limit=limit, after=after, order=order)

    @app.get("/v1/files/{file_id}", response_model=FileObject, **protected)
    def retrieve_file(file_id: str) -> FileObject:
        return files.get(file_id)

    @app.get("/v1/files/{file_id}/content", response_class=FileResponse, **protected)
    def file_content(file_id: str) -> FileResponse:
        return FileResponse(files.content(file_id), media_type="application/octet-stream")

    @app.delete("/v1/files/{file_id}", response_model=FileDeleted, **protected)
    def delete_file(file_id: str) -> FileDeleted:
        return files.delete(file_id)

    @app.post("/v1/fine_tuning/jobs", response_model=FineTuningJob, **protected)
    def create_job(body: jobs.JobCreateRequest) -> dict[str, Any]:
        job = jobs.create(settings, store, files, body)
        worker.notify()
        return job

    @app.get("/v1/fine_tuning/jobs", response_model=JobList, **protected)
    def list_jobs(request: Request, after: str | None = Query(None, max_length=64),
                  limit: int = Query(20, ge=1, le=100)) -> dict[str, Any]:
        # OpenAI's metadata filter arrives as metadata[key]=value query parameters.
        metadata = {k[len("metadata["):-1]: v for k, v in request.query_params.items()
                    if k.startswith("metadata[") and k.endswith("]")}
        return jobs.list_jobs(store, after=after, limit=limit, metadata=metadata)

    @app.get("/v1/fine_tuning/jobs/{job_id}", response_model=FineTuningJob, **protected)
    def retrieve_job(job_id: str) -> dict[str, Any]:
        return jobs.retrieve(store, job_id)

    @app.get("/v1/fine_tuning/jobs/{job_id}/events", response_model=EventList, **protected)
    def job_events(job_id: str, after: str | None = Query(None, max_length=64),
                   limit: int = Query(20, ge=1, le=1000)) -> dict[str, Any]:
        return jobs.events(store, job_id, after=after, limit=limit)

    @app.get("/v1/fine_tuning/jobs/{job_id}/checkpoints", response_model=CheckpointList, **protected)
    def job_checkpoints(job_id: str, after: str | None = Query(None, max_length=64),
                        limit: int = Query(10, ge=1, le=100)) -> dict[str, Any]:
        return jobs.checkpoints(store, job_id, after=after, limit=limit)

    @app.post("/v1/fine_tuning/jobs/{job_id}/cancel", response_model=FineTuningJob, **protected)
    def cancel_job(job_id: str) -> dict[str, Any]:
        job = jobs.cancel(store, job_id)
        worker.stopped(job_id)
        return job

    @app.post("/v1/fine_tuning/jobs/{job_id}/pause", response_model=FineTuningJob, **protected)
    def pause_job(job_id: str) -> dict[str, Any]:
        job = jobs.pause(store, job_id)
        worker.stopped(job_id)
        return job

    @app.post("/v1/fine_tuning/jobs/{job_id}/resume", response_model=FineTuningJob, **protected)
    def resume_job(job_id: str) -> dict[str, Any]:
        job = jobs.resume(store, job_id)
        worker.notify()
        return job

    @app.post("/v1/fine_tuning/alpha/graders/validate", response_model=GraderValidated, **protected)
    def validate_grader(body: graders.GraderValidateRequest) -> dict[str, Any]:
        return graders.validate(settings, body)

    @app.post("/v1/fine_tuning/alpha/graders/run", response_model=GraderRunResult, **protected)
    def run_grader(body: graders.GraderRunRequest) -> dict[str, Any]:
        return graders.run(settings, body)

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, options: ServerOptions | None = None) -> None:
    """Run the server until interrupted (the base model loads on the first chat request)."""
    import uvicorn

    options = options or ServerOptions()
    if not options.auth and not is_loopback(host):
        raise ConfigError(f"--no-auth serves only on loopback (127.0.0.1, ::1, localhost), not --host {host}; "
                          "create a key with `skillstack keys create` to serve on other interfaces")
    app = create_app(settings, options=options)
    address = f"[{host}]" if ":" in host else host
    print(f"Playground: http://{address}:{port}{PAGE_PATH} (paste an API key there; `skillstack keys create` makes one)",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")

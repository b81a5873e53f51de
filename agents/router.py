"""The router: decides whether a task needs knowledge (rag), a behaviour (skill), both (hybrid), or a question back.

The default EmbeddingRouter learns from labelled examples (routing_examples.py): knowledge questions built
in and built from the ingested corpus's own titles and headings (-> rag), the discovered skills' routing
examples, the reasoning flow's cases (-> hybrid), out-of-scope chat (-> fallback) and users' feedback
(route_feedback.py). A class-balanced logistic regression over sentence embeddings (route_classifier.py)
gives a calibrated confidence; when it is under settings.router_threshold, or the two best routes are
within settings.router_margin of each other, the decision is the fallback route and the graph asks a
clarifying question naming those two routes. A new skill folder, an ingest or a feedback line changes the
routes and the model at the next build. LLMRouter is the optional alternative with structured output.
Routers are registered by name (register_router); settings.router picks one.
Not here: what each route does (graphs/graph.py, lawyer/).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skillstack.errors import ConfigError, InputError
from skillstack.registry import Registry
from skillstack.retrieval.answer import neutralise_tag
from skillstack.settings import Settings

from .route_classifier import FEEDBACK_WEIGHT, ExampleFeatures, cached_route_model, features
from .route_feedback import read_feedback
from .routing_examples import heading_topics, parse_label, reasoning_skill, route_examples, skill_labels
from .state import FALLBACK

_KNOWLEDGE_PURPOSE = "a factual question answered from the ingested documents, with citations"
_DEFAULT_TEMPERATURE = 0.05
_NEAR_DUPLICATE = 0.97  # cosine at which a task is the one a user gave feedback on (give or take punctuation)


@dataclass(kw_only=True, frozen=True)
class RouteDecision:
    """Where a task goes: route is rag | skill | hybrid, or fallback when the router is unsure (or nothing fits).

    candidates: the best labels, most probable first (an unsure decision's clarifying question offers them).
    """

    route: str
    skill: str | None
    confidence: float
    reason: str
    scores: dict[str, float] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "skill": self.skill, "confidence": round(self.confidence, 4), "reason": self.reason}


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = (scores - scores.max(axis=-1, keepdims=True)) / temperature
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_temperature(score_rows: np.ndarray, truth: Sequence[int], *,
                    grid: np.ndarray | None = None) -> float:
    """The softmax temperature minimising the negative log-likelihood of the true labels (calibration)."""
    rows = np.asarray(score_rows, dtype=float)
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] < 2:
        return _DEFAULT_TEMPERATURE
    idx = np.asarray(truth)
    grid = np.geomspace(0.005, 1.0, 80) if grid is None else grid
    nll = [-np.mean(np.log(softmax(rows, t)[np.arange(len(idx)), idx] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(nll))])


def decide(probs: np.ndarray, names: Sequence[str], *, threshold: float, margin: float = 0.0) -> RouteDecision:
    """Turn calibrated probabilities into a decision: the fallback when unsure, when the two best are close,
    or when the best label is the fallback itself (chat no route serves)."""
    probs = np.asarray(probs, dtype=float)
    order = [int(i) for i in np.argsort(-probs)]
    best = order[0]
    confidence = float(probs[best])
    gap = confidence - float(probs[order[1]]) if len(order) > 1 else 1.0
    by_label = {name: round(float(p), 4) for name, p in zip(names, probs)}
    candidates = tuple(names[i] for i in order[:2] if names[i] != FALLBACK)
    runner_up = f", next {names[order[1]]} {probs[order[1]]:.2f}" if len(order) > 1 else ""
    if names[best] == FALLBACK:
        return RouteDecision(route=FALLBACK, skill=None, confidence=confidence, scores=by_label, candidates=candidates,
                             reason=f"no route fits: closest to out-of-scope examples ({confidence:.2f}{runner_up})")
    if confidence < threshold or gap < margin:
        why = f"{confidence:.2f} < threshold {threshold:.2f}" if confidence < threshold else \
            f"only {gap:.2f} ahead of {names[order[1]]} (margin {margin:.2f})"
        return RouteDecision(route=FALLBACK, skill=None, confidence=confidence, scores=by_label, candidates=candidates,
                             reason=f"unsure: best guess {names[best]} at {why}")
    route, skill = parse_label(names[best])
    return RouteDecision(route=route, skill=skill, confidence=confidence, scores=by_label, candidates=candidates,
                         reason=f"{names[best]} at {confidence:.2f}{runner_up}")


def corpus_topics(settings: Settings) -> list[str]:
    """The ingested store's unit titles and headings (none without a store): the BM25 index keeps every
    chunk's metadata in one small file, read here without opening embedded Chroma; with a Chroma server,
    the index that server holds (the one every client shares)."""
    from skillstack.errors import StoreError
    from skillstack.retrieval.lexical import LexicalIndex, current_index, lexical_dir

    if settings.chroma_host:
        from skillstack.retrieval.store import open_collection

        try:
            index = current_index(settings, open_collection(settings, create=False))
        except StoreError:  # nothing ingested on that server yet
            return []
    else:
        index = LexicalIndex.load(lexical_dir(settings))
    return heading_topics(index.metadatas) if index is not None else []


class EmbeddingRouter:
    """Logistic regression over sentence embeddings of labelled examples; built once per graph build, fast per task.

    `embedder` follows skillstack.retrieval's Embedder protocol (.embed -> L2-normalised rows); by default
    get_embedder's one instance per process, the one the retriever uses too. `topics` overrides the corpus
    titles read from the store (None: read them).
    """

    def __init__(self, settings: Settings, skills: Mapping[str, Any] | None = None, *, embedder: Any = None,
                 topics: Sequence[str] | None = None) -> None:
        from skillstack.retrieval.embeddings import get_embedder

        if skills is None:
            from skillstack.skills.registry import discover_skills

            skills = discover_skills(settings).skills
        self.settings = settings
        self.skills = dict(skills)
        self.embedder = embedder or get_embedder(settings)
        feedback = [(item.label, item.text) for item in read_feedback(settings)]
        pairs = route_examples(self.skills, topics=corpus_topics(settings) if topics is None else topics,
                               feedback=feedback)
        routes = {label for label, _ in pairs}
        self.feedback = [(label, text) for label, text in feedback if label in routes]
        texts = [text for _, text in pairs]
        labels = [label for label, _ in pairs]
        weights = [1.0] * (len(pairs) - len(self.feedback)) + [FEEDBACK_WEIGHT] * len(self.feedback)
        folder = settings.cache_dir / "router"
        rows = ExampleFeatures(folder, self.embedder)(texts)
        self.model = cached_route_model(folder, getattr(self.embedder, "name", ""), texts, labels, weights, rows)
        self.names = list(self.model.classes)
        self._feedback_rows = rows[len(pairs) - len(self.feedback):, :rows.shape[1] // 2]

    def _remembered(self, row: np.ndarray) -> str | None:
        """The label a user gave this very task (feedback), if the task is one of theirs."""
        if not self.feedback:
            return None
        sims = self._feedback_rows @ row
        best = int(np.argmax(sims))
        return self.feedback[best][0] if sims[best] >= _NEAR_DUPLICATE else None

    def route_many(self, texts: Sequence[str]) -> list[RouteDecision]:
        for text in texts:
            if not text or not text.strip():
                raise InputError("the task to route is empty; pass some text")
        rows = features(self.embedder, texts)
        decisions = []
        for row, probs in zip(rows, self.model.probabilities(rows)):
            label = self._remembered(row[:rows.shape[1] // 2])
            if label is not None:
                route, skill = parse_label(label)
                decisions.append(RouteDecision(route=route, skill=skill, confidence=1.0, candidates=(label,),
                                               reason=f"{label}: a user's feedback on this task"))
                continue
            decisions.append(decide(probs, self.names, threshold=self.settings.router_threshold,
                                    margin=self.settings.router_margin))
        return decisions

    def route(self, text: str) -> RouteDecision:
        return self.route_many([text])[0]


LLM_ROUTER_SYSTEM = (
    "You route tasks for an assistant. Choose the one route that fits the task best and answer with JSON only."
)


def llm_router_messages(task: str, options: Mapping[str, str]) -> list[dict[str, str]]:
    """Prompt for the LLM router: `options` maps each route label to what it is for; the task is data between tags."""
    listing = "\n".join(f"- {label}: {purpose}" for label, purpose in options.items())
    user = (f"Routes:\n{listing}\n\nTask:\n<task>\n{neutralise_tag(task.strip(), 'task')}\n</task>\n\n"
            'Reply as {"route": "<one route label>"}.')
    return [{"role": "system", "content": LLM_ROUTER_SYSTEM}, {"role": "user", "content": user}]


class LLMRouter:
    """Optional router: a chat model picks a route label through structured output (JSON constrained to the labels)."""

    def __init__(self, settings: Settings, skills: Mapping[str, Any] | None = None, *, chat_model: Any = None) -> None:
        if skills is None:
            from skillstack.skills.registry import discover_skills

            skills = discover_skills(settings).skills
        if chat_model is None:
            from skillstack.skills.runtime import default_chat_model

            chat_model = default_chat_model(settings)
        self.settings = settings
        self.options = {"rag": _KNOWLEDGE_PURPOSE, **skill_labels(skills)}
        schema = {"title": "route", "type": "object", "additionalProperties": False, "required": ["route"],
                  "properties": {"route": {"type": "string", "enum": list(self.options)}}}
        self.model = chat_model.with_structured_output(schema)

    def route(self, text: str) -> RouteDecision:
        if not text or not text.strip():
            raise InputError("the task to route is empty; pass some text")
        from langchain_core.messages import convert_to_messages

        started = time.perf_counter()
        choice = self.model.invoke(convert_to_messages(llm_router_messages(text, self.options)))
        label = (choice or {}).get("route") if isinstance(choice, dict) else getattr(choice, "route", None)
        if label not in self.options:
            return RouteDecision(route=FALLBACK, skill=None, confidence=0.0,
                                 reason=f"LLM router gave no valid route ({label!r})")
        route, skill = parse_label(label)
        return RouteDecision(route=route, skill=skill, confidence=1.0,
                             reason=f"LLM router chose {label} in {time.perf_counter() - started:.2f}s")


@dataclass(frozen=True, kw_only=True)
class RouterKind:
    """One registered router: its name (the value of settings.router), how to build it, and what it is."""

    name: str
    build: Callable[[Settings, Mapping[str, Any] | None], Any]  # (settings, skills or None: discover) -> router
    help: str


_ROUTERS: Registry[RouterKind] = Registry("router", name_pattern=r"^[a-z][a-z0-9_-]*$", error=ConfigError,
                                          builtin_modules=(), entry_point_group="skillstack.routers")


def register_router(*, name: str, build: Callable[[Settings, Mapping[str, Any] | None], Any], help: str) -> RouterKind:
    """Make a router available as settings.router = name (the one way in, for built-ins and plugins)."""
    if not callable(build):
        raise ConfigError(f"router {name!r}: build must be callable, got {build!r}")
    return _ROUTERS.add(name, RouterKind(name=_ROUTERS.check_name(name), build=build, help=help))


def registered_routers() -> dict[str, RouterKind]:
    """Every registered router by name (built-ins, then entry-point plugins)."""
    return _ROUTERS.load()


def build_router(settings: Settings, skills: Mapping[str, Any] | None = None) -> Any:
    """The router settings.router names; ConfigError listing the registered names for any other."""
    routers = registered_routers()
    kind = routers.get(settings.router)
    if kind is None:
        raise ConfigError(f"setting 'router' must be one of {', '.join(sorted(routers))}, got {settings.router!r}; "
                          "set router in config.toml or SKILLSTACK_ROUTER (the route command takes --llm)")
    return kind.build(settings, skills)


register_router(name="embedding", build=EmbeddingRouter,
                help="local and fast: logistic regression over sentence embeddings of labelled examples, calibrated confidence")
register_router(name="llm", build=LLMRouter, help="the chat model picks a route label through structured output")


__all__ = ["RouteDecision", "EmbeddingRouter", "LLMRouter", "RouterKind", "register_router", "registered_routers",
           "build_router", "route_examples", "fit_temperature", "decide", "reasoning_skill", "corpus_topics"]

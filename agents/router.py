"""The router: decides whether a task needs knowledge (rag), a behaviour (skill) or both (hybrid).

The default EmbeddingRouter compares the task with labelled examples: the discovered skills' own
routing examples plus built-in knowledge questions (-> rag) and the cases the reasoning flow registered
(-> hybrid with the skill whose kind has a registered flow: "reasoning" and legal cases for the lawyer flow).
Its confidence is a softmax over per-route similarities with a temperature fitted by leave-one-out on
those examples, so a new skill folder changes the routes and the calibration at the next build.
LLMRouter is the optional alternative with structured output. Routers are registered by name
(register_router); settings.router picks one.
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

from .flows import registered_flows
from .state import FALLBACK

# Factual questions about whatever documents were ingested: they need knowledge, not a behaviour.
KNOWLEDGE_EXAMPLES = (
    "What does Article 12 say about the deposit?",
    "How many days does a landlord have to return a security deposit?",
    "What is the definition of personal data in the regulation?",
    "Within how many hours must a data breach be notified to the authority?",
    "Which article covers the right to erasure?",
    "According to the documents, who may terminate the lease early?",
    "What are the conditions for valid consent?",
    "What does the code say about rent increases?",
    "List the duties of the data protection officer.",
    "What fine can the supervisory authority impose?",
    "How long is the notice period for ending a tenancy?",
    "What is the title of Article 5?",
    "Summarise the rules on repairs in the tenancy code.",
    "Which authority handles complaints under the act?",
    "What does the law define as a processor?",
    "When does the regulation apply to companies outside the EU?",
)

_KNOWLEDGE_PURPOSE = "a factual question answered from the ingested documents, with citations"
_DEFAULT_TEMPERATURE = 0.05


@dataclass(kw_only=True, frozen=True)
class RouteDecision:
    """Where a task goes: route is rag | skill | hybrid, or fallback when confidence is under the threshold."""

    route: str
    skill: str | None
    confidence: float
    reason: str
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"route": self.route, "skill": self.skill, "confidence": round(self.confidence, 4), "reason": self.reason}


def make_label(route: str, skill: str | None = None) -> str:
    return f"{route}:{skill}" if skill else route


def parse_label(label: str) -> tuple[str, str | None]:
    """'skill:brand-voice' -> ('skill', 'brand-voice'); 'rag' -> ('rag', None)."""
    route, _, skill = label.partition(":")
    return route, (skill or None)


def _reasons(skill: Any) -> bool:
    """Whether a skill reasons inside a flow: a reasoning flow is registered for its manifest kind."""
    return skill.manifest.kind in registered_flows()


def reasoning_skill(skills: Mapping[str, Any]) -> str | None:
    """The skill the hybrid route reasons with: the first (by name) whose kind has a registered reasoning flow."""
    names = sorted(name for name, skill in skills.items() if _reasons(skill))
    return names[0] if names else None


def route_examples(skills: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, example text) pairs: knowledge examples, each skill's routing examples, the flow's cases.

    The reasoning skill's examples (and the built-in cases its flow registered, legal cases for the
    lawyer flow) label the hybrid route, since its reasoning needs retrieved text; every other skill's
    examples label its skill route.
    """
    examples = [("rag", text) for text in KNOWLEDGE_EXAMPLES]
    reasoner = reasoning_skill(skills)
    for name in sorted(skills):
        manifest = skills[name].manifest
        route = "hybrid" if _reasons(skills[name]) else "skill"
        if route == "hybrid" and name != reasoner:
            continue
        examples += [(make_label(route, name), text) for text in manifest.routing_examples if text.strip()]
    if reasoner:
        flow = registered_flows()[skills[reasoner].manifest.kind]
        examples += [(make_label("hybrid", reasoner), text) for text in flow.routing_examples]
    return examples


def label_scores(similarities: np.ndarray, labels: Sequence[str], names: Sequence[str], *, top_k: int = 3) -> np.ndarray:
    """Per-label score: the mean of the label's top_k example similarities (robust to one odd example)."""
    labels_arr = np.asarray(labels)
    scores = np.full(len(names), -1.0)
    for i, name in enumerate(names):
        sims = similarities[labels_arr == name]
        if sims.size:
            scores[i] = float(np.mean(np.sort(sims)[-top_k:]))
    return scores


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


def leave_one_out_scores(similarity: np.ndarray, labels: Sequence[str], names: Sequence[str], *,
                         top_k: int = 3) -> np.ndarray:
    """Each example scored against all the others (itself left out): the rows temperature fitting needs."""
    rows = []
    for i in range(len(labels)):
        sims = similarity[i].copy()
        sims[i] = -np.inf
        keep = np.isfinite(sims)
        rows.append(label_scores(sims[keep], [l for l, k in zip(labels, keep) if k], names, top_k=top_k))
    return np.asarray(rows)


def decide(scores: np.ndarray, names: Sequence[str], temperature: float, threshold: float) -> RouteDecision:
    """Turn per-label scores into a decision; under the threshold the decision is the fallback route."""
    probs = softmax(np.asarray(scores, dtype=float), temperature)
    order = np.argsort(-probs)
    best = int(order[0])
    route, skill = parse_label(names[best])
    confidence = float(probs[best])
    runner_up = f", next {names[int(order[1])]} {scores[int(order[1])]:.2f}" if len(names) > 1 else ""
    reason = f"closest to {names[best]} examples (similarity {scores[best]:.2f}{runner_up})"
    by_label = {name: round(float(p), 4) for name, p in zip(names, probs)}
    if confidence < threshold:
        return RouteDecision(route=FALLBACK, skill=None, confidence=confidence, scores=by_label,
                             reason=f"unsure: best guess {names[best]} at {confidence:.2f} < threshold {threshold:.2f}")
    return RouteDecision(route=route, skill=skill, confidence=confidence, reason=reason, scores=by_label)


class EmbeddingRouter:
    """Nearest-examples router over sentence embeddings; built once per graph build, fast per task.

    `embedder` follows skillstack.retrieval's Embedder protocol (.embed -> L2-normalised rows); by
    default get_embedder's one instance per process, the one the retriever uses too.
    """

    def __init__(self, settings: Settings, skills: Mapping[str, Any] | None = None, *, embedder: Any = None,
                 top_k: int = 3) -> None:
        from skillstack.retrieval.embeddings import get_embedder

        if skills is None:
            from skillstack.skills.registry import discover_skills

            skills = discover_skills(settings).skills
        self.settings = settings
        self.skills = dict(skills)
        self.top_k = top_k
        self.embedder = embedder or get_embedder(settings)
        pairs = route_examples(self.skills)
        self.labels = [label for label, _ in pairs]
        self.names = list(dict.fromkeys(self.labels))
        self.vectors = self._embed([text for _, text in pairs])
        loo = leave_one_out_scores(self.vectors @ self.vectors.T, self.labels, self.names, top_k=top_k)
        self.temperature = fit_temperature(loo, [self.names.index(l) for l in self.labels])

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(texts))

    def route_many(self, texts: Sequence[str]) -> list[RouteDecision]:
        for text in texts:
            if not text or not text.strip():
                raise InputError("the task to route is empty; pass some text")
        sims = self._embed(texts) @ self.vectors.T
        return [decide(label_scores(row, self.labels, self.names, top_k=self.top_k), self.names,
                       self.temperature, self.settings.router_threshold) for row in sims]

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
        self.options = {"rag": _KNOWLEDGE_PURPOSE}
        reasoner = reasoning_skill(skills)
        for name in sorted(skills):
            manifest = skills[name].manifest
            if _reasons(skills[name]) and name != reasoner:
                continue
            route = "hybrid" if name == reasoner else "skill"
            self.options[make_label(route, name)] = manifest.description or f"the {name} skill"
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
                help="local and fast: nearest labelled examples by sentence embedding, calibrated confidence")
register_router(name="llm", build=LLMRouter, help="the chat model picks a route label through structured output")


__all__ = ["RouteDecision", "EmbeddingRouter", "LLMRouter", "RouterKind", "register_router", "registered_routers",
           "build_router", "route_examples", "fit_temperature",
           "decide", "label_scores", "reasoning_skill"]

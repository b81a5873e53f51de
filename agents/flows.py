"""The registry of reasoning flows: which subgraph the hybrid route runs, keyed by the reasoning skill's kind.

A flow is built once per graph build from the build's shared parts (FlowParts) and returns a compiled
LangGraph subgraph over GraphState; its routing examples teach the router which tasks go to it. Built-in
flows register exactly as a plugin would, with one `register_flow` call in their own module (a built-in
module, or a module named by an entry point of the group `skillstack.flows`). A new domain (medical, tax) is one folder with that
call, and a skill of that kind.
Not here: any flow's steps (agents/lawyer/flow.py) or the meta-agent graph (graphs/graph.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from skillstack.errors import ConfigError
from skillstack.registry import Registry

# The hybrid node's flow when no installed skill reasons (the route is then never taken): the lawyer's kind.
DEFAULT_KIND = "reasoning"


class FlowParts(Protocol):
    """What a flow is built from: the graph build's one retriever, chat models, skills and retry policy."""

    skills: Mapping[str, Any]
    retry: Any  # the RetryPolicy for nodes that call a model or the store (None: no retries)
    settings: Any  # the graph build's Settings (a flow's own switches, e.g. deadline_check)

    @property
    def retriever(self) -> Any: ...

    def chat(self, name: str) -> Any:
        """Skill `name` as a LangChain chat model ("base": the base model)."""


@dataclass(frozen=True, kw_only=True)
class ReasoningFlow:
    """One registered flow: the skill kind it serves, how to build its subgraph, what it does, and the
    built-in tasks that label the hybrid route for the router (on top of the skill's own examples)."""

    kind: str
    build: Callable[[FlowParts], Any]
    help: str
    routing_examples: tuple[str, ...] = ()


# Built-in flows register from their own module with the same register_flow call a plugin makes.
_FLOWS: Registry[ReasoningFlow] = Registry("reasoning flow kind", name_pattern=r"^[a-z][a-z0-9_-]*$", error=ConfigError,
                                           builtin_modules=("skillstack.agents.lawyer.flow",),
                                           entry_point_group="skillstack.flows")


def register_flow(*, kind: str, build: Callable[[FlowParts], Any], help: str,
                  routing_examples: Sequence[str] = ()) -> ReasoningFlow:
    """Make `build` the hybrid flow for reasoning skills of manifest kind `kind` (built-ins and plugins alike)."""
    if not callable(build):
        raise ConfigError(f"reasoning flow kind {kind!r}: build must be callable, got {build!r}")
    flow = ReasoningFlow(kind=_FLOWS.check_name(kind), build=build, help=help, routing_examples=tuple(routing_examples))
    return _FLOWS.add(kind, flow)


def registered_flows() -> dict[str, ReasoningFlow]:
    """Every registered flow by kind, the built-ins included."""
    return _FLOWS.load()


def reasoning_flow(kind: str) -> ReasoningFlow:
    """The flow registered for skill kind `kind`; ConfigError naming the registered kinds when there is none."""
    flows = registered_flows()
    if kind not in flows:
        raise ConfigError(f"no reasoning flow is registered for skill kind {kind!r} (registered: "
                          f"{', '.join(sorted(flows)) or 'none'}); set the reasoning skill's kind in its "
                          "skill.toml to one of those, or register a flow for it with register_flow")
    return flows[kind]

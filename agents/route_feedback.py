"""Routing feedback: tasks a user re-labelled with their correct route, which the next router build learns from.

`skillstack route --feedback ROUTE [--skill NAME] [TEXT]` appends one validated line to HOME/router_feedback.jsonl
(the route must be one the graph has, the skill must be discovered; without TEXT the last task `route` decided,
kept in HOME/router_last.json). Appends are atomic and serialised by a file lock, so two users never lose each
other's line and a reader never sees half of one. The file is read back line by line with the same checks:
a bad line is one error naming the file and line.
Not here: how the router weighs the examples (route_classifier.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from skillstack.io import atomic_write_json, atomic_write_text
from skillstack.json_lines import object_lines
from skillstack.settings import Settings

from .routing_examples import make_label, reasoning_skill, skill_labels
from .state import FALLBACK, ROUTES

FEEDBACK_FILE = "router_feedback.jsonl"
LAST_ROUTE_FILE = "router_last.json"
FEEDBACK_ROUTES = (*ROUTES, FALLBACK)
MAX_TEXT_CHARS = 4000  # a task, not a document: longer input is refused rather than stored


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """One task with the route it should have taken (skill: the skill of a skill or hybrid route)."""

    text: str
    route: str
    skill: str | None = None
    at: str = ""

    @property
    def label(self) -> str:
        return make_label(self.route, self.skill)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def feedback_path(settings: Settings) -> Path:
    return settings.home / FEEDBACK_FILE


def check_text(text: Any, where: str) -> str:
    """The task text, stripped; InputError for a non-string, an empty, an over-long or a control-character text."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: the task text is empty; pass the task that was misrouted")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{where}: the task text is {len(text)} characters, more than {MAX_TEXT_CHARS}; "
                         "feedback is for one task, not a document")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise InputError(f"{where}: the task text holds control characters; pass plain text")
    return text.strip()


def resolve(route: str, skill: str | None, skills: Mapping[str, Any], where: str) -> tuple[str, str | None]:
    """(route, skill) checked against the routes the graph has now; hybrid's skill defaults to the reasoning skill."""
    if route not in FEEDBACK_ROUTES:
        raise InputError(f"{where}: route must be one of {', '.join(FEEDBACK_ROUTES)}, got {route!r}")
    if route in ("rag", FALLBACK):
        if skill:
            raise InputError(f"{where}: route {route!r} takes no skill, got --skill {skill!r}")
        return route, None
    if route == "hybrid":
        reasoner = reasoning_skill(skills)
        if reasoner is None:
            raise InputError(f"{where}: route 'hybrid' needs a reasoning skill and none is installed")
        skill = skill or reasoner
    elif not skill:
        raise InputError(f"{where}: route 'skill' needs --skill NAME (one of {', '.join(sorted(skills)) or 'none'})")
    if make_label(route, skill) not in skill_labels(skills):
        known = ", ".join(label for label in skill_labels(skills) if label.startswith(route + ":")) or "none"
        raise InputError(f"{where}: {route} route has no skill {skill!r} (discovered: {known})")
    return route, skill


def record_feedback(settings: Settings, text: str, route: str, skill: str | None,
                    skills: Mapping[str, Any]) -> Feedback:
    """Validate and append one feedback line to HOME/router_feedback.jsonl; returns what was written."""
    text = check_text(text, "feedback")
    route, skill = resolve(route, skill, skills, "feedback")
    item = Feedback(text=text, route=route, skill=skill, at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    path = feedback_path(settings)
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    # Read, add, swap in whole: the lock serialises writers, the swap means a reader never sees half a line.
    with FileLock(str(path.with_name(f".{path.name}.lock"))):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        atomic_write_text(path, old + json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    return item


def read_feedback(settings: Settings) -> list[Feedback]:
    """Every feedback line, validated (InputError naming file:line); an absent file is no feedback.

    Routes and skills are not checked here: a line whose skill was removed since is still a valid line,
    the router just has no such route to learn it for.
    """
    path = feedback_path(settings)
    if not path.exists():
        return []
    items = []
    for where, data in object_lines(path, "\"text\", \"route\" and \"skill\""):
        route, skill = data.get("route"), data.get("skill")
        if route not in FEEDBACK_ROUTES or not (skill is None or isinstance(skill, str)):
            raise InputError(f"{where}: route must be one of {', '.join(FEEDBACK_ROUTES)} and skill a name or null")
        items.append(Feedback(text=check_text(data.get("text"), where), route=route, skill=skill or None,
                              at=str(data.get("at", ""))))
    return items


def remember_last(settings: Settings, text: str, decision: Mapping[str, Any]) -> None:
    """Keep the task `route` just decided, so `route --feedback ROUTE` without TEXT can correct it."""
    try:
        atomic_write_json(settings.home / LAST_ROUTE_FILE, {"text": text, "route": decision.get("route"),
                                                           "skill": decision.get("skill")})
    except OSError:  # a read-only home still routes; only the no-TEXT form of --feedback is then unavailable
        pass


def last_routed(settings: Settings) -> str:
    """The text of the last task `route` decided; InputError when there is none."""
    path = settings.home / LAST_ROUTE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"no routed task to correct in {path}; pass the task: "
                         "skillstack route --feedback ROUTE \"TEXT\"") from None
    return check_text(data.get("text") if isinstance(data, dict) else None, str(path))

"""The router's labelled examples: where each (label, text) pair it learns from comes from.

- knowledge (-> rag): a few built-in questions, plus questions built from the ingested corpus itself (its unit
  titles and chapter/section headings put into several question shapes), so a newly ingested law teaches the
  router its own topics without anyone writing examples for it;
- cases (-> hybrid with the reasoning skill): the reasoning skill's own routing examples and the cases its
  flow registered (the lawyer flow's include tasks composed from templates that name no law: agents/lawyer/cases.py);
- behaviours (-> skill:NAME): each discovered skill's routing examples from its skill.toml;
- out of scope (-> fallback): greetings, small talk and requests no route serves;
- feedback: tasks users re-labelled with `skillstack route --feedback` (agents/route_feedback.py).
Not here: the classifier (router.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
    # Knowledge is not only law: policies, handbooks, price lists and manuals are ingested too.
    "What does our expenses policy say about hotel costs?",
    "How many days of annual leave does the staff handbook give new employees?",
    "What is the monthly price of the business plan according to the price list?",
    "According to the user manual, how do I reset the device to factory settings?",
    "What does the refund policy say about items bought in a sale?",
    "Which documents do I need to open an account, according to the onboarding guide?",
)

# What no route serves: the graph falls back (asks what is meant, or lets the base model chat).
OUT_OF_SCOPE_EXAMPLES = (
    "hello there",
    "good morning!",
    "thank you, bye",
    "ok great, cheers",
    "what can you do?",
    "are you a robot?",
    "I need some help",
    "quick question",
    "can you do something for me?",
    "tell me a joke",
    "what is the capital of Australia?",
    "who won the football match yesterday?",
    "give me a recipe for banana bread",
    "what's the weather like tomorrow?",
    "translate 'good night' into Italian",
    "recommend a good film for tonight",
    "what is 17 times 23?",
    "write a short story about a dragon who is afraid of the dark",
)

# Question shapes for a corpus title or heading (t: lowercased): several registers, from the law's words to a
# layperson's. Each title gets a few of them (rotating), so no single shape dominates the knowledge examples.
TITLE_QUESTIONS = (
    "What does the regulation say about {t}?",
    "What are the rules on {t}?",
    "Which article deals with {t}?",
    "Explain the provisions on {t}.",
    "According to the documents, what applies to {t}?",
    "Quick question about {t}: what does the law require?",
    "Summarise what the code says on {t}.",
    "is there anything in the rules about {t}?",
    "What do the documents say regarding {t}?",
    "Under the act, what are the requirements for {t}?",
)
QUESTIONS_PER_TITLE = 3

_DIVISION = re.compile(r"^(?:chapter|part|title|book|section)\s+[\w.]+\s*[.:\-\u2013\u2014]?\s*", re.IGNORECASE)
_GENERIC_TITLE = re.compile(r"^(?:recital|article|section|annex)\b.*\d|^$", re.IGNORECASE)


def heading_topics(metadatas: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct topics a store's chunks are titled with: unit titles and chapter/section headings, in order.

    Numbers-only titles ("Recital 12", "Article 4") say nothing about the topic and are left out.
    """
    topics: dict[str, None] = {}
    for meta in metadatas:
        context = str(meta.get("context") or "")
        for heading in [*context.split(" / "), str(meta.get("title") or "")]:
            topic = _DIVISION.sub("", heading.strip()).strip(" .:")
            if not _GENERIC_TITLE.search(topic) and len(topic.split()) <= 16:
                topics.setdefault(topic, None)
    return list(topics)


def title_questions(topics: Sequence[str], *, per_title: int = QUESTIONS_PER_TITLE) -> list[str]:
    """Knowledge questions about each topic, in `per_title` of the shapes (rotating through TITLE_QUESTIONS)."""
    questions = []
    for i, topic in enumerate(topics):
        lowered = topic[:1].lower() + topic[1:] if not topic[:2].isupper() else topic
        for j in range(per_title):
            questions.append(TITLE_QUESTIONS[(i * per_title + j) % len(TITLE_QUESTIONS)].format(t=lowered))
    return questions


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


def skill_labels(skills: Mapping[str, Any]) -> dict[str, str]:
    """Route label -> the skill's description, for every skill the router can send a task to."""
    reasoner = reasoning_skill(skills)
    labels = {}
    for name in sorted(skills):
        if _reasons(skills[name]) and name != reasoner:
            continue
        route = "hybrid" if name == reasoner else "skill"
        labels[make_label(route, name)] = skills[name].manifest.description or f"the {name} skill"
    return labels


def route_examples(skills: Mapping[str, Any], *, topics: Sequence[str] = (),
                   feedback: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(label, example text) pairs: knowledge, corpus topics, skills, cases, out of scope, then users' feedback.

    The reasoning skill's examples and its flow's cases label the hybrid route (its reasoning needs retrieved
    text); every other skill's examples label its skill route. Without a reasoning skill there is no hybrid route. Feedback whose label is no longer a route is skipped.
    """
    examples = [("rag", text) for text in (*KNOWLEDGE_EXAMPLES, *title_questions(topics))]
    labels = skill_labels(skills)
    reasoner = reasoning_skill(skills)
    for label in labels:
        name = label.partition(":")[2]
        examples += [(label, text) for text in skills[name].manifest.routing_examples if text.strip()]
    if reasoner:
        hybrid = make_label("hybrid", reasoner)
        flow = registered_flows()[skills[reasoner].manifest.kind]
        examples += [(hybrid, text) for text in flow.routing_examples]
    examples += [(FALLBACK, text) for text in OUT_OF_SCOPE_EXAMPLES]
    routes = {"rag", FALLBACK, *labels}
    examples += [(label, text) for label, text in feedback if label in routes]
    return examples

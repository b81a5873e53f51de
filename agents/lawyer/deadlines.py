"""The deadline check: elapsed periods in the client's facts against deadlines in the retrieved articles.

A 135M reasoner cannot do "six weeks > 10 days" by itself, so the flow computes it and hands the
finding to the reasoner as data. Law-agnostic: a deadline is any "within / not later than / no later
than <period>" in an article; an elapsed fact period is any "<period> ago / later / after / since",
"for <period>" or "waited <period>" in the facts. Matching: an elapsed period is compared with each
deadline of each retrieved article, but within one article only the paragraph that shares the most words
with the facts counts (Article 4(2)'s 14 days to lodge a deposit does not govern keys returned six weeks
ago; 4(3)'s 10 days after the keys are returned does). Only exceeded deadlines are reported; a period in
the facts that is not marked as elapsed, e.g. "a two-month lease", is never compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_HOURS = {"hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.0, "year": 8760.0}  # month = 30.4 days
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
          "twenty": 20, "thirty": 30}
_AMOUNT = r"(\d+|" + "|".join(_WORDS) + r")[\s-]+(hour|day|week|month|year)s?"
_DEADLINE = re.compile(r"\b(?:within|not later than|no later than|at the latest within)\s+" + _AMOUNT, re.I)
_PARAGRAPH = re.compile(r"\n+(?=\(?\d+[.)]\s)|\n\s*\n")
_NUMBER = re.compile(r"^\(?(\d+)[.)]\s")
_WORD = re.compile(r"[a-z]{4,}")
_ELAPSED = re.compile(r"\b(?:for|waited|after|took)\s+" + _AMOUNT + r"|\b" + _AMOUNT + r"\s+(?:ago|later|after|since)\b", re.I)


@dataclass(frozen=True)
class Period:
    text: str
    hours: float


@dataclass(frozen=True)
class Finding:
    article: str
    deadline: Period
    elapsed: Period

    def sentence(self) -> str:
        return (f"Deadline check: Article {self.article} allows {self.deadline.text}; the facts give "
                f"{self.elapsed.text} ({_days(self.elapsed.hours)}): the deadline was exceeded.")


def _days(hours: float) -> str:
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours:g} hours"


def _period(amount: str, unit: str) -> Period:
    number = int(amount) if amount.isdigit() else _WORDS[amount.lower()]
    return Period(f"{number} {unit.lower()}{'s' if number != 1 else ''}", number * _HOURS[unit.lower()])


def _periods(pattern: re.Pattern[str], text: str) -> list[Period]:
    found = []
    for match in pattern.finditer(text):
        groups = [g for g in match.groups() if g]
        found.append(_period(groups[0], groups[1]))
    return found


def deadlines(text: str) -> list[Period]:
    return _periods(_DEADLINE, text)


def elapsed_periods(facts: str) -> list[Period]:
    return _periods(_ELAPSED, facts)


def _stems(text: str) -> set[str]:
    return {word[:5] for word in _WORD.findall(text.lower())}  # crude stems: "returned" meets "returns"


def governing_paragraph(facts: str, article_text: str) -> tuple[str, str] | None:
    """(paragraph number or "", text) of the article's deadline paragraph closest in words to the facts."""
    candidates = [p.strip() for p in _PARAGRAPH.split(article_text) if deadlines(p)]
    if not candidates:
        return None
    best = max(candidates, key=lambda p: len(_stems(p) & _stems(facts)))
    number = _NUMBER.match(best)
    return (number.group(1) if number else "", best)


def deadline_findings(facts: str, articles: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Exceeded deadlines: the longest elapsed period of the facts against each article's governing paragraph."""
    elapsed = max(elapsed_periods(facts), key=lambda p: p.hours, default=None)
    if elapsed is None:
        return []
    findings = []
    for article in articles:
        governing = governing_paragraph(facts, str(article.get("text", "")))
        if governing is None:
            continue
        paragraph, text = governing
        label = str(article.get("article") or "?") + (f"({paragraph})" if paragraph else "")
        findings += [Finding(label, d, elapsed) for d in dict.fromkeys(deadlines(text)) if elapsed.hours > d.hours]
    return findings

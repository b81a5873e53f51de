"""The deadline check: how long the client's facts say something took, against the deadline that governs it.

A 135M reasoner cannot do "six weeks > 10 days" by itself, so the flow computes it and hands the
finding to the reasoner as data. Law-agnostic:
- a deadline is any "within / not later than / no later than <period>" in a retrieved article;
- an elapsed period is one the facts mark as elapsed ("<period> ago / later / went by / passed",
  "waited / took / it's been <period>") or the span between the last two dates they give
  ("moved out on 2 March ... paid back on 28 March"); a duration ("a freeze for four months", "a
  two-month lease") is never one;
- the governing deadline is the one whose sentence shares the most words with the facts (at least
  MIN_SHARED): an article's other deadlines, and articles about something else, are not compared.
Numbers in words count ("forty days"); a working day is 7/5 of a calendar day.
The finding says "exceeded" or "within the deadline"; no finding when nothing governs or nothing elapsed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from skillstack.retrieval.evidence import sentences
from skillstack.spelled_numbers import as_digits

MIN_SHARED = 2  # words a deadline's sentence must share with the facts to govern them
_HOURS = {"hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.0, "year": 8760.0}  # month = 30.4 days
_WORKING = 7 / 5
_AMOUNT = r"(\d+|a|an|one)[\s-]+((?:working |business |calendar |clear )?)(hour|day|week|month|year)s?"
_DEADLINE = re.compile(r"\b(?:within|not later than|no later than|at the latest within)\s+" + _AMOUNT, re.I)
_ELAPSED = re.compile(r"\b(?:waited|took|taken|it's been|it has been|it had been|after waiting)\s+(?:about |almost |nearly |over |more than )?"
                      + _AMOUNT + r"|\b" + _AMOUNT + r"\s+(?:ago|later|went by|had gone by|passed|have passed|had passed)\b", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(" + "|".join(m[:3] + f"(?:{m[3:]})?" for m in _MONTHS) + r")\.?"
_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?"
                   rf"|\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?", re.I)
_PARAGRAPH = re.compile(r"\n+(?=\(?\d+[.)]\s)|\n\s*\n")
_NUMBER = re.compile(r"^\(?(\d+)[.)]\s")
_WORD = re.compile(r"[a-z]{4,}")
# Words every deadline sentence or story has: sharing them says nothing about what the deadline governs.
_GENERIC = {"within", "after", "later", "than", "shall", "must", "from", "with", "that", "this", "have", "been",
            "will", "days", "hours", "weeks", "months", "years", "working", "business", "calendar", "which",
            "where", "when", "their", "they", "there", "them", "into", "only", "under", "other", "such"}


@dataclass(frozen=True)
class Period:
    text: str
    hours: float


@dataclass(frozen=True)
class Finding:
    article: str
    deadline: Period
    elapsed: Period

    @property
    def exceeded(self) -> bool:
        return self.elapsed.hours > self.deadline.hours

    def sentence(self) -> str:
        verdict = "the deadline was exceeded" if self.exceeded else "within the deadline"
        return (f"Deadline check: Article {self.article} allows {self.deadline.text}; the facts give "
                f"{self.elapsed.text} ({_days(self.elapsed.hours)}): {verdict}.")


def _days(hours: float) -> str:
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours:g} hours"


def _period(amount: str, kind: str, unit: str) -> Period:
    number = int(amount) if amount.isdigit() else 1
    unit, kind = unit.lower(), kind.strip().lower()
    factor = _WORKING if kind in ("working", "business") and unit == "day" else 1.0
    label = f"{number} {kind + ' ' if kind else ''}{unit}{'s' if number != 1 else ''}"
    return Period(label, number * _HOURS[unit] * factor)


def _periods(pattern: re.Pattern[str], text: str) -> list[Period]:
    found = []
    for match in pattern.finditer(as_digits(text)):
        groups = match.groups()
        start = 0 if groups[0] is not None else 3  # which alternative matched: three groups each
        found.append(_period(groups[start], groups[start + 1] or "", groups[start + 2]))
    return found


def deadlines(text: str) -> list[Period]:
    return _periods(_DEADLINE, text)


def _dates(facts: str) -> list[dt.date]:
    found = []
    for match in _DATE.finditer(facts):
        day, month, year = (match.group(1), match.group(2), match.group(3)) if match.group(1) else \
            (match.group(5), match.group(4), match.group(6))
        month_number = next(i for i, name in enumerate(_MONTHS, 1) if name.startswith(month.lower()[:3]))
        try:
            found.append(dt.date(int(year) if year else 2001, month_number, int(day)))  # 2001: no leap day
        except ValueError:
            continue
    return found


def elapsed_periods(facts: str) -> list[Period]:
    """The periods the facts say went by: marked ones, then the span of their dates (when they give two)."""
    periods = _periods(_ELAPSED, facts)
    dates = list(dict.fromkeys(_dates(facts)))
    if len(dates) >= 2:  # the last two: the story's event and what was done about it (an earlier date sets the scene)
        start, end = sorted(dates[-2:])
        periods.append(Period(f"{(end - start).days} days ({start:%-d %B} to {end:%-d %B})", (end - start).days * 24.0))
    return periods


def _stems(text: str) -> set[str]:
    return {word[:5] for word in _WORD.findall(text.lower()) if word not in _GENERIC}  # "returned" meets "returns"


def governing_deadline(facts: str, articles: Iterable[Mapping[str, Any]]) -> tuple[str, Period] | None:
    """(article label, deadline) of the deadline sentence sharing the most words with the facts, or None."""
    best, best_shared = None, MIN_SHARED - 1
    facts_stems = _stems(facts)
    for article in articles:
        for paragraph in _PARAGRAPH.split(str(article.get("text", ""))):
            number = _NUMBER.match(paragraph.strip())
            label = str(article.get("article") or "?") + (f"({number.group(1)})" if number else "")
            for sentence in sentences(paragraph) or [paragraph]:
                found = deadlines(sentence)
                shared = len(_stems(sentence) & facts_stems)
                if found and shared > best_shared:
                    best, best_shared = (label, found[0]), shared
    return best


def deadline_findings(facts: str, articles: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """The governing deadline against the longest period the facts say went by (empty when either is missing)."""
    elapsed = max(elapsed_periods(facts), key=lambda p: p.hours, default=None)
    governing = governing_deadline(facts, articles) if elapsed is not None else None
    if governing is None or elapsed is None:
        return []
    label, deadline = governing
    return [Finding(label, deadline, elapsed)]

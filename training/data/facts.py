"""Facts in text, found by regular expressions: money, percentages, dates, codes, numbers, proper names;
and which facts of an answer its prompt does not hold. Pure functions; the dataset verdicts are in advise.py.

The patterns aim at what fine-tuning cannot be trusted to memorise (a price, a date, an order code, a
person's name), not at every number: single digits (list steps, "2 days") are too common to mean knowledge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_NUMBER = r"\d+(?:[.,]\d+)*"
# Order matters: a span taken by an earlier kind is not matched again by a later one.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", re.compile(rf"[$€£¥]\s?{_NUMBER}|\b{_NUMBER}\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b", re.I)),
    ("percent", re.compile(rf"\b{_NUMBER}\s?(?:%|percent\b|per cent\b)", re.I)),
    ("date", re.compile(rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
                        rf"|\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
                        rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}})?", re.I)),
    ("code", re.compile(r"\b(?=[A-Z0-9_-]*\d)(?=[A-Z0-9_-]*[A-Z])[A-Z0-9]+(?:[-_][A-Z0-9]+)*\b"
                        r"|\b[A-Z]{2,}(?:[-_][A-Z0-9]+)+\b")),
    ("number", re.compile(rf"\b\d{{2,}}(?:[.,]\d+)*\b|\b\d[.,]\d+\b")),
    ("name", re.compile(r"\b[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[ -][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)*\b")),
)
# Template slots ({{Order Number}}) stand in for facts: an answer using them is doing the right thing.
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n])[\s*_#>\"'(\[-]*$")
_NOT_NAMES = frozenset("i hi hello dear thanks thank please ok yes no sorry monday tuesday wednesday thursday "
                       "friday saturday sunday".split())
_COMMA_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_POINT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")


@dataclass(frozen=True)
class Fact:
    """One fact found in a text: its kind (money, percent, date, code, number, name) and the text as written."""

    kind: str
    text: str



def _number_key(text: str) -> str:
    # 1,200.50 and 1.200,50 and 1200.50 are one number; 3,5 and 3.5 too.
    if _COMMA_THOUSANDS.match(text):
        return text.replace(",", "")
    if _POINT_THOUSANDS.match(text):
        text = text.replace(".", "")
    return text.replace(",", ".")


def numbers(text: str) -> set[str]:
    """Every number in a text, normalised (thousands separators dropped, decimal commas as points)."""
    return {_number_key(n) for n in re.findall(_NUMBER, text)}


def _name(text: str, before: str) -> str | None:
    parts = text.replace("-", " ").split()
    if _SENTENCE_END.search(before):  # a capital at a sentence start says nothing
        parts = parts[1:]
    if not parts or (len(parts) == 1 and parts[0].lower() in _NOT_NAMES):
        return None
    return " ".join(parts)


def find_facts(text: str) -> list[Fact]:
    """The facts of a text, in order of kind then position."""
    text = _PLACEHOLDER.sub(" ", text)
    taken = [False] * len(text)
    found: list[Fact] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            value = _name(match.group(), text[:start]) if kind == "name" else match.group()
            if value:
                found.append(Fact(kind, value))
    return found


def fact_key(fact: Fact) -> str:
    """What makes two mentions the same fact: its numbers for numeric kinds, else its lower-cased text."""
    if fact.kind in ("money", "percent", "number", "date"):
        return " ".join(sorted(numbers(fact.text))) or fact.text.lower()
    return fact.text.lower()


def lower_words(text: str) -> set[str]:
    """Words written in lower case somewhere in the text: common words, whatever their capital elsewhere."""
    return set(re.findall(r"\b[a-zß-öø-ÿ]+\b", text))


def missing_facts(answer: str, context: str, common: frozenset[str] | set[str] = frozenset()) -> list[Fact]:
    """The answer's facts its context does not hold (numbers compared as numbers, names and codes as words).

    common: lower-case words of the dataset (lower_words); a capitalised run of only such words is a
    heading or a button label ("Account Settings"), not a name.
    """
    context_numbers = numbers(context)
    context_text = context.lower()
    context_words = set(re.findall(r"\w+", context_text))
    missing = []
    for fact in find_facts(answer):
        if fact.kind in ("money", "percent", "number", "date"):
            present = numbers(fact.text) <= context_numbers
        else:
            key = fact.text.lower()
            words = set(re.findall(r"\w+", key))
            present = key in context_text or words <= context_words or (fact.kind == "name" and words <= common)
        if not present:
            missing.append(fact)
    return missing

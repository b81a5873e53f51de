"""What an analysis cites and quotes: article numbers (normalised) and verbatim quoted spans.

Pure text reading, no verdict: the citation gate (gate.py) compares what is read here with the retrieved chunks.
"""

from __future__ import annotations

import re
from typing import Any

# "Article 33", "[Article 33(1)(a)]", "Articles 5 and 6", "Art. 17", "Artículo 4", "§ 12"
_CITE = re.compile(
    r"\b(?:Articles?|Art\.|Artículos?)\s*(?P<first>\d+[a-z]?)(?:\(\w+\))*"
    r"(?P<more>(?:\s*(?:,|and|or|&|y)\s*\d+[a-z]?(?:\(\w+\))*)*)"
    r"|§\s*(?P<section>\d+[a-z]?)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+[a-z]?", re.IGNORECASE)
_QUOTE = re.compile(r"\"([^\"\n]{3,}?)\"|“([^”\n]{3,}?)”|«([^»\n]{3,}?)»")
_SPACE = re.compile(r"\s+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "\u00a0": " "})


def normalise_article(number: Any) -> str:
    """'033' -> '33', '17A' -> '17a'; anything else is kept as written."""
    text = str(number).strip().lower()
    return text.lstrip("0") or text


def cited_articles(text: str) -> list[str]:
    """Article numbers an analysis cites, in first-seen order, sub-paragraphs dropped ('6(1)(a)' -> '6')."""
    found: dict[str, None] = {}
    for match in _CITE.finditer(text):
        if match.group("section"):
            found.setdefault(normalise_article(match.group("section")), None)
            continue
        found.setdefault(normalise_article(match.group("first")), None)
        for extra in _NUMBER.findall(re.sub(r"\(\w+\)", "", match.group("more") or "")):
            found.setdefault(normalise_article(extra), None)
    return list(found)


def flatten(text: str) -> str:
    """Text as compared verbatim: one space for any run of whitespace, typographic quotes and dashes made plain."""
    return _SPACE.sub(" ", text.translate(_TRANSLATE)).strip()


def quoted_spans(text: str) -> list[str]:
    """Spans the analysis puts in double quotes (straight, curly or guillemets), trailing punctuation dropped."""
    spans = []
    for match in _QUOTE.finditer(text):
        span = flatten(next(g for g in match.groups() if g is not None)).rstrip(".,;:")
        if span:
            spans.append(span)
    return spans

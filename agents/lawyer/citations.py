"""The one parser of legal-unit references: headings ("Article 4 - Deposits", "§ 12", "Section 3.1", "Clause 7",
"CHAPTER II"), citations in running text ("Articles 5 and 6", "Art. 17(1)(a)", "Artículo 4"), bracketed citation
blocks ("[Article 4, 7]", "[Section 3.1]"), article numbers normalised, and the spans an analysis quotes.

Pure text reading, no verdict: retrieval/chunking.py reads headings here, retrieval/answer.py the
citation blocks of RAG answers, and the citation gate (gate.py) compares what is read here with the
retrieved chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The words that name an article, in the languages of the corpora: Article(s), Art. or Art, Artículo(s).
_ARTICLE_WORD = r"(?:articles?|art[ií]culos?|art\.?)"
# 33, 17a, and a code's dotted numbers (5.3, 2.1.4) read whole: "Article 5.3" is its own unit, never Article 5;
# a dot that no digit follows ends the sentence ("under Article 5.").
_NUMBER = r"\d+(?:\.\d+)*[a-z]?"
_SUBDIVISIONS = r"(?:\(\w+\))*"  # (1)(a): a paragraph and point of the article, not another article
_TITLE = r"\s*(?:[.:\-\u2013\u2014]\s*(?P<title>.*))?"  # "Article 4 - Deposits", "Article 4. Deposits"

# Policies, contracts and statutes number their units with these words; such a unit is a "section" whose
# style (the word, as written) names it in labels and citations: "Section 3.1", "Clause 7", "Rule 2.3".
_SECTION_WORD = r"(?P<style>sections?|sec\.|clauses?|cl\.|rules?|regulations?|reg\.|paragraphs?|para\.)"
_SECTION_NUMBER = r"\d+(?:\.\d+)*[a-z]?(?!\.?\d)"  # 3, 3.1, 2.3.4, 12A; never "3" of "3.1"
# A marked heading ("## Section 4 Refunds", <h2>Article 4 Deposits</h2>) may leave the separator out;
# a plain line may not: prose starts lines with "Article 6 shall apply" too.
_LOOSE_TITLE = r"\s*(?:[.:\-\u2013\u2014]\s*|\s+)(?P<title>\S.*)"


def _heading_patterns(title: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, pattern) of every heading style, each ending in the given title grammar."""
    return (("article", re.compile(_ARTICLE_WORD + r"\s+(?P<num>" + _NUMBER + ")" + title, re.IGNORECASE)),
            ("sign", re.compile(r"§\s*(?P<num>" + _NUMBER + r")\.?\s*(?P<title>.*)")),
            ("section", re.compile(_SECTION_WORD + r"\s+(?P<num>" + _SECTION_NUMBER + ")" + title, re.IGNORECASE)),
            ("division", re.compile(r"(?P<division>chapter|title|part|book)\s+(?P<num>[ivxlcdm]+|\d+)" + title,
                                    re.IGNORECASE)))


_HEADINGS = _heading_patterns(_TITLE)
_MARKED_HEADINGS = _heading_patterns("(?:" + _LOOSE_TITLE + ")?")

# Running text: "Article 33", "[Article 33(1)(a)]", "Articles 5 and 6", "Art. 17", "Artículo 4", "§ 12"
_REFERENCE = re.compile(
    r"\b" + _ARTICLE_WORD + r"\s*(?P<first>" + _NUMBER + ")" + _SUBDIVISIONS
    + r"(?P<more>(?:\s*(?:,|and|or|&|y)\s*" + _NUMBER + _SUBDIVISIONS + r")*)"
    r"|§\s*(?P<section>" + _NUMBER + ")", re.IGNORECASE)
# "[Article 4]", "[Art. 6(1)(a)]", "[Articles 15 and 17]": what a RAG answer cites (and what grounding strikes).
# "[Section 3.1]", "[Clause 7]": a section-style unit is cited by its own word and number.
CITATION_BLOCK = re.compile(r"\[\s*(?:" + _ARTICLE_WORD + "|" + _SECTION_WORD.replace("?P<style>", "?:")
                            + r")\s+([^\]]*)\]", re.IGNORECASE)
_BLOCK_NUMBER = re.compile(r"(?<![\w(.])(\d+(?:\.\d+)*[a-z]?)(?![\w).])", re.IGNORECASE)
# One article number, as every reader of citations takes it (the grounding machine too: skills/grounding.py).
ARTICLE_NUMBER = re.compile(_NUMBER, re.IGNORECASE)

_QUOTE = re.compile(r"\"([^\"\n]{3,}?)\"|“([^”\n]{3,}?)”|«([^»\n]{3,}?)»")
_SPACE = re.compile(r"\s+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "\u00a0": " "})


@dataclass(frozen=True, kw_only=True)
class UnitHeading:
    """A heading line that opens a legal unit, or a division grouping units."""

    kind: str  # "article" (Article N, Artículo N, Art. N, § N), "section" (Section 3.1) or "division" (CHAPTER II)
    number: str  # as written: "17a", "3.1"; a division's with its name: "CHAPTER II"
    title: str
    style: str = "Article"  # the word a citation names it by: "Article", "Section", "Clause", "Rule"; "" for a division
    sign: bool = False  # written with §: prose starts lines with "§ 3" too, so chunking trusts it only in short lines


def unit_heading(line: str, *, marked: bool = False) -> UnitHeading | None:
    """The unit a whole line opens ("Article 4 - Deposits", "§ 12 Repairs", "Section 3.1", "CHAPTER II"), else None.
    A marked line (a Markdown or HTML heading) may omit the separator before its title ("Section 4 Refunds")."""
    for kind, pattern in _MARKED_HEADINGS if marked else _HEADINGS:
        found = pattern.fullmatch(line)
        if found:
            number = found.group("num")
            groups = found.groupdict()
            if kind == "division":
                number = f"{found.group('division')} {number}"
            style = _style(groups["style"]) if kind == "section" else "" if kind == "division" else "Article"
            return UnitHeading(kind="article" if kind == "sign" else kind, number=number, style=style,
                               title=(groups.get("title") or "").strip(), sign=kind == "sign")
    return None


def _style(word: str) -> str:
    """The unit word as labels and citations write it: "sections" -> "Section", "cl." -> "Clause"."""
    word = word.lower().rstrip(".")
    full = {"sec": "section", "cl": "clause", "reg": "regulation", "para": "paragraph"}.get(word, word)
    return full.removesuffix("s").capitalize()


def normalise_article(number: Any) -> str:
    """'033' -> '33', '17A' -> '17a', '05.3' -> '5.3'; anything else is kept as written."""
    text = str(number).strip().lower()
    return text.lstrip("0") or text


def cited_articles(text: str) -> list[str]:
    """Article numbers cited anywhere in the text, normalised, in first-seen order, sub-paragraphs dropped
    ('6(1)(a)' -> '6')."""
    found: dict[str, None] = {}
    for match in _REFERENCE.finditer(text):
        if match.group("section"):
            found.setdefault(normalise_article(match.group("section")), None)
            continue
        found.setdefault(normalise_article(match.group("first")), None)
        for extra in ARTICLE_NUMBER.findall(re.sub(r"\(\w+\)", "", match.group("more") or "")):
            found.setdefault(normalise_article(extra), None)
    return list(found)


def block_articles(block: re.Match[str]) -> list[str]:
    """The normalised article numbers one CITATION_BLOCK match names ("[Articles 15 and 17(2)]" -> 15, 17)."""
    return [normalise_article(n) for n in _BLOCK_NUMBER.findall(re.sub(r"\([^)]*\)", " ", block.group(1)))]


def bracketed_articles(text: str) -> list[str]:
    """Article numbers cited in [Article N] blocks only, normalised, in order, each once; bare mentions
    ("Article 5 says") are not citations here."""
    found: dict[str, None] = {}
    for block in CITATION_BLOCK.finditer(text):
        for number in block_articles(block):
            found.setdefault(number, None)
    return list(found)


def flatten(text: str) -> str:
    """Text as compared verbatim: one space for any run of whitespace, typographic quotes and dashes made plain."""
    return _SPACE.sub(" ", text.translate(_TRANSLATE)).strip()


def quoted_spans(text: str) -> list[str]:
    """Spans the text puts in double quotes (straight, curly or guillemets), trailing punctuation dropped."""
    spans = []
    for match in _QUOTE.finditer(text):
        span = flatten(next(g for g in match.groups() if g is not None)).rstrip(".,;:").rstrip()
        if span:
            spans.append(span)
    return spans

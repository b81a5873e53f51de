"""Evidence sentences: the sentences of the retrieved units that answer the question, best first, and the
quoted answer built from them.

Given whole articles, the 135M base model copies the wrong number: asked within how many days a deposit is
returned, it answered "14 days" from the article's second paragraph (lodging the deposit) instead of the
third's "10 days" (make demo, task 1). Scoring each sentence of the top hits against the question with the
store's own embedder picks the sentence that answers; the quoted answer gives it verbatim with its unit's
citation, so it is grounded by construction (the quote is the document's text, the citation the unit it
came from). Each sentence is scored by its cosine to the question plus a share of the question's own words
it holds; a penalty per rank of its hit (the retriever's order as a prior) did not help on the tuning sets.
Not here: the generated answer and the citation checks (answer.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from skillstack.retrieval.embeddings import Embedder
from .hits import Hit

# Sentence ends (". ", "; ", ": " before a capital, a digit or an opening bracket) and line breaks: legal
# text puts each numbered paragraph and each point "(a)" on its own line or after a colon.
_SPLIT = re.compile(r"(?<=[.;:])\s+(?=[(A-Z0-9\"'])|\n+")
MIN_CHARS = 25  # shorter pieces are headings, numbers or "(a)" fragments, never an answer on their own
LEXICAL_WEIGHT = 0.2  # the share of the question's stemmed words the sentence holds, in cosine units (tuning sets)
QUOTED_SENTENCES = 3  # the best sentence, and the next ones when they come from the same unit (tuning sets: 1 < 2 < 3)


@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved hit and its score against the question (higher is better)."""

    hit: Hit
    sentence: str
    score: float


def sentences(text: str) -> list[str]:
    """The text's sentences and paragraph lines long enough to answer something."""
    return [piece.strip() for piece in _SPLIT.split(text) if len(piece.strip()) >= MIN_CHARS]


def rank_evidence(question: str, hits: Sequence[Hit], embedder: Embedder) -> list[Evidence]:
    """Every sentence of the hits, best first: cosine to the question plus LEXICAL_WEIGHT times the share of
    the question's words it holds."""
    from skillstack.retrieval.lexical import tokenize

    candidates = [(sentence, hit) for hit in hits for sentence in sentences(hit.text)]
    if not candidates:
        return []
    texts = [question] + [sentence for sentence, _ in candidates]
    vectors = embedder.embed(texts)
    similarity = vectors[1:] @ vectors[0]  # the embedder's vectors are normalised: a dot product is the cosine
    # Words catch what a 384-d vector of a long sentence blurs: the question's own terms ("return", "deposit").
    words = [set(tokens) for tokens in tokenize(texts)]
    asked = words[0] or {""}
    scored = [Evidence(hit=hit, sentence=sentence,
                       score=float(similarity[i]) + LEXICAL_WEIGHT * len(asked & words[i + 1]) / len(asked))
              for i, (sentence, hit) in enumerate(candidates)]
    return sorted(scored, key=lambda evidence: -evidence.score)  # stable: ties keep the hits' order


def quoted_evidence(ranked: Sequence[Evidence]) -> list[Evidence]:
    """The sentences to quote: the best one, then up to QUOTED_SENTENCES - 1 more from the same unit, in the
    unit's own order (a rule and its condition are often two sentences of one paragraph)."""
    if not ranked:
        return []
    best = ranked[0]
    same_unit = [e for e in ranked[1:] if e.hit.unit == best.hit.unit][:QUOTED_SENTENCES - 1]
    chosen = [best, *same_unit]
    order = sentences(best.hit.text)
    return sorted(chosen, key=lambda e: order.index(e.sentence) if e.sentence in order else len(order))


def quote_answer(evidence: Sequence[Evidence]) -> str:
    """The answer text: where the text comes from, the sentences verbatim in quotes, the unit's citation block."""
    hit = evidence[0].hit
    quote = " ".join(e.sentence for e in evidence)
    if not hit.article:
        title = hit.metadata.get("title") or hit.source.rsplit("/", 1)[-1]
        return f'{title} says: "{quote}"'
    return f'{hit.cite_as} says: "{quote}" [{hit.cite_as}]'


__all__ = ["Evidence", "quote_answer", "quoted_evidence", "rank_evidence", "sentences"]

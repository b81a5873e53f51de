"""The citation gate: a pure verdict on one analysis against the chunks retrieved for it.

Every article the analysis cites must be among the retrieved chunks, and every quoted span must appear
verbatim in them (or in the facts themselves). Not here: reading the citations (citations.py) or the
note sent with a regeneration (prompts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .citations import cited_articles, flatten, normalise_article, quoted_spans


@dataclass(kw_only=True)
class GateResult:
    """The citation gate's verdict on one analysis."""

    ok: bool
    citations: list[dict[str, Any]] = field(default_factory=list)  # {"article", "verified", "source"}
    unknown_articles: list[str] = field(default_factory=list)
    bad_quotes: list[str] = field(default_factory=list)
    allowed_articles: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        """One line saying why the gate failed (empty when it passed)."""
        if self.ok:
            return ""
        parts = []
        if self.unknown_articles:
            parts.append("cites articles that were not retrieved: " + ", ".join(self.unknown_articles))
        if self.bad_quotes:
            parts.append("quotes text not found verbatim: " + "; ".join(self.bad_quotes))
        return "; ".join(parts) or "cites no retrieved article"


def article_sources(hits: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Retrieved article number -> the source it came from (the best-ranked hit wins)."""
    sources: dict[str, str] = {}
    for hit in hits:
        article = (hit.get("metadata") or {}).get("article")
        if article not in (None, ""):
            sources.setdefault(normalise_article(article), str(hit.get("source", "")))
    return sources


def check_citations(text: str, hits: Sequence[dict[str, Any]], *, facts: str = "") -> GateResult:
    """The citation gate: pass only if the analysis cites at least one article, every cited article was
    retrieved, and every quoted span appears verbatim in a retrieved chunk (or in the facts).

    Each citation comes back as {"article", "verified", "source"}; source is None for an article that
    was never retrieved.
    """
    allowed = article_sources(hits)
    cited = cited_articles(text)
    citations = [{"article": a, "verified": a in allowed, "source": allowed.get(a)} for a in cited]
    unknown = [a for a in cited if a not in allowed]
    haystacks = [flatten(str(hit.get("text", ""))) for hit in hits] + ([flatten(facts)] if facts else [])
    bad_quotes = [q for q in quoted_spans(text) if not any(q in h for h in haystacks)]
    ok = bool(cited) and not unknown and not bad_quotes
    return GateResult(ok=ok, citations=citations, unknown_articles=unknown, bad_quotes=bad_quotes,
                      allowed_articles=list(allowed))

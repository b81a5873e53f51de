"""Text similarity for dataset tools: normalisation, word n-grams, and near-duplicate pairs.

Near-duplicates are found without scoring all pairs: texts are indexed by word bigrams, each text
probes the index with its rarest bigrams, and only the best-sharing candidates are scored with
rapidfuzz. No file reading here.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (punctuation and spacing dropped)."""
    return _WORD.findall(text.lower())


def normalise(text: str) -> str:
    """The text as its words joined by single spaces: equal for texts differing only in case, spacing, punctuation."""
    return " ".join(words(text))


def clip(text: str, width: int = 80) -> str:
    """The text on one line, cut to width characters (for evidence in reports)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """The word n-grams of a token list; a text shorter than n words is its one n-gram (empty: none)."""
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def _shingles(text: str) -> set[tuple[str, str]]:
    # Boundary marks give one- and two-word texts shingles too.
    tokens = ["^", *text.split(), "$"]
    return set(zip(tokens, tokens[1:]))


def near_pairs(queries: Sequence[str], choices: Sequence[str] | None = None, *, threshold: float = 90.0,
               probes: int = 8, candidates: int = 20) -> list[tuple[int, int, float]]:
    """(query index, choice index, score) for pairs scoring at least `threshold` (rapidfuzz ratio, 0-100).

    Texts should be normalised and distinct. choices None: pairs within queries (query index < choice index).
    Each query looks up its `probes` rarest bigrams and scores its `candidates` best-sharing texts: a
    near-duplicate shares nearly all bigrams, so it is among them, while common bigrams cost nothing.
    """
    from rapidfuzz import fuzz

    same = choices is None
    pool = queries if choices is None else choices
    index: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for j, text in enumerate(pool):
        for shingle in _shingles(text):
            index[shingle].append(j)
    pairs: list[tuple[int, int, float]] = []
    for i, text in enumerate(queries):
        shared: Counter[int] = Counter()
        for shingle in sorted(_shingles(text), key=lambda s: len(index.get(s, ())))[:probes]:
            shared.update(index.get(shingle, ()))
        if same:
            shared = Counter({j: n for j, n in shared.items() if j > i})
        for j, _ in shared.most_common(candidates):
            score = fuzz.ratio(text, pool[j], score_cutoff=threshold)
            if score:
                pairs.append((i, j, round(score, 1)))
    return pairs

"""Grounded decoding's pure core: what a generated text may cite and quote, as a character state machine.

A `Grounding` names the article numbers that were retrieved and the texts quotes must come from.
`GroundingMachine` reads generated text one character at a time and refuses (step -> None) the first
character that would make the citation gate (agents/lawyer/gate.py `check_citations`) fail: a digit starting
an article number that was not retrieved ("Article 9", "Art. 9", "§ 9", "[Articles 5 and 9]", matched
like the gate's regex), or a character inside quotation marks ("...", “...”, «...») that no retrieved
text continues with (whitespace-normalised). Outside citations and quotes every character is allowed.
Inside brackets ("[Article 5, 6(1)]") the grammar is strict, because the RAG answer's citation parser
reads every number in the block. Not here: tokens, vocabularies and torch (grounded_decoding.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from skillstack.agents.lawyer.citations import ARTICLE_NUMBER, normalise_article

_OPENERS = {'"': '"', "“": "”", "«": "»"}
_KEYWORDS = ("article", "artículo", "art.")
# "Art" without its dot: the gate's regex (art\.?) reads "Art 5" and even "Art5" as citing Article 5, in a
# bracket block or in running text, so it is a keyword once a space or a digit follows it.
_UNDOTTED_KEYWORD = "art"
_PREFIXES = frozenset(k[:n] for k in (*_KEYWORDS, _UNDOTTED_KEYWORD) for n in range(1, len(k) + 1))
# Between two numbers: the gate's regex accepts one of these; a bracket block also allows ", and" and a keyword.
_SEPARATORS = (",", "and", "or", "&", "y")
_BRACKET_SEPARATORS = tuple(s + k for s in (",", "and", "or", "&", ",and", ",or")
                            for k in ("", "article", "articles", "artículo", "artículos", "art.", "§"))
_MIN_QUOTE = 3  # the gate only checks quotes of at least three characters; shorter ones are not closed


@dataclass(frozen=True)
class Grounding:
    """What one answer may cite (article numbers as the gate normalises them) and quote (source texts)."""

    articles: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, articles: Iterable[Any], sources: Iterable[str]) -> Grounding:
        """From raw article labels (only those the gate can read as a number) and raw texts."""
        numbers = {normalise_article(a) for a in articles if a not in (None, "")}
        return cls(articles=tuple(sorted(n for n in numbers if ARTICLE_NUMBER.fullmatch(n))),
                   sources=tuple(dict.fromkeys(str(s) for s in sources if str(s).strip())))


def sensitive(text: str) -> bool:
    """Whether text could be refused outside quotes and citations: only a digit (an article number)
    or an opening quote mark can be."""
    return any(c.isdecimal() or c in _OPENERS for c in text)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


@dataclass(frozen=True)
class _Cite:
    """Where the text stands in a possible citation: mode is free | word | keyword | number | dot | after | sub | sep."""

    mode: str = "free"
    bracket: bool = False
    text: str = ""  # the keyword, number or separator read so far (lower case)
    pending: str = ""  # characters after a number not yet known to continue the citation
    plural: bool = False  # an "s" may still follow the keyword ("Articles")
    prev: str = " "  # the last character read (for the gate's \b before a keyword)
    sig: str = ""  # the last non-space character read ("[" before a keyword opens a bracket block)
    anchor: tuple[str, str] = (" ", "")  # prev and sig before pending, to read pending again as free text


class _Quote:
    """Inside quotation marks: the source positions where the quote so far (whitespace-normalised) ends."""

    __slots__ = ("closer", "length", "positions", "space", "_nexts")

    def __init__(self, closer: str, length: int, positions: tuple[int, ...] | None, space: bool) -> None:
        self.closer, self.length, self.positions, self.space = closer, length, positions, space
        self._nexts: dict[str, tuple[int, ...]] | None = None

    def nexts(self, corpus: str, first: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        """Next non-space character -> positions after it (after a space when one is pending)."""
        if self._nexts is None:
            if self.positions is None:
                self._nexts = first
            else:
                grouped: dict[str, list[int]] = {}
                skip = 1 if self.space else 0
                for p in self.positions:
                    if skip and corpus[p] != " ":
                        continue
                    grouped.setdefault(corpus[p + skip], []).append(p + skip + 1)
                self._nexts = {c: tuple(ps) for c, ps in grouped.items() if c not in " \x00"}
        return self._nexts


@dataclass(frozen=True)
class State:
    cite: _Cite = field(default_factory=_Cite)
    quote: _Quote | None = None

    @property
    def calm(self) -> bool:
        """Outside any quote and citation: only characters that open one can be refused."""
        return self.quote is None and self.cite.mode == "free"

    @property
    def calm_key(self) -> tuple[bool, bool]:
        return _is_word(self.cite.prev), self.cite.sig == "["


class GroundingMachine:
    """The state machine for one Grounding; states are immutable, so a search can branch from any of them."""

    def __init__(self, grounding: Grounding) -> None:
        self.grounding = grounding
        self.numbers = frozenset(grounding.articles)
        # What a number may be while it is written: digits and inner dots ("5", "5.", "5.3" of an allowed 5.3).
        self.digit_prefixes = frozenset(n[:k] for n in self.numbers for k in range(1, len(n) + 1)
                                        if n[:k].replace(".", "").isdigit())
        # One corpus, sources separated by a character no quote can contain; positions index into it.
        self.corpus = "\x00".join(" ".join(s.split()) for s in grounding.sources) + "\x00"
        first: dict[str, list[int]] = {}
        for p, char in enumerate(self.corpus):
            if char not in " \x00":
                first.setdefault(char, []).append(p + 1)
        self.first = {c: tuple(ps) for c, ps in first.items()}
        self.start = State()

    # -- the whole machine ----------------------------------------------------------------------------------

    def advance(self, state: State | None, text: str) -> State | None:
        """The state after text, or None if some character of it is refused."""
        for char in text:
            if state is None:
                return None
            state = self.step(state, char)
        return state

    def can_end(self, state: State) -> bool:
        """Whether the text may stop here (no open quote, no half-written article number)."""
        cite = state.cite
        return state.quote is None and (cite.mode != "number" or self._complete(cite.text))

    def step(self, state: State, char: str) -> State | None:
        quote = state.quote
        if quote is not None:
            quote = self._quote_step(quote, char)
            if quote is None:
                return None
        elif char in _OPENERS:
            quote = _Quote(_OPENERS[char], 0, None, False)
        cite = self._cite_step(state.cite, char, state.quote is not None)
        if cite is None:
            return None
        return State(cite=cite, quote=None if quote is _CLOSED else quote)

    def allowed_chars(self, state: State) -> set[str] | None:
        """Inside a quote, the only characters that can follow (a superset; None = any)."""
        quote = state.quote
        if quote is None:
            return None
        chars = set(quote.nexts(self.corpus, self.first))
        if self.may_close(quote):
            chars.add(quote.closer)
        return chars

    def may_close(self, quote: _Quote) -> bool:
        """A quote may close once it is long enough for the gate and ends where a source word ends: a quote
        cut inside a word ("shall return the de") is a true substring that no reader would accept."""
        return quote.length >= _MIN_QUOTE and quote.positions is not None and \
            (quote.space or any(not self.corpus[p].isalnum() for p in quote.positions))

    # -- quotes ---------------------------------------------------------------------------------------------

    def _quote_step(self, quote: _Quote, char: str) -> _Quote | None:
        if char == quote.closer:
            return _CLOSED if self.may_close(quote) else None
        if char == "\n":  # the gate's quote pattern stops at a line end, so a quote may not span one
            return None
        if char.isspace():
            # Any run of spaces matches one space of the source; leading spaces match anywhere.
            if quote.positions is not None and not quote.space \
                    and not any(self.corpus[p] == " " for p in quote.positions):
                return None
            return _Quote(quote.closer, quote.length + 1, quote.positions, quote.positions is not None)
        positions = quote.nexts(self.corpus, self.first).get(char)
        if not positions:
            return None
        return _Quote(quote.closer, quote.length + 1, positions, False)

    # -- citations ------------------------------------------------------------------------------------------

    def _cite_step(self, cite: _Cite, char: str, in_quote: bool) -> _Cite | None:
        mode, lower = cite.mode, char.lower()
        if mode == "free":
            return _free(cite, char)
        if mode == "word":
            word = cite.text + lower
            if word in _KEYWORDS:
                return _moved(cite, char, mode="keyword", text="", plural=word != "art.")
            if word in _PREFIXES:
                return _moved(cite, char, text=word)
            if cite.text == _UNDOTTED_KEYWORD and (char.isspace() or char.isdecimal()):
                keyword = replace(cite, mode="keyword", text="", plural=False)
                return _moved(keyword, char) if char.isspace() else self._number_start(keyword, char, in_quote)
            return self._abandon(cite, char, in_quote)
        if mode == "keyword":
            if char.isspace() or (lower == "s" and cite.plural):
                return _moved(cite, char, plural=False)
            if char.isdecimal():
                return self._number_start(cite, char, in_quote)
            if cite.bracket:  # the RAG answer reads every number up to "]" as cited: a number must come first
                return _moved(cite, char, mode="free", bracket=False, text="") if char == "]" else None
            return self._abandon(cite, char, in_quote)
        if mode == "number":
            if char.isdecimal() or char == ".":
                digits = cite.text + char
                if digits in self.digit_prefixes:
                    return _moved(cite, char, text=digits)
                # "Article 5." ends a sentence (a digit may not follow); a bracket block has no full stop inside
                if char == "." and cite.text in self.numbers and not cite.bracket:
                    return _moved(cite, char, mode="dot")
                return None
            if cite.text.endswith("."):  # "5." of an allowed "5.3" that stops there: the gate reads "5" then "."
                if not self._complete(cite.text):
                    return None
                dot = _moved(replace(cite, text=cite.text[:-1]), ".", mode="dot")
                return self._cite_step(dot, char, in_quote)
            if char.isalpha():  # the gate reads "5a" as one number
                number = cite.text + lower
                return _moved(cite, char, mode="after", text=number) if number in self.numbers else None
            if cite.text not in self.numbers:
                return None
            return self._cite_step(replace(cite, mode="after"), char, in_quote)
        if mode == "dot":  # a whole number, then "." and no digit: a sentence's full stop after the citation
            if char.isdecimal():
                return None
            after = self._cite_step(replace(cite, mode="after"), ".", in_quote)
            return None if after is None else self._cite_step(after, char, in_quote)
        if mode == "after":
            if cite.bracket and char == "]":
                return _moved(cite, char, mode="free", bracket=False, text="")
            anchored = replace(cite, anchor=(cite.prev, cite.sig), text="", pending="")
            if char == "(":
                return _moved(anchored, char, mode="sub", pending=char)
            return self._separator(replace(anchored, mode="sep"), char, in_quote)
        if mode == "sub":  # "(1)", "(a)": sub-paragraphs, never article numbers
            if _is_word(char):
                return _moved(cite, char, text=cite.text + char, pending=cite.pending + char)
            if char == ")" and cite.text:
                return _moved(cite, char, mode="after", text="", pending="")
            return None if cite.bracket else self._abandon(cite, cite.pending + char, in_quote, anchored=True)
        return self._separator(cite, char, in_quote)

    def _complete(self, number: str) -> bool:
        """Whether a number written so far reads as an allowed one ("5." reads as "5" and a full stop)."""
        return number in self.numbers or (number.endswith(".") and number[:-1] in self.numbers)

    def _separator(self, cite: _Cite, char: str, in_quote: bool) -> _Cite | None:
        """Between numbers: spaces, then a separator; a digit after a complete one starts the next number."""
        separators = _BRACKET_SEPARATORS if cite.bracket else _SEPARATORS
        if char.isdecimal() and cite.text in separators:
            return self._number_start(cite, char, in_quote)
        if cite.bracket and char == "]" and not cite.text:
            return _moved(cite, char, mode="free", bracket=False, text="", pending="")
        if char.isspace():
            fits = not cite.text or cite.text in separators  # no space inside a separator word
            text = cite.text
        else:
            text = cite.text + char.lower()
            fits = any(s.startswith(text) for s in separators)
        if fits:
            return _moved(cite, char, text=text, pending=cite.pending + char)
        return None if cite.bracket else self._abandon(cite, cite.pending + char, in_quote, anchored=True)

    def _number_start(self, cite: _Cite, char: str, in_quote: bool) -> _Cite | None:
        # Inside a quote no number may start: it could be an unretrieved one the source continues with.
        if in_quote or char not in self.digit_prefixes:
            return None
        return _moved(cite, char, mode="number", text=char, pending="")

    def _abandon(self, cite: _Cite, chars: str, in_quote: bool, *, anchored: bool = False) -> _Cite | None:
        """Not a citation after all: read chars again as free text (a keyword may start inside them)."""
        prev, sig = cite.anchor if anchored else (cite.prev, cite.sig)
        state: _Cite | None = _Cite(prev=prev, sig=sig)
        for char in chars:
            state = self._cite_step(state, char, in_quote)
            if state is None:
                return None
        return state


def _moved(cite: _Cite, char: str, **changes: Any) -> _Cite:
    """cite with changes, having read char (prev and sig follow the text)."""
    return replace(cite, prev=char, sig=cite.sig if char.isspace() else char, **changes)


def _free(cite: _Cite, char: str) -> _Cite:
    """Free text: a keyword may start here ("§" anywhere, "Art..." at a word boundary, as in the gate)."""
    bracket = cite.sig == "["
    if char == "§":
        return _moved(cite, char, mode="keyword", bracket=bracket, text="", plural=False)
    if char.lower() == "a" and not _is_word(cite.prev):
        return _moved(cite, char, mode="word", bracket=bracket, text="a")
    return _moved(cite, char, mode="free", bracket=False, text="", pending="")


_CLOSED = _Quote("", 0, None, False)  # sentinel: the quote just closed

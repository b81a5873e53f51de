"""Grounded decoding over a real vocabulary: which token ids the grounding state machine allows next.

`TokenVocabulary` holds each token's decoded text once per tokenizer, sorted, so the tokens sharing a
prefix form one contiguous range (a prefix tree without nodes). `allowed_tokens` walks that tree from
a state of skills/grounding.py's machine: outside quotes and citations a cached answer (every token
without a digit or an opening quote mark, plus those of the rest that pass); inside, only the branches
the machine accepts. `GroundingProcessor` is the thin transformers adapter for one batch row, and
`grounded` binds a Grounding to a chat model that can decode under it. Not here: the rules (grounding.py).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from .grounding import Grounding, GroundingMachine, State, sensitive

_lock = threading.Lock()
_vocabularies: dict[int, TokenVocabulary] = {}


class TokenVocabulary:
    """Token texts sorted for prefix search; end tokens (special or empty) are kept apart."""

    def __init__(self, texts: Sequence[str], end_ids: Iterable[int]) -> None:
        import numpy as np

        self.size = len(texts)
        ends = set(end_ids) | {i for i, text in enumerate(texts) if not text}
        order = sorted((text, i) for i, text in enumerate(texts) if i not in ends)
        self.texts = [text for text, _ in order]
        self.ids = np.array([i for _, i in order], dtype=np.int64)
        refusable = np.array([sensitive(text) for text in self.texts], dtype=bool)
        self.plain = ~refusable
        self.sensitive_at = np.flatnonzero(refusable)  # sorted positions of the sensitive tokens
        self.end_ids = np.array(sorted(ends), dtype=np.int64)
        self.by_id = list(texts)

    def children(self, lo: int, hi: int, depth: int) -> Iterable[tuple[str | None, int, int]]:
        """The ranges below the node texts[lo:hi] share depth characters with: (next char, lo, hi);
        char None for the one token that ends at this node."""
        i = lo
        while i < hi:
            text = self.texts[i]
            if len(text) == depth:
                yield None, i, i + 1
                i += 1
                continue
            char = text[depth]
            j = bisect_left(self.texts, text[:depth] + chr(ord(char) + 1), i, hi) if ord(char) < 0x10FFFF else hi
            yield char, i, j
            i = j


def token_vocabulary(tokenizer: Any) -> TokenVocabulary:
    """The tokenizer's vocabulary, decoded once per tokenizer (decode of one id is how generated text grows)."""
    key = id(tokenizer)
    with _lock:
        if key not in _vocabularies:
            texts = [tokenizer.decode([i]) for i in range(len(tokenizer))]
            _vocabularies[key] = TokenVocabulary(texts, tokenizer.all_special_ids)
        return _vocabularies[key]


class GroundedSearch:
    """allowed_tokens for one grounding; the answer outside quotes and citations is cached."""

    def __init__(self, vocabulary: TokenVocabulary, machine: GroundingMachine) -> None:
        self.vocabulary = vocabulary
        self.machine = machine
        self._calm: dict[tuple[bool, bool], Any] = {}

    def allowed(self, state: State) -> Any:
        """A boolean mask over token ids: the tokens whose text the machine accepts from state.

        End tokens are allowed where the text may end; if nothing else is allowed they are, so a dead
        end (a quote the sources cannot continue) stops the answer instead of breaking the constraint.
        """
        if state.calm:
            if state.calm_key not in self._calm:
                self._calm[state.calm_key] = self._search(state)
            return self._calm[state.calm_key]
        return self._search(state)

    def _search(self, state: State) -> Any:
        import numpy as np

        mask = np.zeros(self.vocabulary.size, dtype=bool)
        self._walk(state, 0, len(self.vocabulary.texts), 0, mask)
        if self.machine.can_end(state) or not mask.any():
            mask[self.vocabulary.end_ids] = True
        return mask

    def _walk(self, state: State, lo: int, hi: int, depth: int, mask: Any) -> None:
        vocabulary = self.vocabulary
        if state.calm:  # nothing in this range can be refused but sensitive tokens: check just those
            ids = vocabulary.ids[lo:hi]
            mask[ids[vocabulary.plain[lo:hi]]] = True
            start, stop = (int(x) for x in vocabulary.sensitive_at.searchsorted([lo, hi]))
            for position in vocabulary.sensitive_at[start:stop]:
                if self.machine.advance(state, vocabulary.texts[position][depth:]) is not None:
                    mask[vocabulary.ids[position]] = True
            return
        chars = self.machine.allowed_chars(state)
        for char, start, stop in vocabulary.children(lo, hi, depth):
            if char is None:
                mask[vocabulary.ids[start]] = True
                continue
            if chars is not None and char not in chars and not char.isspace():
                continue
            after = self.machine.step(state, char)
            if after is not None:
                self._walk(after, start, stop, depth + 1, mask)


class GroundingProcessor:
    """A single-row logits processor: tokens the grounding refuses get -inf (local.py applies it per row)."""

    def __init__(self, vocabulary: TokenVocabulary, grounding: Grounding) -> None:
        self.vocabulary = vocabulary
        self.machine = GroundingMachine(grounding)
        self.search = GroundedSearch(vocabulary, self.machine)
        self.state: State = self.machine.start
        self.seen: int | None = None  # input length already read (the prompt, at the first call)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        length = input_ids.shape[1]
        if self.seen is not None:
            for token in input_ids[0, self.seen:].tolist():
                text = self.vocabulary.by_id[token] if token < self.vocabulary.size else ""
                # A refused token only arrives if another constraint on this row forced it: start afresh.
                self.state = self.machine.advance(self.state, text) or self.machine.start
        self.seen = length
        mask = torch.from_numpy(self.search.allowed(self.state))
        allowed = torch.zeros(scores.shape[-1], dtype=torch.bool, device=scores.device)
        size = min(len(mask), scores.shape[-1])
        allowed[:size] = mask[:size].to(scores.device)
        return scores.masked_fill(~allowed, float("-inf"))


def grounding_processor(tokenizer: Any, grounding: Grounding) -> GroundingProcessor:
    """A fresh processor for one request's row (its state follows that row's tokens)."""
    return GroundingProcessor(token_vocabulary(tokenizer), grounding)


def grounded(chat_model: Any, grounding: Grounding) -> Any:
    """chat_model bound to decode under grounding when it is a skill chat model; any other model unchanged
    (remote backends ignore the field; the citation gate checks their answers after the fact)."""
    from .chat_model import SkillChatModel

    return chat_model.bind(grounding=grounding) if isinstance(chat_model, SkillChatModel) else chat_model

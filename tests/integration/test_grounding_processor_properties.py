"""Property test of the grounding logits processor itself, on the real SmolLM2 vocabulary: a hostile
"model" (hypothesis) keeps wanting digits, quote marks, citation words and random tokens; whatever it
gets through the processor's mask, the finished text never cites an unretrieved article nor quotes
anything that is not verbatim in a retrieved text (the citation gate is the oracle)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings
from hypothesis import strategies as st

from skillstack.agents.lawyer.citations import bracketed_articles
from skillstack.agents.lawyer.gate import check_citations
from skillstack.models import load_tokenizer
from skillstack.settings import load_settings
from skillstack.skills.grounded_decoding import grounding_processor
from skillstack.skills.grounding import Grounding

pytestmark = pytest.mark.slow

SOURCES = ("The controller shall notify the breach not later than 72 hours after becoming aware of it.",
           "Personal data shall be processed lawfully, fairly and in a transparent manner.")
HOSTILE = ["0", "1", "3", "5", "7", "9", "33", "99", " 9", " 72", '"', ' "', "“", " “", "”", "«", "»", ".\"",
           "Article", " Article", " Articles", " Art", ".", " §", "[", " [", "]", ",", " and", "(", ")", "a",
           " the", " controller", " shall", " notify", " breach", " 48", " hours", " data", " processed"]
CLOSERS = ['"', "”", "»", "]", ".", " ", *"0123456789"]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(load_settings())


def _ids(tokenizer, texts: list[str]) -> list[int]:
    ids = []
    for text in texts:
        encoded = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(encoded) == 1:
            ids.append(encoded[0])
    return ids


def test_whatever_a_hostile_model_wants_the_decoded_text_passes_the_gate(tokenizer) -> None:
    import torch

    hostile, closers = _ids(tokenizer, HOSTILE), _ids(tokenizer, CLOSERS)
    prompt = tokenizer("Answer:", add_special_tokens=False)["input_ids"]
    vocabulary_size = len(tokenizer)

    @hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                  HealthCheck.function_scoped_fixture])
    @given(articles=st.lists(st.sampled_from(["5", "33", "17", "6", "3.2"]), max_size=3), data=st.data())
    def check(articles: list[str], data: st.DataObject) -> None:
        grounding = Grounding.of(articles, SOURCES)
        processor = grounding_processor(tokenizer, grounding)
        ids, ended = list(prompt), False
        for step in range(45):
            scores = torch.zeros(1, vocabulary_size)
            finishing = step >= 30  # head for the end: stop, or close what is open
            wanted = ([tokenizer.eos_token_id, *closers] if finishing else
                      [data.draw(st.sampled_from(hostile) | st.integers(0, vocabulary_size - 1))])
            scores[0, wanted] = torch.arange(len(wanted), 0, -1, dtype=torch.float32) + 10
            allowed = torch.isfinite(processor(torch.tensor([ids]), scores)[0])
            assert allowed.any()
            preferred = [token for token in wanted if allowed[token]]
            token = preferred[0] if preferred else data.draw(st.sampled_from(torch.nonzero(allowed).flatten().tolist()))
            if token in processor.vocabulary.end_ids.tolist():
                ended = True
                break
            ids.append(token)
        assume(ended)
        text = tokenizer.decode(ids[len(prompt):], skip_special_tokens=True)
        hits = [{"text": source, "metadata": {}} for source in SOURCES]
        hits += [{"text": "", "metadata": {"article": a}} for a in grounding.articles]
        gate = check_citations(text, hits)
        assert not gate.unknown_articles and not gate.bad_quotes, repr(text)
        assert set(bracketed_articles(text)) <= set(grounding.articles), repr(text)

    check()

"""Grounded decoding's pure core and its token search, on hand-made vocabularies: unretrieved article
numbers and non-verbatim quotes can never be generated, closing is always possible, free text is untouched.
The citation gate (agents/lawyer.py) is the oracle."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skillstack.agents.lawyer.gate import check_citations
from skillstack.agents.lawyer.citations import bracketed_articles
from skillstack.skills.grounded_decoding import GroundedSearch, TokenVocabulary
from skillstack.skills.grounding import Grounding, GroundingMachine

SOURCES = ["The controller shall notify the breach within 72 hours.",
           "Personal data shall be processed lawfully, as referred to in Article 89(1)."]
GROUNDING = Grounding.of(["33", "5", "17"], SOURCES)
HITS = [{"text": SOURCES[0], "metadata": {"article": "33"}}, {"text": SOURCES[1], "metadata": {"article": "5"}},
        {"text": "", "metadata": {"article": "17"}}]
END = "<end>"
WORDS = ["Article", " Article", "Articles", " Art.", "§", "[", " [", "]", "].", " ", ",", " and", "(", ")", "1", "a",
         '"', ' "', '."', '",', "“", " “", "”", "\n", ".", " the", "The", " controller", " shall", " notify", " breach",
         " within", " 72", " hours", " in", " 48", " days", " data", " processed", " lawfully", " referred", " to",
         " as", " Personal", "s", "e", "h", " x", "[Article ", '"The', *"0123456789", END]


def search_for(words: list[str], grounding: Grounding = GROUNDING) -> tuple[TokenVocabulary, GroundingMachine,
                                                                            GroundedSearch]:
    vocabulary = TokenVocabulary([w if w != END else "" for w in words], [words.index(END)])
    machine = GroundingMachine(grounding)
    return vocabulary, machine, GroundedSearch(vocabulary, machine)


def allowed_after(text: str, words: list[str] = WORDS, grounding: Grounding = GROUNDING) -> set[str]:
    vocabulary, machine, search = search_for(words, grounding)
    state = machine.advance(machine.start, text)
    assert state is not None, text
    return {words[i] for i in np.flatnonzero(search.allowed(state))}


def test_inside_a_citation_only_retrieved_numbers_then_a_close_or_a_separator_can_follow():
    assert allowed_after("See [Article ") & set("0123456789") == {"1", "3", "5"}
    assert not allowed_after("See [Article ") & {" the", " x", "("}  # a number must come first
    assert allowed_after("See [Article 3") & set("0123456789") == {"3"}
    after_number = allowed_after("See [Article 33")
    assert {"]", "].", ",", " and", "("} <= after_number and not after_number & {" the", " x", ".", "9"}


def test_a_bare_article_mention_is_held_to_retrieved_numbers_like_the_gate_reads_it():
    assert allowed_after("Under Article ") & set("0123456789") == {"1", "3", "5"}
    assert allowed_after("Under Art. 17 and ") & set("0123456789") == {"1", "3", "5"}
    assert allowed_after("§ ") & set("0123456789") == {"1", "3", "5"}
    assert "9" in allowed_after("particle ")  # not a citation: no word boundary before "article"


def test_inside_a_quote_only_verbatim_continuations_or_the_closing_mark_can_follow():
    assert allowed_after('It says "notify the breach') & {" within", " in", '"', '."'} == {" within", '"'}
    assert {'"', '."', '",'} <= allowed_after('It says "notify the breach within 72 hours')
    assert allowed_after('It says “notify') & {" the", " breach", "”"} == {" the", "”"}


def test_a_quote_cannot_close_before_three_characters_inside_a_source_word_nor_cross_a_line_end():
    assert '"' not in allowed_after('Say "Th')
    assert '"' not in allowed_after('Say "notify the brea') and '"' in allowed_after('Say "notify the breach')
    assert '"' not in allowed_after('Say "within 72 hour') and "s" in allowed_after('Say "within 72 hour')
    assert "\n" not in allowed_after('Say "The controller')


def test_a_quote_may_not_carry_an_article_number_even_a_verbatim_one():
    assert not allowed_after('"as referred to in Article ') & set("0123456789")
    assert '"' in allowed_after('"as referred to in Article ')


def test_text_outside_citations_and_quotes_is_not_constrained():
    free = allowed_after("The landlord kept the deposit")
    assert free >= set(WORDS) - {'"The'} - {END} - set("0123456789") | {END}
    assert set("0123456789") <= free  # digits are free when no citation is open


def test_a_token_that_opens_a_quote_is_held_to_the_sources_too():
    assert '"The' in allowed_after("It says ")
    _, machine, _ = search_for(WORDS, Grounding.of(["5"], ["the controller"]))
    assert machine.advance(machine.start, 'It says "The') is None


def test_the_end_of_the_answer_waits_for_an_open_quote_or_number_to_close():
    assert END not in allowed_after('Say "The controller')
    assert END not in allowed_after("Under Article 3")
    assert END in allowed_after("Under Article 33")


def test_a_dead_end_stops_the_answer_instead_of_breaking_the_constraint():
    words = ["x", ' "', "y", END]
    assert allowed_after('a "x', words, Grounding.of([], ["xz"])) == {END}


def test_with_nothing_retrieved_no_article_number_can_be_written():
    _, machine, search = search_for(WORDS, Grounding())
    state = machine.advance(machine.start, "[Article ")
    assert not {WORDS[i] for i in np.flatnonzero(search.allowed(state))} & set("0123456789")


@st.composite
def groundings(draw: st.DrawFn) -> Grounding:
    alphabet = st.sampled_from(list("abc 1.,\"“”'"))
    sources = draw(st.lists(st.text(alphabet, min_size=1, max_size=30), min_size=1, max_size=3))
    numbers = draw(st.lists(st.from_regex(r"[1-9][0-9]?(\.[1-9])?", fullmatch=True), max_size=3))
    return Grounding.of(numbers, sources)


@settings(max_examples=150, deadline=None)
@given(grounding=groundings(), data=st.data())
def test_any_finished_path_of_allowed_tokens_passes_the_citation_gate(grounding: Grounding, data: st.DataObject) -> None:
    words = sorted({*WORDS, *"abc 1.,\"“”'", " a", "bc", "c ", " 1", "a.", '" ', "” "})
    vocabulary, machine, search = search_for(words, grounding)
    state, text = machine.start, ""
    for step in range(80):
        choices = [words[i] for i in np.flatnonzero(search.allowed(state))]
        assert choices, text  # something can always follow
        if state.quote is not None and machine.may_close(state.quote):
            assert state.quote.closer in choices  # closing a long enough quote at a word's end is always possible
        # After 40 tokens the path heads for its end: stop, close the quote, or finish the number.
        closing = [w for w in (END, state.quote and state.quote.closer) if w in choices] if step >= 40 else []
        word = closing[0] if closing else data.draw(st.sampled_from(choices))
        if word == END:
            break
        text += word
        state = machine.advance(state, word)
        assert state is not None
    hits = [{"text": s, "metadata": {}} for s in grounding.sources]
    hits += [{"text": "", "metadata": {"article": a}} for a in grounding.articles]
    gate = check_citations(text, hits)
    assert not gate.unknown_articles and not gate.bad_quotes, repr(text)
    assert set(bracketed_articles(text)) <= set(grounding.articles), repr(text)


def test_hand_written_paths_the_machine_accepts_pass_the_gate_and_those_it_refuses_do_not():
    _, machine, _ = search_for(WORDS)
    passing = ['Under [Article 33] the controller must act "within 72 hours".', "[Articles 5, 17, and 33(1)(a)]",
               "[Article 5 and Article 17] apply.", "“processed  lawfully,” says Article 5."]
    refused = ["See [Article 34].", 'It says "notify the breach in 72 hours".', "[Article 5 of 2016]",
               '"as referred to in Article 89(1)"']
    for text in passing:
        assert machine.advance(machine.start, text) is not None and check_citations(text, HITS).ok, text
    for text in refused:
        unretrieved = set(bracketed_articles(text)) - set(GROUNDING.articles)
        assert machine.advance(machine.start, text) is None and (unretrieved or not check_citations(text, HITS).ok)


def test_undotted_art_is_held_to_retrieved_numbers_as_the_gate_reads_it():
    # Found by the processor property test: the gate's "art\.?" reads "Art 9" and "Art9" as citing Article 9.
    _, machine, _ = search_for(WORDS)
    for text in ("Art 9", "Art9", "see art 34 now"):
        assert machine.advance(machine.start, text) is None and check_citations(text, HITS).unknown_articles, text
    for text in ("Art 5 applies", "Art33", "[Art 17]", "Arts and crafts 9", "Art, 9"):
        assert machine.advance(machine.start, text) is not None and not check_citations(text, HITS).unknown_articles


def test_a_codes_dotted_numbers_are_cited_whole_and_a_full_stop_still_ends_a_sentence():
    hits = [{"text": "A member may cancel within 10 days.", "metadata": {"article": "3.2"}},
            {"text": "", "metadata": {"article": "5"}}]
    _, machine, _ = search_for(WORDS, Grounding.of(["3.2", "5"], [hits[0]["text"]]))
    passing = ["Under [Article 3.2] the member may cancel.", "Article 3.2 applies, and so does Article 5.",
               "[Articles 3.2 and 5]", "See Article 5. Then"]
    refused = ["Under Article 3.3", "Article 5.3 says", "[Article 5.]", "Under Article 3. So"]
    for text in passing:
        state = machine.advance(machine.start, text)
        assert state is not None and machine.can_end(state) and check_citations(text, hits).ok, text
    for text in refused:
        assert machine.advance(machine.start, text) is None, text
    assert check_citations("Article 5.3 says so.", hits).unknown_articles == ["5.3"]  # never read as Article 5
    assert not machine.can_end(machine.advance(machine.start, "Under Article 3."))  # 3 alone was not retrieved

"""Evidence sentences: how retrieved text is split into quotable sentences and how the quote is put together."""

from __future__ import annotations

from skillstack.retrieval.evidence import Evidence, quote_answer, quoted_evidence, sentences
from skillstack.retrieval.hits import Hit

ARTICLE = Hit(text=("Article 4 — Deposits\n1. A deposit shall not exceed the equivalent of four weeks' rent.\n"
                    "2. The landlord shall lodge the deposit within 14 days of receiving it.\n"
                    "3. Within 10 days after the tenancy ends, the landlord shall return the deposit in full."),
              score=1.0, source="/docs/code.md", metadata={"kind": "article", "article": "4", "title": "Deposits"})
TABLE = Hit(text="Annex\nReturn a deposit after the tenancy ends 10 days 4", score=0.9, source="/docs/data.html",
            metadata={"kind": "section", "title": "Annex"})


def test_sentences_are_the_paragraphs_and_headings_and_numbers_are_dropped():
    assert sentences(ARTICLE.text) == [
        "A deposit shall not exceed the equivalent of four weeks' rent.",
        "The landlord shall lodge the deposit within 14 days of receiving it.",
        "Within 10 days after the tenancy ends, the landlord shall return the deposit in full."]


def test_sentences_split_after_semicolons_and_colons_before_a_new_point():
    text = ("The notification shall at least contain the following: (a) the nature of the personal data breach; "
            "(b) the name of the data protection officer. Short line.")
    assert sentences(text) == ["The notification shall at least contain the following:",
                               "(a) the nature of the personal data breach;",
                               "(b) the name of the data protection officer."]


def test_quote_takes_the_best_sentence_and_more_of_its_unit_in_document_order():
    parts = sentences(ARTICLE.text)
    ranked = [Evidence(ARTICLE, parts[2], 0.9), Evidence(TABLE, sentences(TABLE.text)[0], 0.8),
              Evidence(ARTICLE, parts[0], 0.5)]
    chosen = quoted_evidence(ranked)
    assert [e.sentence for e in chosen] == [parts[0], parts[2]]  # the table's row is another unit: left out
    assert quote_answer(chosen) == f'Article 4 says: "{parts[0]} {parts[2]}" [Article 4]'


def test_quote_from_a_unit_without_a_number_names_its_title_and_cites_nothing():
    chosen = quoted_evidence([Evidence(TABLE, sentences(TABLE.text)[0], 0.7)])
    assert quote_answer(chosen) == 'Annex says: "Return a deposit after the tenancy ends 10 days 4"'
    assert quoted_evidence([]) == []

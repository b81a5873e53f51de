"""The citation gate and the lawyer flow's pure steps: verified citations, verbatim quotes, issue finding, hit fusion."""

from __future__ import annotations

from skillstack.agents.lawyer.flow import articles_for_prompt, identify_issues, merge_hits
from skillstack.agents.lawyer.gate import check_citations

HITS = [
    {"text": "The landlord shall return the deposit within 30 days after the tenancy ends.", "score": 0.9,
     "source": "demo/docs/tenancy.md", "metadata": {"article": "12", "title": "Deposits", "chunk_id": "a"}},
    {"text": "Rent may be increased once a year with three months' written notice.", "score": 0.7,
     "source": "demo/docs/tenancy.md", "metadata": {"article": "7", "title": "Rent", "chunk_id": "b"}},
]


def test_analysis_citing_only_retrieved_articles_with_verbatim_quotes_passes():
    text = ("Issue: deposit.\nRule: [Article 12] requires return \"within 30 days after the tenancy ends\".\n"
            "Application: 45 days passed.\nConclusion: breach of [Article 12].")
    result = check_citations(text, HITS)
    assert result.ok and result.problem == ""
    assert result.citations == [{"article": "12", "verified": True, "source": "demo/docs/tenancy.md"}]


def test_reasoner_citing_an_article_that_was_not_retrieved_fails_and_is_marked_unverified():
    text = "Rule: [Article 12] and [Article 99] apply.\nConclusion: the landlord must pay."
    result = check_citations(text, HITS)
    assert not result.ok
    assert result.unknown_articles == ["99"]
    assert {"article": "99", "verified": False, "source": None} in result.citations
    assert {"article": "12", "verified": True, "source": "demo/docs/tenancy.md"} in result.citations
    assert "99" in result.problem


def test_quote_not_found_verbatim_in_retrieved_text_fails():
    text = 'Rule: [Article 12] says the deposit must be returned "within 14 days".'
    result = check_citations(text, HITS)
    assert not result.ok and result.bad_quotes == ["within 14 days"]


def test_quote_matching_across_line_breaks_and_curly_apostrophes_passes():
    text = "Rule: [Article 7] needs “three months’ written\nnotice”."
    assert check_citations(text, HITS).ok


def test_quote_taken_from_the_facts_is_not_a_fabrication():
    facts = 'The tenant wrote "I am leaving on Friday".'
    text = 'Application: the tenant said "I am leaving on Friday", so [Article 12] runs from then.'
    assert check_citations(text, HITS, facts=facts).ok
    assert not check_citations(text, HITS).ok


def test_analysis_citing_nothing_fails_the_gate():
    result = check_citations("Conclusion: the landlord is wrong.", HITS)
    assert not result.ok and result.problem == "cites no retrieved article"


def test_identify_issues_puts_the_whole_case_first_then_substantial_sentences():
    facts = "Ana rented a flat. The landlord kept her deposit for two months. Is that allowed? Ok."
    issues = identify_issues(facts)
    assert issues[0] == facts
    assert "The landlord kept her deposit for two months." in issues
    assert "Ok." not in issues


def test_merge_hits_ranks_chunks_found_by_several_queries_first():
    a, b, c = ({"text": t, "source": "s", "metadata": {"chunk_id": t}} for t in "abc")
    assert [h["text"] for h in merge_hits([[a, b], [c, b], [b]], limit=2)] == ["b", "a"]


def test_articles_for_prompt_joins_chunks_of_one_article():
    parts = [dict(HITS[0]), {**HITS[0], "text": "Deductions need an itemised list."}, HITS[1]]
    articles = articles_for_prompt(parts)
    assert [a["article"] for a in articles] == ["12", "7"]
    assert articles[0]["text"].endswith("Deductions need an itemised list.")

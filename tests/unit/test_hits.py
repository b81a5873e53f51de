"""Search hits group into citable units: every part of one article is one unit; plain text chunks stand alone."""

from skillstack.retrieval.hits import Hit, distinct_units


def hit(chunk_id: str, **metadata) -> Hit:
    return Hit(text=chunk_id, score=0.0, source="/d/law.html",
               metadata={"source": "/d/law.html", "chunk_id": chunk_id, **metadata})


def test_distinct_units_keep_the_best_chunk_of_each_article_in_rank_order():
    ranked = [hit("a1", kind="article", article="33", part=2), hit("a2", kind="article", article="33", part=1),
              hit("r", kind="recital", recital="85"), hit("b", kind="article", article="34"),
              hit("t1", kind="text"), hit("t2", kind="text")]
    assert [h.text for h in distinct_units(ranked, 10)] == ["a1", "r", "b", "t1", "t2"]
    assert [h.text for h in distinct_units(ranked, 2)] == ["a1", "r"]


def test_same_number_in_two_documents_or_kinds_are_different_units():
    other = Hit(text="o", score=0.0, source="/d/other.html",
                metadata={"source": "/d/other.html", "kind": "article", "article": "33"})
    ranked = [hit("a", kind="article", article="33"), other, hit("r", kind="recital", recital="33")]
    assert len(distinct_units(ranked, 5)) == 3


def test_untitled_numberless_sections_group_by_title_and_context():
    ranked = [hit("s1", kind="section", title="Deposits", context="Part II"),
              hit("s2", kind="section", title="Deposits", context="Part II"),
              hit("s3", kind="section", title="Deposits", context="Part III")]
    assert [h.text for h in distinct_units(ranked, 5)] == ["s1", "s3"]

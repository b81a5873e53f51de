"""Structure-aware chunking: legal units keep their number and title; long ones split into citable parts."""

from skillstack.retrieval.chunking import chunk_text, split_units

EURLEX_STYLE = """REGULATION OF THE TEST
Whereas:
(1) The first recital mentions Article 8(1) of the Charter.
(2) The second recital.
HAVE ADOPTED THIS REGULATION:
CHAPTER I
General provisions
Article 1
Subject-matter and objectives
1. This Regulation lays down rules.
2. It protects rights.
Section 2
Security of personal data
Article 33
Notification of a personal data breach to the supervisory authority
1. In the case of a personal data breach, the controller shall notify within 72 hours.
"""


def test_eurlex_style_articles_take_number_and_title_from_their_own_lines():
    chunks = chunk_text(EURLEX_STYLE, source="reg.html")
    articles = [(c.metadata["article"], c.metadata["title"]) for c in chunks if c.metadata["kind"] == "article"]
    assert articles == [("1", "Subject-matter and objectives"),
                        ("33", "Notification of a personal data breach to the supervisory authority")]
    art33 = next(c for c in chunks if c.metadata.get("article") == "33")
    assert art33.text.startswith("Article 33 \u2014 Notification")
    assert "Section 2" in art33.metadata["context"] and "CHAPTER I" in art33.metadata["context"]


def test_recitals_before_the_first_article_are_tagged_and_body_references_are_not_headings():
    chunks = chunk_text(EURLEX_STYLE, source="reg.html")
    recitals = [c for c in chunks if c.metadata["kind"] == "recital"]
    assert [c.metadata["recital"] for c in recitals] == ["1", "2"]
    assert "Article 8(1) of the Charter" in recitals[0].text
    assert all("HAVE ADOPTED" not in c.text for c in recitals)


def test_headings_without_body_become_context_not_chunks():
    kinds = [unit.kind for unit in split_units(EURLEX_STYLE)]
    assert "division" not in kinds and "section" not in kinds


def test_markdown_and_other_legal_styles_are_recognised():
    text = ("# Code\nIntro text.\n## Part II — Tenancies\n### Article 4 — Deposits\n1. A deposit.\n"
            "§ 7 Notice periods\nOne month.\nArtículo 12. Derecho de acceso\nEl interesado.\n"
            "Section 3: Remedies\nDamages.\n")
    chunks = chunk_text(text, source="x.md")
    described = [(c.metadata["kind"], c.metadata.get("article") or c.metadata.get("section"), c.metadata.get("title"))
                 for c in chunks]
    assert described == [("section", None, "Code"), ("article", "4", "Deposits"), ("article", "7", "Notice periods"),
                         ("article", "12", "Derecho de acceso"), ("section", "3", "Remedies")]
    assert chunks[1].metadata["context"] == "Part II Tenancies"


def test_long_article_splits_into_parts_that_each_carry_its_citation():
    body = "\n".join(f"{i}. " + "The controller shall keep records of every processing operation. " * 6
                     for i in range(1, 12))
    chunks = chunk_text(f"Article 30\nRecords of processing activities\n{body}", source="x", max_chars=600)
    assert len(chunks) > 2
    assert all(c.metadata["article"] == "30" and c.metadata["title"] == "Records of processing activities" for c in chunks)
    assert [c.metadata["part"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert all(c.metadata["parts"] == len(chunks) for c in chunks)
    assert all(len(c.text) <= 600 and c.text.startswith("Article 30 \u2014 Records") for c in chunks)


def test_plain_text_without_headings_is_packed_into_text_chunks():
    chunks = chunk_text("\n".join(f"Paragraph {i} of plain prose." for i in range(100)), source="notes.txt",
                        max_chars=300)
    assert len(chunks) > 5 and {c.metadata["kind"] for c in chunks} == {"text"}
    assert "".join(c.text for c in chunks).count("Paragraph") == 100


def test_chunk_ids_are_stable_content_hashes_unique_even_for_repeated_text():
    text = "Article 1 — A\nSame words.\nArticle 2 — A\nSame words.\n"
    first, again = chunk_text(text, source="a"), chunk_text(text, source="a")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert {c.id for c in chunk_text(text, source="b")}.isdisjoint(c.id for c in first)


def test_editing_one_article_changes_only_that_chunks_id():
    before = chunk_text("Article 1 — A\nOne.\nArticle 2 — B\nTwo.\n", source="s")
    after = chunk_text("Article 1 — A\nOne, amended.\nArticle 2 — B\nTwo.\n", source="s")
    assert before[0].id != after[0].id and before[1].id == after[1].id


POLICY = """# Acme refund policy
## Section 1 Scope
This policy covers every order.
## Section 3.1 Title
Refunds are paid within 14 days.
## Clause 7 - Cancellations
Orders may be cancelled before dispatch.
## Rule 2.3: Evidence
Keep the receipt.
## Regulation 5 Records
Records are kept for six years.
"""


def test_markdown_policy_units_keep_their_word_number_and_title():
    chunks = chunk_text(POLICY, source="/docs/policy.md")
    described = [(c.metadata.get("section"), c.metadata.get("style"), c.metadata.get("title")) for c in chunks
                 if c.metadata.get("section")]
    assert described == [("1", "Section", "Scope"), ("3.1", "Section", "Title"), ("7", "Clause", "Cancellations"),
                         ("2.3", "Rule", "Evidence"), ("5", "Regulation", "Records")]
    assert chunks[1].text.startswith("Section 3.1 \u2014 Title\n")


def test_a_plain_line_that_starts_with_section_is_prose_not_a_heading():
    chunks = chunk_text("## Section 4 Refunds\nSection 4 applies to every refund.\n", source="/docs/p.md")
    assert len(chunks) == 1 and chunks[0].metadata["section"] == "4"
    assert "Section 4 applies to every refund." in chunks[0].text

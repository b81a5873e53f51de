"""The one citation parser: headings, citations in running text, bracketed citation blocks, quoted spans."""

from __future__ import annotations

from skillstack.agents.lawyer.citations import (
    CITATION_BLOCK,
    UnitHeading,
    block_articles,
    bracketed_articles,
    cited_articles,
    normalise_article,
    quoted_spans,
    unit_heading,
)


def test_cited_articles_reads_brackets_subparagraphs_lists_and_sections():
    text = "Under [Article 12(1)(a)] and Articles 7 and 9, see also Art. 033 and § 4; again [Article 12]."
    assert cited_articles(text) == ["12", "7", "9", "33", "4"]


def test_cited_articles_reads_spanish_lists_and_lettered_articles():
    assert cited_articles("Según los Artículos 5 y 6, y el artículo 17A.") == ["5", "6", "17a"]


def test_bracketed_articles_reads_only_citation_blocks_in_every_bracket_style():
    text = "See [Article 33], [Art. 6(1)(a)], [Articles 15 and 17], [Article 33(2)], [Recital 85], Article 5."
    assert bracketed_articles(text) == ["33", "6", "15", "17"]


def test_bracketed_articles_reads_lists_spanish_and_undotted_abbreviations():
    assert bracketed_articles("[Article 4, 7] and [Artículo 9] and [Art 12] and [Article 04]") == ["4", "7", "9", "12"]


def test_a_citation_block_names_its_articles_without_their_paragraphs():
    block = CITATION_BLOCK.search("as held in [Articles 15(1) and 17(2)(b)].")
    assert block is not None and block.group(0) == "[Articles 15(1) and 17(2)(b)]"
    assert block_articles(block) == ["15", "17"]


def test_normalise_article_drops_leading_zeros_and_lowers_letters():
    assert [normalise_article(n) for n in ("033", "17A", " 4 ", "0")] == ["33", "17a", "4", "0"]


def test_article_headings_in_each_numbering_style_carry_number_and_title():
    assert unit_heading("Article 4 - Deposits") == UnitHeading(kind="article", number="4", title="Deposits")
    assert unit_heading("Artículo 17a. Derecho de supresión") == UnitHeading(kind="article", number="17a",
                                                                            title="Derecho de supresión")
    assert unit_heading("Art. 5") == UnitHeading(kind="article", number="5", title="")
    assert unit_heading("§ 12 Repairs") == UnitHeading(kind="article", number="12", title="Repairs", sign=True)


def test_section_and_division_headings_are_told_apart_from_articles():
    assert unit_heading("Section 3.1 — Notice") == UnitHeading(kind="section", number="3.1", title="Notice", style="Section")
    assert unit_heading("CHAPTER II") == UnitHeading(kind="division", number="CHAPTER II", title="", style="")


def test_a_sentence_that_mentions_an_article_is_not_a_heading():
    assert unit_heading("Article 4 applies to every deposit.") is None
    assert unit_heading("Articles 5 and 6 apply.") is None


def test_quoted_spans_reads_straight_and_curly_quotes_and_drops_trailing_punctuation():
    text = 'It says "within 30 days after the tenancy ends." and “written notice” and «plazo de un mes».'
    assert quoted_spans(text) == ["within 30 days after the tenancy ends", "written notice", "plazo de un mes"]


def test_headings_in_common_legal_and_policy_numbering_styles_carry_number_title_and_word():
    expected = {
        "Article 4 - Deposits": ("article", "4", "Deposits", "Article"),
        "Art. 4: Deposits": ("article", "4", "Deposits", "Article"),
        "§ 12 Repairs": ("article", "12", "Repairs", "Article"),
        "Section 3.1 - Title": ("section", "3.1", "Title", "Section"),
        "Section 3. Refunds": ("section", "3", "Refunds", "Section"),
        "Sec. 2.4.1: Scope": ("section", "2.4.1", "Scope", "Section"),
        "Clause 7 — Termination": ("clause", "7", "Termination", "Clause"),
        "Rule 2.3: Evidence": ("rule", "2.3", "Evidence", "Rule"),
        "Regulation 5 - Records": ("regulation", "5", "Records", "Regulation"),
        "Paragraph 12A. Fees": ("paragraph", "12A", "Fees", "Paragraph"),
        "Part II - Obligations": ("division", "Part II", "Obligations", ""),
    }
    for line, (word, number, title, style) in expected.items():
        unit = unit_heading(line)
        assert (unit.number, unit.title, unit.style) == (number, title, style), line
        assert unit.kind == ("section" if word not in ("article", "division") else word), line


def test_a_marked_heading_may_omit_the_separator_but_a_plain_line_may_not():
    assert unit_heading("Section 3.1 Title", marked=True) == UnitHeading(kind="section", number="3.1", title="Title",
                                                                       style="Section")
    assert unit_heading("Section 4 Refunds", marked=True).number == "4"
    assert unit_heading("Article 4 Deposits", marked=True).title == "Deposits"
    assert unit_heading("Part II General provisions", marked=True).number == "Part II"
    assert unit_heading("Section 4 applies to refunds.") is None
    assert unit_heading("Article 6 shall apply.") is None


def test_section_style_citation_blocks_name_their_dotted_numbers():
    assert bracketed_articles("Refunds take 14 days [Section 3.1], see [Clause 7] and [Sections 2.4 and 5].") == [
        "3.1", "7", "2.4", "5"]
    assert bracketed_articles("[Article 6(1)(a)] and [Art. 17]") == ["6", "17"]


def test_dotted_article_numbers_are_read_whole_and_a_sentences_full_stop_is_not_part_of_them():
    assert cited_articles("Under Article 5.3 the club, and Articles 2.1 and 4.1(b).") == ["5.3", "2.1", "4.1"]
    assert cited_articles("This follows from Article 5. It also breaks Art. 6.") == ["5", "6"]
    assert bracketed_articles("[Article 3.2] and [Articles 2.1, 3.4]") == ["3.2", "2.1", "3.4"]
    heading = unit_heading("Article 5.3 - Cancellation")
    assert heading is not None and (heading.number, heading.title) == ("5.3", "Cancellation")

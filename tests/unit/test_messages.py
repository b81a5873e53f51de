"""content_text: the same words from string content, OpenAI content parts and LangChain content blocks."""

from __future__ import annotations

from skillstack.messages import content_text


def test_string_content_is_returned_as_is() -> None:
    assert content_text("  Article 33 applies.\n") == "  Article 33 applies.\n"


def test_text_parts_are_joined_and_parts_without_text_are_skipped() -> None:
    content = [{"type": "text", "text": "Article "}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
               "33", {"type": "output_text", "text": " applies."}, {"type": "reasoning", "reasoning": "hidden"}]
    assert content_text(content) == "Article 33 applies."


def test_content_without_text_gives_an_empty_string() -> None:
    assert content_text(None) == content_text([]) == content_text([{"type": "text", "text": None}]) == ""

"""Property tests (hypothesis) of two parsers of untrusted text: the dataset validator and the citation parser.

Validator, on generated JSONL files (good examples, random JSON, random text, broken UTF-8, deep nesting):
it never raises, every finding names a line of the file (0 only for whole-file findings), and every
non-blank line is either a clean example or carries an error. Citation parser, on generated text: it
never raises, returns only normalised numbers written in the text, and finds every citation planted in it.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillstack.agents.lawyer.citations import (
    bracketed_articles,
    cited_articles,
    flatten,
    normalise_article,
    quoted_spans,
)
from skillstack.training.data.validate import validate_file

FILE_LEVEL = {"too_few_examples", "few_examples"}
ROLES = st.sampled_from(["system", "user", "assistant", "tool", "robot", "", None])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@st.composite
def chat_lines(draw: st.DrawFn) -> bytes:
    messages = draw(st.lists(st.fixed_dictionaries(
        {"role": ROLES, "content": st.text(max_size=30) | st.none()},
        optional={"weight": st.sampled_from([0, 1, 2, "1"]), "name": st.text(max_size=5)}), max_size=4))
    example = draw(st.sampled_from([{"messages": messages}, {"messages": messages, "extra": 1}, {"prompt": messages}]))
    return json.dumps(example, ensure_ascii=draw(st.booleans())).encode()


LINES = st.one_of(
    chat_lines(),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from([b"", b"   ", b"NaN", b'{"messages": [], "x": Infinity}', b"\xef\xbb\xbf{}", b"{\"a\": 1e400}",
                     b'{"' + b"k" * 100_000 + b'": 1, "messages": [{"role": "' + b"r" * 100_000 + b'", "content": "x"}]}']),
).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINES, max_size=25), crlf=st.booleans(), final_newline=st.booleans())
def test_validator_never_raises_and_every_finding_names_a_line_of_the_file(lines: list[bytes], crlf: bool,
                                                                           final_newline: bool) -> None:
    end = b"\r\n" if crlf else b"\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.jsonl"
        path.write_bytes(end.join(lines) + (end if final_newline and lines else b""))
        report = validate_file(path)
    findings = report.errors + report.warnings
    for finding in findings:
        assert isinstance(finding.line, int) and 0 <= finding.line <= len(lines), finding
        assert finding.line != 0 or finding.code in FILE_LEVEL, finding
        assert finding.message and "\n" not in finding.message and len(finding.message) < 1000, finding
    error_lines = {f.line for f in report.errors}
    assert not error_lines & set(report.item_lines)  # a clean example has no error
    for number, line in enumerate(lines, start=1):
        if line.strip() and number not in report.item_lines:
            assert number in error_lines, (number, line)
    assert report.ok == (not report.errors)
    json.dumps(report.to_dict())  # the --json report always serialises


NUMBERS = st.from_regex(r"0?[1-9][0-9]{0,2}[a-c]?", fullmatch=True)
FILLER = st.text(st.characters(codec="utf-8", exclude_characters='"“”«»[]\n'), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.lists(st.sampled_from(
    ["Article", "Articles", "Art.", "Art", "Artículo", "§", " ", "[", "]", "(1)", "(a)", ",", " and ", " or ", "&", " y ",
     "5", "17", "033", "6a", "2016", '"', "“", "”", "«", "»", "x", "\n"]), max_size=40).map("".join))
def test_citation_parser_never_raises_and_returns_only_normalised_numbers_from_the_text(text: str) -> None:
    lowered = text.lower()
    for number in cited_articles(text) + bracketed_articles(text):
        assert number == normalise_article(number) and re.fullmatch(r"\d+[a-z]?", number), number
        assert number.lstrip("0") in lowered, (number, text)
    for span in quoted_spans(text):
        assert span == flatten(span) and span and span in flatten(text), (span, text)


@settings(max_examples=200, deadline=None)
@given(before=FILLER, after=FILLER, number=NUMBERS,
       style=st.sampled_from(["[Article {}]", "[Art. {}(1)(a)]", "[Articles 2 and {}]", " Article {} ", " Art. {} ",
                              " Artículo {} ", " § {} ", " Articles 4, {} "]))
def test_a_planted_citation_is_always_found(before: str, after: str, number: str, style: str) -> None:
    text = before + " " + style.format(number) + " " + after
    assert normalise_article(number) in cited_articles(text), text
    if style.startswith("["):
        assert normalise_article(number) in bracketed_articles(text), text


@settings(max_examples=200, deadline=None)
@given(before=FILLER, after=FILLER, span=st.text(st.characters(codec="utf-8", exclude_characters='"“”«»\n'),
                                                  min_size=3, max_size=40))
def test_a_planted_quote_is_always_read_back_flattened(before: str, after: str, span: str) -> None:
    expected = flatten(span).rstrip(".,;:")
    spans = quoted_spans(f'{before} "{span}" {after}')
    assert (expected in spans) if expected else spans == [], (span, spans)

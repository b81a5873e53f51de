"""Loaders for every supported format, and a one-line DocumentError naming the file for bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.errors import DocumentError
from skillstack.retrieval.chunking import chunk_text
from skillstack.retrieval.loaders import is_supported, load_document, register_loader


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A minimal one-page PDF with real text objects (pypdf cannot author text itself)."""
    ops = " ".join(f"({line}) Tj 0 -20 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {ops} ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_pdf_text_is_extracted_and_chunked_by_article(tmp_path):
    doc = load_document(make_pdf(tmp_path / "code.pdf", ["Article 1 - Scope", "This Code applies to tenancies."]))
    chunks = chunk_text(doc.text, source=doc.source)
    assert chunks[0].metadata["article"] == "1" and chunks[0].metadata["title"] == "Scope"
    assert doc.format == "pdf" and doc.source == str((tmp_path / "code.pdf").resolve())


def test_encrypted_pdf_is_refused_with_what_to_do(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "plain.pdf", ["Secret"])))
    writer.encrypt(user_password="pw", owner_password="owner")
    with open(tmp_path / "locked.pdf", "wb") as handle:
        writer.write(handle)
    with pytest.raises(DocumentError, match=r"locked\.pdf: encrypted PDF; decrypt"):
        load_document(tmp_path / "locked.pdf")


def test_corrupt_pdf_is_one_line_error_naming_the_file(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\x00\xff")
    with pytest.raises(DocumentError, match=r"broken\.pdf") as info:
        load_document(tmp_path / "broken.pdf")
    assert "\n" not in str(info.value)


def test_empty_and_undecodable_files_are_refused(tmp_path):
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("  \n\n ")
    (tmp_path / "latin1.txt").write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    with pytest.raises(DocumentError, match=r"empty\.md: empty file"):
        load_document(tmp_path / "empty.md")
    with pytest.raises(DocumentError, match=r"blank\.txt: no text"):
        load_document(tmp_path / "blank.txt")
    with pytest.raises(DocumentError, match=r"latin1\.txt: not UTF-8 text .*re-save it as UTF-8"):
        load_document(tmp_path / "latin1.txt")


def test_docx_headings_become_markdown_headings(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Article 5 \u2014 Rent increases", level=2)
    document.add_paragraph("Rent may be increased once a year.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Notice", "two months"
    document.save(tmp_path / "code.docx")
    text = load_document(tmp_path / "code.docx").text
    assert text.splitlines()[0] == "## Article 5 \u2014 Rent increases"
    assert "Notice | two months" in text
    assert chunk_text(text, source="d")[0].metadata["article"] == "5"


def test_spreadsheets_keep_column_names_on_every_row(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Limits"
    sheet.append(["Obligation", "Days"])
    sheet.append(["Return deposit", 10])
    workbook.save(tmp_path / "limits.xlsx")
    (tmp_path / "limits.csv").write_text("Obligation;Days\nLodge deposit;14\n", encoding="utf-8")
    assert load_document(tmp_path / "limits.xlsx").text == "# Limits\nObligation: Return deposit; Days: 10\n"
    assert load_document(tmp_path / "limits.csv").text == "Obligation: Lodge deposit; Days: 14\n"


def test_json_and_jsonl_records_become_lines_and_bad_json_names_the_line(tmp_path):
    (tmp_path / "faq.json").write_text(json.dumps([{"q": "Deposit cap?", "a": "Four weeks"}]))
    (tmp_path / "faq.jsonl").write_text('{"q": "Entry notice?"}\n\n{"q": "Repairs?"}\n')
    (tmp_path / "bad.jsonl").write_text('{"q": 1}\n{oops\n')
    assert load_document(tmp_path / "faq.json").text == "q: Deposit cap?; a: Four weeks\n"
    assert load_document(tmp_path / "faq.jsonl").text == "q: Entry notice?\nq: Repairs?\n"
    with pytest.raises(DocumentError, match=r"bad\.jsonl:2: not valid JSON"):
        load_document(tmp_path / "bad.jsonl")


def test_html_blocks_rows_and_headings_become_lines(tmp_path):
    (tmp_path / "p.html").write_text(
        "<html><head><title>t</title><script>var x=1;</script></head><body><h2>Article 9 &mdash; Ending</h2>"
        "<p>Two <b>months</b>' notice.<br>Grounds apply.</p><table><tr><td><p>(a)</p></td><td><p>arrears</p></td></tr>"
        "</table></body></html>", encoding="utf-8")
    lines = load_document(tmp_path / "p.html").text.splitlines()
    assert lines == ["## Article 9 \u2014 Ending", "Two months' notice.", "Grounds apply.", "(a) arrears"]


def test_unsupported_types_are_reported_and_loaders_can_be_registered(tmp_path):
    odd = tmp_path / "notes.rtf"
    odd.write_text("{\\rtf1 hello}")
    assert not is_supported(odd)
    with pytest.raises(DocumentError, match=r"unsupported file type \.rtf"):
        load_document(odd)
    with pytest.raises(ValueError):
        register_loader(["RTF"], lambda path: "")


def test_html_policy_headings_in_each_numbering_style_become_numbered_units(tmp_path):
    from skillstack.retrieval.chunking import chunk_text

    (tmp_path / "policy.html").write_text(
        "<html><body><h1>Staff handbook</h1><h2>Section 3.1 Leave</h2><p>Staff get 25 days.</p>"
        "<h2>Art. 4 Conduct</h2><p>Be kind.</p><h3>§ 12 Complaints</h3><p>Write to HR.</p>"
        "<h2>Clause 7 Notice</h2><p>One month.</p></body></html>", encoding="utf-8")
    chunks = chunk_text(load_document(tmp_path / "policy.html").text, source="policy.html")
    described = [(c.metadata.get("article") or c.metadata.get("section"), c.metadata.get("title")) for c in chunks]
    assert described == [("3.1", "Leave"), ("4", "Conduct"), ("12", "Complaints"), ("7", "Notice")]

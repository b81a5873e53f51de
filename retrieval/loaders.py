"""Document loaders: turn PDF, DOCX, XLSX/CSV, HTML, Markdown, TXT and JSON/JSONL files into text.

Every loader returns plain text, one block (paragraph, table row, heading) per line, with
headings marked Markdown-style ("## ..."), so one chunker serves every format. Parsing is done by
maintained libraries (pypdf, python-docx, openpyxl, BeautifulSoup+lxml); chunking lives in chunking.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import DocumentError

Loader = Callable[[Path], str]
LOADERS: dict[str, Loader] = {}
_SUFFIX = re.compile(r"^\.[a-z0-9]+$")


@dataclass(kw_only=True)
class LoadedDocument:
    source: str = field(metadata={"help": "Absolute path of the file: the key of its chunks in the store."})
    text: str = field(metadata={"help": "The document as text, one block per line, headings marked with '#'."})
    format: str = field(metadata={"help": "The loader used, named by suffix without the dot."})


def register_loader(suffixes: Iterable[str], loader: Loader) -> None:
    """Register a loader for file suffixes such as ".pdf" (lower case, with the dot)."""
    for suffix in suffixes:
        if not _SUFFIX.match(suffix):
            raise ValueError(f"loader suffix {suffix!r} must look like '.pdf' (lower case, with the dot)")
        LOADERS[suffix] = loader


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def supported_suffixes() -> list[str]:
    return sorted(LOADERS)


def load_document(path: Path) -> LoadedDocument:
    """Load one file; any problem with its content raises DocumentError naming the file."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise DocumentError(f"{path}: unsupported file type {suffix or '(no suffix)'}; "
                            f"supported: {' '.join(supported_suffixes())}")
    try:
        if path.stat().st_size == 0:
            raise DocumentError(f"{path}: empty file; nothing to ingest")
        text = LOADERS[suffix](path)
    except DocumentError:
        raise
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8") from exc
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except Exception as exc:  # parsers raise many types for corrupt files; all mean "cannot parse this file"
        raise DocumentError(f"{path}: cannot parse as {suffix[1:].upper()} ({type(exc).__name__}: {exc}); "
                            "is the file corrupt or mislabelled?") from exc
    text = _tidy(text)
    if not text.strip():
        raise DocumentError(f"{path}: no text found (empty or image-only document); nothing to ingest")
    return LoadedDocument(source=str(path.resolve()), text=text, format=suffix[1:])


def _tidy(text: str) -> str:
    """Collapse runs of spaces (EUR-Lex pads numbering with non-breaking spaces) and blank-line runs."""
    lines = [" ".join(line.replace("\u00a0", " ").split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise DocumentError(f"{path}: binary data, not text; convert it or remove it from the folder")
    return data.decode("utf-8-sig")


def _load_pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        # An owner-password-only PDF opens with the empty user password; anything else needs the user.
        try:
            opened = reader.decrypt("")
        except Exception:
            opened = 0
        if not opened:
            raise DocumentError(f"{path}: encrypted PDF; decrypt it (e.g. `qpdf --decrypt`) and ingest again")
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _load_docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(child, document)
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = re.match(r"Heading (\d)", style)
            prefix = "#" * int(level.group(1)) + " " if level else "# " if style == "Title" else ""
            lines.append(prefix + paragraph.text)
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            lines.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    return "\n".join(lines)


def _rows_text(rows: Iterable[Iterable[Any]]) -> list[str]:
    """Tabular rows as lines "header: value; ..." so every chunk keeps its column names."""
    rows = iter(rows)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, [])]
    lines = []
    for row in rows:
        cells = ["" if cell is None else str(cell).strip() for cell in row]
        pairs = [f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {value}"
                 for i, value in enumerate(cells) if value]
        if pairs:
            lines.append("; ".join(pairs))
    return lines


def _load_xlsx(path: Path) -> str:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        parts = []
        for sheet in workbook.worksheets:
            parts.append(f"# {sheet.title}")
            parts.extend(_rows_text(sheet.iter_rows(values_only=True)))
        return "\n".join(parts)
    finally:
        workbook.close()


def _load_csv(path: Path) -> str:
    text = _read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return "\n".join(_rows_text(csv.reader(io.StringIO(text), dialect)))


def _json_line(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_json_line(item) if isinstance(item, (dict, list)) else item}"
                         for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_json_line(item) if isinstance(item, (dict, list)) else str(item) for item in value)
    return str(value)


def _load_json(path: Path) -> str:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    items = data if isinstance(data, list) else [data]
    return "\n".join(_json_line(item) for item in items)


def _load_jsonl(path: Path) -> str:
    lines = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if line.strip():
            try:
                lines.append(_json_line(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DocumentError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    return "\n".join(lines)


_HTML_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "dt", "dd",
                "caption", "div", "section", "article", "td", "th"]


def _load_html(path: Path) -> str:
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML (EUR-Lex) parses fine as HTML
        soup = BeautifulSoup(path.read_bytes(), "lxml")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines: list[str] = []
    block_or_row = _HTML_BLOCKS + ["tr"]
    for element in soup.find_all(block_or_row):
        if element.name == "tr":
            # A table row is one line: EUR-Lex lays out recitals and points as "(1) | text" rows.
            cells = element.find_all(["td", "th"], recursive=False)
            lines.append(" ".join(_inline_text(cell) for cell in cells))
            continue
        if element.find_parent("tr") is not None or element.find(block_or_row) is not None:
            continue  # emitted by its row, or by its own inner blocks
        text = _inline_text(element)
        level = re.fullmatch(r"h([1-6])", element.name)
        lines.append(("#" * int(level.group(1)) + " " + text) if level and text else text)
    return "\n".join(lines)


def _inline_text(element: Any) -> str:
    """An element's text with inline markup dropped, whitespace collapsed, and <br> breaks kept."""
    return "\n".join(" ".join(part.split()) for part in element.get_text().split("\n") if part.strip())


register_loader([".txt", ".text", ".md", ".markdown"], _read_text)
register_loader([".pdf"], _load_pdf)
register_loader([".docx"], _load_docx)
register_loader([".xlsx"], _load_xlsx)
register_loader([".csv", ".tsv"], _load_csv)
register_loader([".json"], _load_json)
register_loader([".jsonl"], _load_jsonl)
register_loader([".html", ".htm", ".xhtml"], _load_html)


__all__ = ["LoadedDocument", "LOADERS", "register_loader", "is_supported", "supported_suffixes", "load_document"]

"""Structure-aware chunking: split loaded text into legal units (Article N, § N, Section N, recitals) or sections.

Pure functions, no I/O. A unit that fits stays one chunk; a long one becomes a few chunks that all carry
its `article` and `title` and repeat its heading line, so every chunk is citable on its own. Headings with
no body of their own (CHAPTER I, Section 2 directly followed by an Article) become context, not chunks.
What counts as a heading is read by the one citation parser (skillstack.agents.lawyer.citations.unit_heading).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from skillstack.agents.lawyer.citations import unit_heading

DEFAULT_MAX_CHARS = 1000  # about 230 word pieces: inside all-MiniLM-L6-v2's 256-token window
_RECITAL = re.compile(r"\((?P<num>\d+)\)\s+(?P<body>\S.*)")
_MARKDOWN_HEADING = re.compile(r"(#{1,6})\s+(.*)")
_CLOSING = re.compile(r"Done at [A-Z]")  # the signature block that ends EU acts
_MAX_HEADING_CHARS = 160
_MAX_TITLE_CHARS = 300  # GDPR Article 89's title is 165 characters


@dataclass(kw_only=True)
class Chunk:
    id: str = field(metadata={"help": "Stable id: a hash of source and text (and its repeat count)."})
    text: str = field(metadata={"help": "Heading line plus body, as embedded and indexed."})
    metadata: dict[str, Any] = field(metadata={"help": "kind, article/recital, title, part, parts, context, source."})


@dataclass(kw_only=True)
class _Unit:
    kind: str  # article | recital | section | text
    number: str = ""
    style: str = "Section"  # a section's unit word: "Section", "Clause", "Rule", "Regulation", "Paragraph"
    title: str = ""
    label: str = ""
    context: str = ""
    lines: list[str] = field(default_factory=list)
    needs_title: bool = False


def _heading(line: str) -> tuple[str, str, str, str] | None:
    """(kind, number, title, style) when the line is a heading, else None."""
    markdown = _MARKDOWN_HEADING.fullmatch(line)
    text = markdown.group(2).strip() if markdown else line
    if len(text) > _MAX_HEADING_CHARS:
        return None
    unit = unit_heading(text, marked=bool(markdown))
    if unit is not None and (not unit.sign or markdown or len(text) < 80):
        return unit.kind, unit.number, unit.title, unit.style
    if markdown:
        return "section", "", text, "Section"
    return None


def _looks_like_title(line: str) -> bool:
    return (0 < len(line) <= _MAX_TITLE_CHARS and not line.endswith((".", ";", ","))
            and not re.match(r"\(?\d+[.)]", line) and _heading(line) is None)


def _label(unit: _Unit) -> str:
    if unit.kind == "article":
        name = f"Article {unit.number}"
        return f"{name} \u2014 {unit.title}" if unit.title else name
    if unit.kind == "recital":
        return f"Recital {unit.number}"
    if unit.kind == "section" and unit.number:
        name = f"{unit.style} {unit.number}"
        return f"{name} \u2014 {unit.title}" if unit.title else name
    return unit.title


def split_units(text: str) -> list[_Unit]:
    """Group lines into units by their headings; text before the first legal heading may hold recitals."""
    units: list[_Unit] = []
    context = division = ""
    current = _Unit(kind="text")
    seen_legal = False

    def close() -> None:
        nonlocal context, division
        if current.kind == "division" or (not any(line.strip() for line in current.lines) and current.kind != "text"):
            # A heading with no body is context for what follows (CHAPTER I, Section 2, a part title).
            if current.kind == "division":
                context = division = " ".join(part for part in (current.number, current.title) if part)
            elif current.kind != "text":
                here = _label(current) if current.kind == "section" else f"{current.number} {current.title}".strip()
                context = f"{division} / {here}" if division else here
            return
        if any(line.strip() for line in current.lines):
            units.append(current)

    for raw in text.splitlines():
        line = raw.strip()
        if current.needs_title and line:
            current.needs_title = False
            if _looks_like_title(line):
                current.title = line
                continue
        heading = _heading(line) if line else None
        if heading is not None:
            kind, number, title, style = heading
            close()
            seen_legal = seen_legal or kind in ("article", "division") or (kind == "section" and bool(number))
            current = _Unit(kind=kind, number=number, style=style, title=title, context=context, needs_title=not title)
            continue
        if line and _CLOSING.match(line):
            close()
            current = _Unit(kind="text", title="Closing provisions", context=context)
        elif not seen_legal and line and (recital := _RECITAL.fullmatch(line)):
            close()
            current = _Unit(kind="recital", number=recital.group("num"), context=context)
            line = recital.group("body")
        elif current.kind == "recital" and line and line.upper() == line and any(c.isalpha() for c in line):
            close()  # an all-caps line ("HAVE ADOPTED THIS REGULATION:") ends the recitals
            current = _Unit(kind="text", context=context)
        current.lines.append(line)
    close()
    for unit in units:
        unit.label = _label(unit)
    return units


def _pieces(line: str, max_chars: int) -> list[str]:
    """A line short enough to embed whole, or its sentences, or (last resort) word windows."""
    if len(line) <= max_chars:
        return [line]
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.;:])\s+", line):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if sentence:
            pieces.append(sentence)
    return pieces


def pack_lines(lines: list[str], max_chars: int) -> list[str]:
    """Pack lines into bodies of at most max_chars, breaking only between lines or sentences."""
    bodies: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if not line:
            continue
        for piece in _pieces(line, max_chars):
            if current and size + len(piece) + 1 > max_chars:
                bodies.append("\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 1
    if current:
        bodies.append("\n".join(current))
    return bodies


def chunk_id(source: str, text: str, repeat: int = 0) -> str:
    digest = hashlib.sha256(f"{source}\x00{text}\x00{repeat}".encode()).hexdigest()
    return digest[:32]


def chunk_text(text: str, *, source: str, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunks of one document, in document order, with stable content-hash ids."""
    if max_chars < 100:
        raise ValueError("max_chars must be at least 100")
    chunks: list[Chunk] = []
    repeats: dict[str, int] = {}
    for unit in split_units(text):
        head = unit.label
        bodies = pack_lines(unit.lines, max_chars - len(head) - 1) if head else pack_lines(unit.lines, max_chars)
        for part, body in enumerate(bodies, start=1):
            full = f"{head}\n{body}" if head else body
            repeat = repeats.get(full, 0)
            repeats[full] = repeat + 1
            metadata: dict[str, Any] = {"kind": unit.kind, "source": source, "part": part, "parts": len(bodies)}
            if unit.kind == "article":
                metadata["article"] = unit.number
            if unit.kind == "recital":
                metadata["recital"] = unit.number
            if unit.kind == "section" and unit.number:
                metadata["section"] = unit.number
                metadata["style"] = unit.style
            if unit.title or unit.kind == "recital":
                metadata["title"] = unit.title or unit.label
            if unit.context:
                metadata["context"] = unit.context
            chunks.append(Chunk(id=chunk_id(source, full, repeat), text=full, metadata=metadata))
    return chunks

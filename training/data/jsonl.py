"""JSON Lines reading under strict rules, where every malformed line becomes a Finding, never an exception.

Rules: UTF-8 (a leading byte-order mark is warned about and stripped); `\\n` or `\\r\\n` line ends;
a blank line is an error; each line is one JSON value; NaN/Infinity are rejected; a line over the
size limit is skipped unread; nesting past the parser's limit is reported. Example-level checks live in checks.py.
Also the atomic JSONL writer and the one-object JSON file reader the training tools share.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from skillstack.io import atomic_writer
from .findings import Finding

# Base64 images make lines large; past this a line is refused rather than loaded (hostile input).
MAX_LINE_BYTES = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to inf
        raise _NonFinite(text)
    return value


# One decoder for every line: json.loads with hooks would build a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def parse_json_line(text: str, number: int) -> tuple[Any, Finding | None]:
    """Parse one line; on failure return (None, the finding)."""
    try:
        return _DECODER.decode(text), None
    except _NonFinite as exc:
        return None, Finding(number, "non_finite_number", f"{exc} is not valid JSON; write null or a finite number")
    except json.JSONDecodeError as exc:
        return None, Finding(number, "invalid_json", f"{exc.msg} at column {exc.colno}; each line must be one JSON object")
    except RecursionError:
        return None, Finding(number, "too_deep", "JSON nested too deeply to parse; examples are shallow objects")


def _skip_rest_of_line(handle: Any, size: int) -> int:
    while True:
        chunk = handle.readline(_CHUNK)
        size += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return size


def read_jsonl(path: Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, Any, Sequence[Finding], Sequence[Finding]]]:
    """Yield (line number, parsed value or None, errors, warnings) for every line of the file.

    Only the lines' bytes up to max_line_bytes are held in memory; a trailing newline at the
    end of the file does not make a blank line. Line ends (\n, \r\n) are JSON whitespace, so
    they are left for the parser rather than sliced off (a copy of every line).
    """
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(max_line_bytes + 1)
            if not raw:
                return
            number += 1
            warnings: Sequence[Finding] = ()
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                size = _skip_rest_of_line(handle, len(raw))
                yield number, None, (Finding(number, "line_too_long", f"{size} bytes, over the {max_line_bytes}-byte "
                                             "limit; host large images and use their URL"),), warnings
                continue
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
                warnings = (Finding(1, "bom", "UTF-8 byte-order mark at the start of the file (stripped); "
                                              "save the file as UTF-8 without BOM"),)
            if not raw or raw.isspace():
                yield number, None, (Finding(number, "blank_line", "blank line; remove it (one example per line)"),), warnings
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, (Finding(number, "invalid_utf8", f"byte {exc.start + 1} of the line is not UTF-8 "
                                             f"({exc.reason}); re-save the file as UTF-8"),), warnings
                continue
            value, error = parse_json_line(text, number)
            yield number, value, (error,) if error else (), warnings


def write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    """Write rows as JSON Lines atomically (a failing row iterator leaves the old file); returns the row count."""
    count = 0
    with atomic_writer(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """One JSON object from a whole file (a grader spec, a generation template); InputError naming the file."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such {what} file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{path}: not a JSON {what} ({exc})") from exc
    if not isinstance(value, dict):
        raise InputError(f"{path}: a {what} is one JSON object")
    return value

"""One typed coercion helper: a raw value (TOML, JSON, environment, CLI flag) into a dataclass field's declared type.

Holds `coerce` (a value against a type hint) and `coerce_field` (against a dataclass field, honouring a
"minimum", "max_length" and "max_item_length" in its metadata); errors name the origin and the field, and
quote at most a short prefix of a bad value (a 10 MB string is never echoed whole). Used by settings, training configs,
skill manifests and grader specs. Not here: which keys are allowed, or rules across fields.

Types understood: bool, int, float, str, Path, Literal[...], Optional/Union, list[X], tuple[X, ...], dict.
With from_text (environment, flags) strings are parsed: "4" -> 4, "yes" -> True, and a string for a
list or tuple is split on os.pathsep (as PATH-style variables hold lists). Without it (TOML/JSON files
whose values are typed already) a value must have the type; an int still passes where a float is declared.
"""

from __future__ import annotations

import functools
import os
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal, Union

from skillstack.errors import ConfigError, SkillstackError

SHOWN_CHARACTERS = 80  # how much of a refused value an error message quotes
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class _Mismatch(Exception):
    """The value does not fit this option of the hint (the caller tries the next or reports)."""


def type_name(hint: Any) -> str:
    """How a hint reads in an error message: int, float or 'auto', list of str ..."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in typing.get_args(hint) if arg is not type(None))
    if origin is Literal:
        return " or ".join(repr(arg) for arg in typing.get_args(hint))
    if origin in (list, tuple):
        args = [arg for arg in typing.get_args(hint) if arg is not Ellipsis]
        return f"a list of {type_name(args[0])}" if args else "a list"
    if origin is dict or hint is dict:
        return "a table/object"
    return getattr(hint, "__name__", str(hint))


def _convert(raw: Any, hint: Any, from_text: bool) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return raw
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if raw is None and type(None) in options:
            return None
        # Exact types first, so "auto" stays "auto" and 4 stays an int before any text is parsed.
        for strict in (True, False) if from_text else (True,):
            for option in options:
                if option is type(None):
                    continue
                try:
                    return _convert(raw, option, from_text and not strict)
                except _Mismatch:
                    continue
        raise _Mismatch
    if origin is Literal:
        if raw in typing.get_args(hint):
            return raw
        raise _Mismatch
    if origin in (list, tuple) or hint in (list, tuple):
        args = [arg for arg in typing.get_args(hint) if arg is not Ellipsis]
        if from_text and isinstance(raw, str):
            raw = [item for item in raw.split(os.pathsep) if item]
        if not isinstance(raw, (list, tuple)):
            raise _Mismatch
        items = [_convert(item, args[0], from_text) for item in raw] if args else list(raw)
        return tuple(items) if (origin or hint) is tuple else items
    if origin is dict or hint is dict:
        if isinstance(raw, dict):
            return raw
        raise _Mismatch
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if from_text and isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.strip().lower() in TRUE_WORDS
        raise _Mismatch
    if hint in (int, float):
        if isinstance(raw, bool):
            raise _Mismatch
        if isinstance(raw, str) and from_text:
            try:
                raw = float(raw) if hint is float else int(raw.strip())
            except ValueError:
                raise _Mismatch from None
        if hint is int and isinstance(raw, float) and raw.is_integer() and from_text:
            return int(raw)
        if isinstance(raw, int) or (hint is float and isinstance(raw, float)):
            return hint(raw)
        raise _Mismatch
    if hint is str:
        if isinstance(raw, str):
            return raw
        raise _Mismatch
    if hint is Path:
        if isinstance(raw, (str, Path)):
            return Path(raw).expanduser()
        raise _Mismatch
    raise _Mismatch


def shown_value(raw: Any) -> str:
    """repr(raw) for an error message, cut to SHOWN_CHARACTERS (hostile input can be megabytes)."""
    text = repr(raw)
    return text if len(text) <= SHOWN_CHARACTERS else f"{text[:SHOWN_CHARACTERS]}... ({len(text)} characters)"


def coerce(raw: Any, hint: Any, *, name: str, origin: str, label: str = "setting", from_text: bool = False,
           error: type[SkillstackError] = ConfigError) -> Any:
    """`raw` as type `hint`; `error` "<origin>: <label> '<name>' must be <type>, got <raw>" when it cannot be."""
    try:
        return _convert(raw, hint, from_text)
    except _Mismatch:
        raise error(f"{origin}: {label} '{name}' must be {type_name(hint)}, got {shown_value(raw)}") from None


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """A dataclass's field name -> resolved type hint (string annotations evaluated once)."""
    return typing.get_type_hints(cls)


def coerce_field(cls: type, name: str, raw: Any, *, origin: str, label: str = "setting", from_text: bool = False,
                 error: type[SkillstackError] = ConfigError, shown: str | None = None) -> Any:
    """`raw` as dataclass `cls`'s field `name`, within the bounds its metadata declares.

    "minimum" bounds a number; "max_length" a string's characters or a list's items; "max_item_length"
    each string of a list. `shown` is the name errors use when it differs from the field's (a nested
    table's "generation.top_p").
    """
    shown = shown or name
    value = coerce(raw, field_types(cls)[name], name=shown, origin=origin, label=label, from_text=from_text, error=error)
    metadata = next(f.metadata for f in fields(cls) if f.name == name)
    minimum = metadata.get("minimum")
    if minimum is not None and isinstance(value, (int, float)) and not isinstance(value, bool) and value < minimum:
        raise error(f"{origin}: {label} '{shown}' must be at least {minimum}, got {shown_value(raw)}")
    _check_length(value, metadata, where=f"{origin}: {label}", name=shown, error=error)
    return value


def _check_length(value: Any, metadata: Any, *, where: str, name: str, error: type[SkillstackError]) -> None:
    """Refuse a string or list over its field's limits, saying how long it is, never what it holds."""
    limit = metadata.get("max_length")
    if limit is not None and isinstance(value, (str, list, tuple)) and len(value) > limit:
        unit = "characters" if isinstance(value, str) else "items"
        raise error(f"{where} '{name}' is {len(value)} {unit} long; the limit is {limit}")
    item_limit = metadata.get("max_item_length")
    if item_limit is not None and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, str) and len(item) > item_limit:
                raise error(f"{where} '{name}[{index}]' is {len(item)} characters long; the limit is {item_limit}")


__all__ = ["coerce", "coerce_field", "field_types", "shown_value", "type_name"]

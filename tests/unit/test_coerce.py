"""The one coercion helper: raw TOML/env/flag values into a field's declared type, errors naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import pytest

from skillstack.coerce import coerce, coerce_field
from skillstack.errors import ConfigError, SkillError


@pytest.mark.parametrize(("raw", "hint", "value"), [
    ("yes", bool, True), ("off", bool, False), (True, bool, True),
    ("4", int, 4), (4.0, int, 4), ("0.5", float, 0.5), (2, float, 2.0),
    ("text", str, "text"), ("~/x", Path, Path.home() / "x"),
    ("auto", Union[int, Literal["auto"]], "auto"), ("3", Union[int, Literal["auto"]], 3),
    (None, Optional[int], None), ("/a:/b", tuple[Path, ...], (Path("/a"), Path("/b"))),
    (["q", "v"], Union[str, list[str]], ["q", "v"]), ({"type": "x"}, dict[str, Any], {"type": "x"}),
])
def test_text_values_become_the_declared_type(raw: object, hint: object, value: object) -> None:
    assert coerce(raw, hint, name="f", origin="test", from_text=True) == value


@pytest.mark.parametrize(("raw", "hint", "expected"), [
    ("maybe", bool, "bool"), ("2.5", int, "int"), (True, int, "int"), ("x", float, "float"), (3, str, "str"),
    ("many", Union[int, Literal["auto"]], "int or 'auto'"), ([1], list[str], "a list of str"), ([], dict, "a table"),
])
def test_a_value_of_the_wrong_type_names_the_field_and_the_type(raw: object, hint: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=rf"cfg.toml: setting 'lora_r' must be {expected}"):
        coerce(raw, hint, name="lora_r", origin="cfg.toml", from_text=True)


def test_typed_files_are_not_parsed_from_text() -> None:
    assert coerce(1, float, name="t", origin="skill.toml") == 1.0
    with pytest.raises(SkillError, match="skill.toml: field 'temperature' must be float, got '0.5'"):
        coerce("0.5", float, name="temperature", origin="skill.toml", label="field", error=SkillError)


@dataclass(kw_only=True)
class Knobs:
    top_k: int = field(default=5, metadata={"help": "Hits.", "minimum": 1})


def test_a_field_under_its_minimum_is_refused() -> None:
    assert coerce_field(Knobs, "top_k", "3", origin="--top-k", from_text=True) == 3
    with pytest.raises(ConfigError, match="--top-k: setting 'top_k' must be at least 1, got 0"):
        coerce_field(Knobs, "top_k", 0, origin="--top-k")

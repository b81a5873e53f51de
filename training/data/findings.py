"""Validator findings and the catalogue of their stable codes (what each means); no checking logic here.

Codes are part of the public contract (`skillstack data validate --json`): never rename one, only add.
The OpenAI-named codes follow OpenAI's fine-tuning format checks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CODES: dict[str, str] = {
    # JSON Lines
    "bom": "the file starts with a UTF-8 byte-order mark (stripped)",
    "invalid_utf8": "the line is not valid UTF-8",
    "blank_line": "an empty line between examples",
    "line_too_long": "the line is larger than the per-line limit and was not parsed",
    "invalid_json": "the line is not one JSON value",
    "non_finite_number": "NaN or Infinity (not JSON) in the line",
    "too_deep": "the JSON nests deeper than the parser allows",
    # OpenAI's classes
    "data_type": "the line is not a JSON object",
    "missing_messages_list": "no non-empty `messages` list",
    "message_missing_key": "a message lacks `role` or `content`",
    "message_unrecognized_key": "a message has a key OpenAI does not accept",
    "unrecognized_role": "a message role is not system, user, assistant or tool",
    "missing_content": "a message has no (non-empty) content",
    "example_missing_assistant_message": "no assistant message to learn from",
    # skillstack's additions
    "invalid_weight": "`weight` must be 0 or 1, and only on assistant messages",
    "invalid_content_part": "a content part is not {type: text, text} or {type: image_url, image_url: {url}}",
    "invalid_image_url": "an image_url is not an http(s) URL or a base64 data: URL of png/jpeg/gif/webp",
    "image_in_assistant_message": "images are only accepted in system and user messages",
    "invalid_tools": "`tools` is not a list of {type: function, function: {name, parameters}}",
    "invalid_tool_call": "an assistant `tool_calls` entry is malformed",
    "unrecognized_key": "the example has a top-level key this format does not use (ignored)",
    "missing_preferred_output": "a preference example lacks `preferred_output` or `non_preferred_output`",
    "identical_outputs": "preferred and non-preferred outputs are the same",
    "invalid_last_message": "a reinforcement prompt must end with a user or system message",
    "too_few_examples": "fewer than 10 examples (OpenAI's minimum)",
    "few_examples": "fewer than 50 examples: results are usually weak",
    "too_many_tokens": "the example is longer than the token limit (the base model's context)",
    "duplicate_example": "the same example appears earlier in the file",
    "train_validation_overlap": "the example also appears in the validation file",
}


@dataclass(frozen=True)
class Finding:
    """One problem at one line (line 0: the whole file). `code` is a key of CODES."""

    line: int
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; add it to CODES")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        return f"line {self.line}: {self.code}: {self.message}"

"""Graders in OpenAI's grader JSON, run locally: one module per grader type, shared by evaluation and RFT rewards.

`build_grader(spec)` turns a spec into a Grader whose `grade(sample, item)` returns a float in [0, 1].
"""

from . import json_schema, label_model, multi, python_code, score_model, string_check, text_similarity  # noqa: F401  (register)
from .base import BuildContext, Grader, build_grader, grader_types, load_grader_spec, register_grader

__all__ = ["BuildContext", "Grader", "build_grader", "grader_types", "load_grader_spec", "register_grader"]

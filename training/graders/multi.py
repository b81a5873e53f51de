"""The multi grader: named sub-graders combined by `calculate_output`, an arithmetic formula evaluated
by simpleeval (no eval): + - * / ^ (power) and min, max, abs, floor, ceil, exp, sqrt, log. Result clamped to [0, 1].
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, build_grader, common_fields, field_of, register_grader

FUNCTIONS = {"min": min, "max": max, "abs": abs, "floor": math.floor, "ceil": math.ceil,
             "exp": math.exp, "sqrt": math.sqrt, "log": math.log}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def normalize_formula(formula: str) -> str:
    """OpenAI's formulas write power as ^; Python's parser reads ^ as xor with the wrong precedence."""
    return formula.replace("^", "**")


def _evaluator(names: dict[str, float]) -> Any:
    from simpleeval import SimpleEval

    return SimpleEval(operators={**_BINARY, **_UNARY}, functions=FUNCTIONS, names=names)


def evaluate_formula(formula: str, scores: dict[str, float]) -> float:
    """The formula's value over the sub-grader scores; ZeroDivisionError and math domain errors give 0."""
    try:
        return float(_evaluator(scores).eval(formula))
    except (ZeroDivisionError, ValueError, OverflowError):
        return 0.0


def check_formula(formula: str, names: set[str]) -> None:
    """Refuse a formula that is not arithmetic over the given names and the allowed functions."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"multi grader: calculate_output {formula!r} is not a formula ({exc.msg})") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise ConfigError(f"multi grader: calculate_output uses {node.id!r}, which is no grader name "
                              f"({', '.join(sorted(names))}) or function")
    from simpleeval import InvalidExpression

    try:
        _evaluator({name: 0.5 for name in names}).eval(formula)
    except InvalidExpression as exc:
        raise ConfigError(f"multi grader: calculate_output {formula!r} is not allowed ({exc})") from exc
    except (ZeroDivisionError, ValueError, OverflowError):
        pass


@dataclass(kw_only=True)
class MultiGrader(Grader):
    graders: dict[str, Grader] = field(default_factory=dict)
    formula: str = ""

    def scores(self, sample: dict[str, Any], item: dict[str, Any]) -> dict[str, float]:
        return {name: grader.grade(sample, item) for name, grader in self.graders.items()}

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        return max(0.0, min(1.0, evaluate_formula(self.formula, self.scores(sample, item))))


def build(spec: dict[str, Any], context: BuildContext) -> MultiGrader:
    children = field_of(spec, "graders", dict)
    if not children:
        raise ConfigError("multi grader: 'graders' must name at least one grader")
    for name in children:
        if not name.isidentifier():
            raise ConfigError(f"multi grader: sub-grader name {name!r} must be an identifier (it is a formula variable)")
    formula = normalize_formula(field_of(spec, "calculate_output", str))
    check_formula(formula, set(children))
    return MultiGrader(**common_fields(spec), formula=formula,
                       graders={name: build_grader(child, context=context) for name, child in children.items()})


register_grader("multi", build)

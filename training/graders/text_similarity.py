"""The text_similarity grader: fuzzy_match (rapidfuzz), bleu (sacrebleu), gleu (nltk), rouge_1..5/rouge_l
(rouge-score) and cosine (the configured embedding model). Scores in [0, 1]; meteor is refused (needs WordNet data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, common_fields, field_of, register_grader
from .templates import check_template, render


def fuzzy_match(text: str, reference: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(text, reference) / 100.0


def bleu(text: str, reference: str) -> float:
    from sacrebleu.metrics import BLEU

    # Sentence-level BLEU needs smoothing, or any missing 4-gram zeroes the score.
    return BLEU(effective_order=True).sentence_score(text, [reference]).score / 100.0


def gleu(text: str, reference: str) -> float:
    from nltk.translate.gleu_score import sentence_gleu

    return float(sentence_gleu([reference.split()], text.split()))


def rouge(variant: str) -> Callable[[str, str], float]:
    def score(text: str, reference: str) -> float:
        from rouge_score import rouge_scorer

        return rouge_scorer.RougeScorer([variant], use_stemmer=True).score(reference, text)[variant].fmeasure
    return score


METRICS: dict[str, Callable[[str, str], float]] = {
    "fuzzy_match": fuzzy_match, "bleu": bleu, "gleu": gleu,
    **{f"rouge_{n}": rouge(f"rouge{n}") for n in range(1, 6)}, "rouge_l": rouge("rougeL"),
}


@dataclass(kw_only=True)
class TextSimilarity(Grader):
    input: str
    reference: str
    metric: Callable[[str, str], float]

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        text, reference = render(self.input, sample, item), render(self.reference, sample, item)
        return max(0.0, min(1.0, float(self.metric(text, reference))))


def _cosine(context: BuildContext) -> Callable[[str, str], float]:
    if context.settings is None:
        raise ConfigError("text_similarity 'cosine' needs settings (for the embedding model)")
    settings = context.settings

    def score(text: str, reference: str) -> float:
        from skillstack.retrieval.embeddings import get_embedder

        first, second = get_embedder(settings).embed([text, reference])
        return float(first @ second)
    return score


def build(spec: dict[str, Any], context: BuildContext) -> TextSimilarity:
    name = field_of(spec, "evaluation_metric", str, choices=(*METRICS, "cosine", "meteor"))
    if name == "meteor":
        raise ConfigError("text_similarity 'meteor' needs NLTK's WordNet data, which skillstack does not download; "
                          "use rouge_l or bleu")
    return TextSimilarity(**common_fields(spec), input=check_template(field_of(spec, "input", str), "text_similarity.input"),
                          reference=check_template(field_of(spec, "reference", str), "text_similarity.reference"),
                          metric=_cosine(context) if name == "cosine" else METRICS[name])


register_grader("text_similarity", build)

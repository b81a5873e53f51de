"""The repair loop's pairing, without models: a failing sample against a passing one (or the reference), never a pair without both."""

from __future__ import annotations

from skillstack.training.eval_answers import Output
from skillstack.training.graders import build_grader
from skillstack.training.repair import preference_pairs

DATED = build_grader({"type": "python", "name": "dated",
                      "source": "def grade(sample, item):\n    return float('within 2 business days' in sample['output_text'])\n"})


def out(text: str) -> Output:
    return Output(text=text, parsed=None, prompt_tokens=1)


def test_a_failing_output_is_paired_with_a_passing_sample_or_else_the_passing_reference():
    items = [([("user", "refund?")], {"reference": "I'll refund it within 2 business days."}),
             ([("system", "s"), ("user", "card?")], {"reference": "soon"}),
             ([("user", "address?")], {"reference": "done"}),
             ([("user", "limit?")], {})]
    outputs = [[out("I'll refund it soon."), out("Refund coming.")],
               [out("We'll send one within 2 business days."), out("Card on its way.")],
               [out("Updated within 2 business days.")],
               [out("no idea")]]
    pairs, counts = preference_pairs(items, outputs, DATED, threshold=1.0)
    assert counts == {"prompts": 4, "failing": 3, "paired": 2, "no_preferred": 1}
    assert pairs[0]["preferred_output"][0]["content"] == "I'll refund it within 2 business days."
    assert pairs[0]["non_preferred_output"][0]["content"] in {"I'll refund it soon.", "Refund coming."}
    assert pairs[1]["preferred_output"][0]["content"] == "We'll send one within 2 business days."
    assert pairs[1]["input"]["messages"] == [{"role": "user", "content": "card?"}]  # the skill adds its own system prompt


def test_a_failed_generation_is_never_a_non_preferred_output():
    errored = Output(text="", parsed=None, prompt_tokens=1, error="schema")
    pairs, counts = preference_pairs([([("user", "q")], {"reference": "within 2 business days"})], [[errored]], DATED,
                                     threshold=1.0)
    assert pairs == [] and counts["failing"] == 0

"""The issue's proof on real data: a small LoRA skill trained on real customer messages beats the base model.

The dataset is built from the Bitext customer-support corpus: the assistant must answer with the
message's category in a fixed form ("category: refund"). A string_check grader scores held-out
messages through the real skills runtime, for the trained skill and for the base model given the
same system prompt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from training_data import SYSTEM_PROMPT, chat_example, support_rows, write_jsonl

# The exact answer ("category: refund"), and the trained form alone (the answer holds "category: ").
EXACT = {"type": "string_check", "name": "exact", "operation": "eq",
         "input": "{{sample.output_text}}", "reference": "category: {{item.category}}"}
FORM = {"type": "string_check", "name": "form", "operation": "like",
        "input": "{{sample.output_text}}", "reference": "category: "}


@pytest.mark.slow
def test_trained_support_skill_beats_the_base_model_on_held_out_messages(settings, support_csv: Path, tmp_path: Path) -> None:
    from langchain_core.messages import HumanMessage

    from skillstack.skills.runtime import chat_model
    from skillstack.training.graders import build_grader
    from skillstack.training.methods import TrainJob
    from skillstack.training.sft import SFTConfig, train_sft
    from skillstack.training.skill_writer import SkillSpec

    rows = support_rows(support_csv, per_category=10, seed=7)
    train_rows, held_out = rows[:28], rows[28:]  # 7 per category to train, 3 per category held out
    train = write_jsonl(tmp_path / "train.jsonl", [chat_example(r, system=False) for r in train_rows])
    spec = SkillSpec(suffix="support-category", kind="format", system_prompt=SYSTEM_PROMPT,
                     description="Names the category of a customer-support message.")
    train_sft(settings, TrainJob(train_file=train, output_dir=settings.user_skills_dir / "support-category", skill=spec,
                                 config=SFTConfig(n_epochs=3, batch_size=4, learning_rate_multiplier=1.0, max_seq_len=96,
                                                  save_every=0), progress=False))

    graders = {"exact": build_grader(EXACT), "form": build_grader(FORM)}
    prompts = [[HumanMessage(r["instruction"])] for r in held_out]
    items = [{"category": r["category"].lower()} for r in held_out]

    def scores(model) -> dict[str, float]:
        samples = [{"output_text": a.content.strip(), "output_json": None} for a in model.batch(prompts)]
        return {name: sum(g.grade(s, item) for s, item in zip(samples, items)) / len(items) for name, g in graders.items()}

    base = scores(chat_model(settings, "base", system_prompt=SYSTEM_PROMPT, max_tokens=8))
    skill = scores(chat_model(settings, "support-category", max_tokens=8))
    print(f"held-out scores: base {base}, skill {skill}")
    assert skill["form"] >= 0.8 > base["form"]
    assert skill["exact"] > base["exact"]

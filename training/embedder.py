"""Domain adaptation of the embedder: fine-tune the sentence-transformers model on the user's own store.

Pairs are synthetic and come from the corpus itself, never from a question set: each unit title
("Notification of a personal data breach to the supervisory authority") becomes questions paired with
the unit's chunks, and optionally the base model writes questions per chunk (generate_questions).
Training is sentence-transformers' trainer with MultipleNegativesRankingLoss (in-batch negatives; the
no-duplicates sampler keeps two pairs of one title out of a batch, where each would be the other's false
negative). The result is a versioned folder under home/embedders holding the model and a manifest
(skillstack-embedder.json) naming it, its base embedder, the corpus it was trained on and its weights'
fingerprint, which the store records once it is re-embedded (retrieval/ingest.reembed_store).
Not a skill training method (no dataset file, no LoRA, no skill folder): `train embedder` is its own command.
"""

from __future__ import annotations

import contextlib
import random
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import StoreError, TrainingError
from skillstack.io import atomic_folder, atomic_write_json
from skillstack.retrieval import store
from skillstack.retrieval.embeddings import EMBEDDER_MANIFEST, embedder_identity, model_source, weights_fingerprint
from skillstack.retrieval.lexical import ids_digest
from skillstack.settings import Settings

FORMAT_VERSION = 1
LOSS = "MultipleNegativesRankingLoss"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TEMPLATES = ("{title}", "What are the rules on {topic}?", "What does it say about {topic}?")
_GENERATE_PROMPT = "Write one short question a person might ask that this text answers.\n\nText: {text}"


@dataclass(kw_only=True)
class EmbedderConfig:
    name: str = field(default="corpus-embedder", metadata={"help": "Name of the trained embedder; the folder is home/embedders/<name>-v<N>."})
    epochs: int = field(default=1, metadata={"help": "Passes over the synthetic pairs."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per batch: each pair's chunk is a negative for the others."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate."})
    generate_questions: int = field(default=0, metadata={"help": "Questions the base model writes per chunk (slow); 0 = titles only."})
    max_pairs: int = field(default=0, metadata={"help": "Use at most this many pairs (a random sample); 0 = all."})
    seed: int = field(default=0, metadata={"help": "Seed for sampling and training."})


def title_questions(metadata: dict[str, Any]) -> list[str]:
    """Questions built from a unit's title; none for a unit without a real title (a recital, plain text)."""
    title = str(metadata.get("title") or "").strip()
    if not title or metadata.get("kind") == "recital":
        return []
    topic = title[0].lower() + title[1:] if not title[:2].isupper() else title
    return [template.format(title=title, topic=topic) for template in _TEMPLATES]


def generated_questions(settings: Settings, texts: list[str], per_chunk: int, *, progress: bool) -> list[list[str]]:
    """per_chunk questions the base model writes for each text (sampled, so several differ)."""
    import torch
    from tqdm import tqdm

    from skillstack.models import load_base_model, load_tokenizer

    tokenizer, model = load_tokenizer(settings), load_base_model(settings)
    out: list[list[str]] = []
    for text in tqdm(texts, desc="writing questions", unit="chunk", disable=not progress):
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": _GENERATE_PROMPT.format(text=text[:1500])}],
                                               add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            ids = model.generate(**prompt.to(model.device), max_new_tokens=40, do_sample=True, temperature=0.7,
                                 num_return_sequences=per_chunk, pad_token_id=tokenizer.pad_token_id)
        width = prompt["input_ids"].shape[1]
        replies = [tokenizer.decode(row[width:], skip_special_tokens=True).strip().split("\n")[0] for row in ids]
        out.append([reply for reply in replies if len(reply) > 10])
    return out


def build_pairs(settings: Settings, config: EmbedderConfig, *, progress: bool = False) -> tuple[list[tuple[str, str]], str]:
    """(question, chunk text) pairs from the store, and the fingerprint of the corpus they came from."""
    collection = store.open_collection(settings, create=False, embedder=embedder_identity(settings))
    everything = store.read_all(collection)
    if not everything["ids"]:
        raise StoreError(f"the store at {settings.store_dir} is empty; run `skillstack ingest PATH` first")
    passages = [(text or "", dict(meta or {}))
                for text, meta in zip(everything["documents"], everything["metadatas"])]
    pairs = [(question, passage) for passage, meta in passages for question in title_questions(meta)]
    if config.generate_questions > 0:
        written = generated_questions(settings, [p for p, _ in passages], config.generate_questions, progress=progress)
        pairs += [(question, passage) for (passage, _), questions in zip(passages, written) for question in questions]
    if config.max_pairs and len(pairs) > config.max_pairs:
        pairs = random.Random(config.seed).sample(pairs, config.max_pairs)
    if len(pairs) < 2:
        raise TrainingError(f"only {len(pairs)} training pair(s) from the store at {settings.store_dir}: in-batch "
                            "negatives need titled units (articles, sections); pass --generate-questions N")
    return pairs, ids_digest(everything["ids"])


def next_folder(settings: Settings, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise TrainingError(f"embedder name {name!r}: use lower-case letters, digits, '-' and '_' (64 at most)")
    root = settings.home / "embedders"
    taken = [int(m.group(1)) for p in root.glob(f"{name}-v*") if (m := re.fullmatch(rf"{re.escape(name)}-v(\d+)", p.name))]
    return root / f"{name}-v{max(taken, default=0) + 1}"


def train_embedder(settings: Settings, config: EmbedderConfig, *, progress: bool = True) -> Path:
    """Train on the store's synthetic pairs; returns the new model folder (written atomically)."""
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers import TrainerCallback

    from .metrics import plot_loss_curve

    folder = next_folder(settings, config.name)
    pairs, corpus = build_pairs(settings, config, progress=progress)
    base = embedder_identity(settings)
    model = SentenceTransformer(model_source(settings), device=settings.device, trust_remote_code=False)
    rows: list[dict[str, Any]] = []

    class Losses(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
            if logs and "loss" in logs:
                rows.append({"step": state.global_step, "train_loss": float(logs["loss"])})

    with atomic_folder(folder) as tmp, tempfile.TemporaryDirectory(prefix="skillstack-embedder-") as scratch:
        arguments = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
            learning_rate=config.learning_rate, warmup_steps=0.1, seed=config.seed, logging_steps=1,
            save_strategy="no", report_to=[], disable_tqdm=not progress, use_cpu=settings.device == "cpu",
            batch_sampler=BatchSamplers.NO_DUPLICATES)
        dataset = Dataset.from_dict({"anchor": [q for q, _ in pairs], "positive": [p for _, p in pairs]})
        trainer = SentenceTransformerTrainer(model=model, args=arguments, train_dataset=dataset,
                                             loss=losses.MultipleNegativesRankingLoss(model), callbacks=[Losses()])
        with contextlib.redirect_stdout(sys.stderr):  # the trainer prints its logs; stdout carries the result
            trainer.train()
        model.save(str(tmp))
        if rows:
            plot_loss_curve(rows, tmp / "loss_curve.png", title=f"{folder.name}: {LOSS}")
        manifest = {"format_version": FORMAT_VERSION, "name": folder.name, "base_embedder": asdict(base),
                    "corpus_fingerprint": corpus, "pairs": len(pairs), "loss": LOSS, "config": asdict(config),
                    "final_loss": rows[-1]["train_loss"] if rows else None, "fingerprint": weights_fingerprint(tmp)}
        atomic_write_json(tmp / EMBEDDER_MANIFEST, manifest)
    return folder


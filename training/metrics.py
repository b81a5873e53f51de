"""Training metrics: the per-step metrics.jsonl log, its summary, the loss-curve PNG and the progress bar.

Holds no training logic; every trainer (own loop or TRL) reports through these.
Each row carries "v" (the row format version), "step", "total_steps" (the run's planned steps), "epoch" and
whatever was measured:
train_loss, val_loss, token_accuracy, val_token_accuracy, learning_rate, tokens, tokens_per_s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .data.jsonl import write_jsonl

METRICS_VERSION = 1


class MetricsLog:
    """Append-only metrics.jsonl; flushed per row so a killed run keeps what it measured."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, **row: Any) -> None:
        clean = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items() if v is not None}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"v": METRICS_VERSION, **clean}) + "\n")

    def rows(self) -> list[dict[str, Any]]:
        return read_metrics(self.path)

    def truncate_after(self, step: int) -> None:
        """Drop rows past `step` (a resumed run repeats them from its checkpoint)."""
        kept = [row for row in self.rows() if row.get("step", 0) <= step]
        write_jsonl(self.path, kept)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of a metrics.jsonl; a torn last line (a killed writer) is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _last(rows: Iterable[dict[str, Any]], key: str) -> float | None:
    values = [row[key] for row in rows if isinstance(row.get(key), (int, float))]
    return values[-1] if values else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers a skill's provenance keeps: steps, final and best losses, token accuracy."""
    train = [row["train_loss"] for row in rows if "train_loss" in row]
    val = [row["val_loss"] for row in rows if "val_loss" in row]
    tail = train[-max(1, len(train) // 10):] if train else []
    summary = {
        "steps": max((row.get("step", 0) for row in rows), default=0),
        "first_train_loss": train[0] if train else None,
        "final_train_loss": round(sum(tail) / len(tail), 6) if tail else None,
        "best_val_loss": min(val) if val else None,
        "final_val_loss": val[-1] if val else None,
        "final_token_accuracy": _last(rows, "token_accuracy"),
        "final_val_token_accuracy": _last(rows, "val_token_accuracy"),
    }
    return {k: v for k, v in summary.items() if v is not None}


def plot_loss_curve(rows: list[dict[str, Any]], path: Path, *, title: str = "loss") -> Path:
    """Train (and validation) loss against step, as a PNG (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        points = [(row["step"], row[key]) for row in rows if key in row and math.isfinite(row[key])]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o" if key == "val_loss" else None, markersize=3, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def progress_bar(total: int, *, initial: int = 0, desc: str = "training", enabled: bool = True) -> Any:
    """A tqdm bar with rate and ETA on stderr (steps); `enabled=False` keeps it quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", disable=not enabled, dynamic_ncols=True)


__all__ = ["METRICS_VERSION", "MetricsLog", "plot_loss_curve", "progress_bar", "read_metrics", "summarize"]

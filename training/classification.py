"""Classification metrics of a classify skill's answers: accuracy, macro-F1, the confusion matrix and its PNG.

Accuracy is a per-answer mean, but macro-F1 and the confusion matrix are properties of a whole
condition's answers, so they are computed here once per condition (scikit-learn) rather than by a
per-item grader. Not here: producing the answers (eval_answers.py) or the card (eval_card.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

def classification_scores(labels: list[str], references: list[str], predictions: list[str]) -> dict[str, Any]:
    """{"accuracy", "macro_f1", "confusion"}: confusion[i][j] counts answers with reference labels[i] and answer labels[j].

    An answer that is none of the labels (a failed request: "") is wrong and appears in no column.
    """
    from sklearn.metrics import confusion_matrix, f1_score

    answers = [p.strip() for p in predictions]
    accuracy = sum(a == r for a, r in zip(answers, references, strict=True)) / max(len(references), 1)
    macro_f1 = f1_score(references, answers, labels=labels, average="macro", zero_division=0)
    confusion = confusion_matrix(references, answers, labels=labels)
    return {"accuracy": round(float(accuracy), 4), "macro_f1": round(float(macro_f1), 4),
            "confusion": confusion.tolist()}


def plot_confusion(labels: list[str], matrices: dict[str, list[list[int]]], path: Path, *, title: str) -> Path:
    """One confusion-matrix panel per condition (rows: reference label, columns: answer), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    size = max(4.0, 0.45 * len(labels) + 2)
    fig, axes = plt.subplots(1, len(matrices), figsize=(size * len(matrices), size), dpi=90, squeeze=False)
    for ax, (name, matrix) in zip(axes[0], matrices.items(), strict=True):
        import numpy as np

        display = ConfusionMatrixDisplay(np.array(matrix), display_labels=labels)
        display.plot(ax=ax, colorbar=False, xticks_rotation="vertical", cmap="Blues")
        ax.set_title(name)
        ax.set_xlabel("answer")
        ax.set_ylabel("reference")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = ["classification_scores", "plot_confusion"]

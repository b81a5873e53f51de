"""The embedding router's classifier: two-view sentence features, logistic regression, calibrated confidence.

Features: the task's embedding, beside the embedding of its request alone (quoted passages replaced by a
placeholder). "Reply to Hannah: '<her message about an address change>'" is about the message's topic but asks
for a reply; the request view keeps what is asked visible to the classifier. A class-balanced logistic regression
(scikit-learn) over both views generalises better than nearest examples on tasks worded unlike any example
(bench/quality.py, tuning vs unseen). Its confidence is calibrated by a temperature fitted on out-of-fold scores.
Example features and the fitted model are cached under cache_dir/router (npz, no pickle), keyed by the
embedder and a digest of the labelled examples, so a router build after the first costs a file read.
Not here: which examples exist (routing_examples.py), turning probabilities into a decision (router.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skillstack.io import atomic_writer

REGULARISATION_C = 300.0  # picked on the tuning sets (tests/data: 30, 100, 300, 1000 tried), never on bench/unseen
FEEDBACK_WEIGHT = 5.0  # a user's correction outweighs one built-in example
_QUOTED = re.compile(r"'[^'\n]{12,}'|\"[^\"]{12,}\"|\u201c[^\u201d]{12,}\u201d|\u2018[^\u2019]{12,}\u2019")
_FORMAT = 1


def request_view(text: str) -> str:
    """The task with its quoted passages (a customer's message, a report) replaced by a placeholder."""
    return _QUOTED.sub('"..."', text)


def features(embedder: Any, texts: Sequence[str]) -> np.ndarray:
    """[whole-text embedding, request-view embedding] per text: float32 rows of 2 x the embedder's width."""
    texts = list(texts)
    return np.hstack([embedder.embed(texts), embedder.embed([request_view(t) for t in texts])]).astype(np.float32)


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:24]


def _save_npz(path: Path, **arrays: Any) -> None:
    with atomic_writer(path, "wb") as handle:
        np.savez(handle, **arrays)


def _load_npz(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, KeyError):
        return None


class ExampleFeatures:
    """Features of the labelled examples, on disk per embedder: only texts not seen before are embedded."""

    def __init__(self, folder: Path, embedder: Any) -> None:
        self.embedder = embedder
        self.path = folder / f"examples-{_digest(getattr(embedder, 'name', repr(embedder)), _FORMAT)}.npz"

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        cached = _load_npz(self.path) or {}
        known = dict(zip(cached.get("texts", np.array([])).tolist(), cached.get("features", [])))
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, features(self.embedder, missing)))
            # Only this build's texts are kept: the file tracks the current examples instead of growing forever.
            _save_npz(self.path, texts=np.array(list(dict.fromkeys(texts))),
                      features=np.stack([known[t] for t in dict.fromkeys(texts)]))
        return np.stack([known[t] for t in texts])


@dataclass(frozen=True, kw_only=True)
class RouteModel:
    """A fitted multinomial logistic regression: probabilities = softmax(logits / temperature)."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        from .router import softmax

        return softmax(rows @ self.coef.T + self.intercept, self.temperature)

    def save(self, path: Path, digest: str) -> None:
        _save_npz(path, digest=np.array(digest), classes=np.array(self.classes), coef=self.coef,
                  intercept=self.intercept, temperature=np.array(self.temperature))

    @classmethod
    def load(cls, path: Path, digest: str) -> RouteModel | None:
        data = _load_npz(path)
        if data is None or str(data.get("digest")) != digest:
            return None
        return cls(classes=tuple(data["classes"].tolist()), coef=data["coef"], intercept=data["intercept"],
                   temperature=float(data["temperature"]))


def _logistic(rows: np.ndarray, labels: Sequence[str], weights: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=3000).fit(
        rows, list(labels), sample_weight=weights)


def fit_route_model(rows: np.ndarray, labels: Sequence[str], weights: Sequence[float] | None = None, *,
                    folds: int = 5, seed: int = 0) -> RouteModel:
    """Fit on all examples; fit the temperature on out-of-fold logits (each example scored by a model without it)."""
    from sklearn.model_selection import StratifiedKFold

    from .router import fit_temperature

    weights_arr = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=float)
    classes = sorted(set(labels))
    if len(classes) < 2:  # one route: nothing to choose, full confidence
        return RouteModel(classes=tuple(classes), coef=np.zeros((1, rows.shape[1])), intercept=np.zeros(1),
                          temperature=1.0)
    model = _logistic(rows, labels, weights_arr)
    labels_arr = np.asarray(labels)
    smallest = min(int(np.sum(labels_arr == c)) for c in classes)
    temperature = 1.0
    if smallest >= 2:
        out_of_fold = np.zeros((len(labels), len(classes)))
        splitter = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=seed)
        for train, held in splitter.split(rows, labels_arr):
            fold = _logistic(rows[train], labels_arr[train], weights_arr[train])
            scores = fold.decision_function(rows[held])
            out_of_fold[held] = scores if scores.ndim == 2 else np.stack([-scores, scores], 1)
        temperature = fit_temperature(out_of_fold, [classes.index(l) for l in labels],
                                      grid=np.geomspace(0.05, 20.0, 120))
    coef = model.coef_ if len(classes) > 2 else np.vstack([-model.coef_, model.coef_]) / 2
    intercept = model.intercept_ if len(classes) > 2 else np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    return RouteModel(classes=tuple(model.classes_.tolist()), coef=coef, intercept=intercept, temperature=temperature)


def cached_route_model(folder: Path, embedder_name: str, texts: Sequence[str], labels: Sequence[str],
                       weights: Sequence[float], rows: np.ndarray) -> RouteModel:
    """The model for exactly these examples: loaded when cached, else fitted and cached."""
    digest = _digest(embedder_name, list(texts), list(labels), list(map(float, weights)), REGULARISATION_C, _FORMAT)
    path = folder / "model.npz"
    model = RouteModel.load(path, digest)
    if model is None:
        model = fit_route_model(rows, labels, weights)
        model.save(path, digest)
    return model


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many decisions fall in each."""
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return 0.0
    error = 0.0
    for b in range(bins):
        inside = (conf > b / bins) & (conf <= (b + 1) / bins) | ((b == 0) & (conf == 0))
        if inside.any():
            error += inside.mean() * abs(hits[inside].mean() - conf[inside].mean())
    return float(error)

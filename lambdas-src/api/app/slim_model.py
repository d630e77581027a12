"""The fast model served with NumPy alone: no scikit-learn, SciPy, pandas or joblib at run time.

`export()` reads a trained fast pipeline (optional `FunctionTransformer` steps whose function
lives in `ml.*`, then `TfidfVectorizer`, then `CalibratedClassifierCV(LinearSVC(), method=
"sigmoid")`) and writes its fitted numbers to a `.npz` file (NumPy arrays and JSON text, no
pickle). `SlimClassifier` computes the same `predict_proba` from them: the word analyser
(lower case, token pattern, stop words), term counts times idf, L2 norm, each fold's linear
decision function, its sigmoid calibrators, the one-vs-rest normalisation and the mean over
folds, as scikit-learn 1.9 does. `python -m app.slim_model MODEL.joblib OUT.npz --check CSV`
exports and then proves it: the largest difference from scikit-learn's own `predict_proba` on
every text of CSV must be under 1e-9, or nothing is written. A pipeline of another shape (the
course's one-vs-rest SVC) is refused with one line: serve the `.joblib` with scikit-learn.

Why: scikit-learn imports SciPy (and pandas when present) at start; the serving image without
them is about 150 MB smaller and starts in a fraction of the time, and one `predict_proba` call
costs tens of microseconds instead of milliseconds of input validation. Why ours rather than
skl2onnx + onnxruntime (measured on the 1.32 wheels): onnxruntime adds 75 MB unpacked plus
protobuf to an image this file keeps NumPy-only, skl2onnx cannot convert the `ml.*`
FunctionTransformer steps, and its float32 graphs miss the 1e-9 agreement checked here.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ml.model import ModelCorruptError, ModelError, Prediction

FORMAT = "week-text-classifier-slim/1"
TOLERANCE = 1e-9


class Classifier(Protocol):
    """What the API needs of a model: ml.model.TextClassifier and SlimClassifier both are."""

    @property
    def classes(self) -> tuple[str, ...]: ...
    @property
    def version(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


class NotExportable(Exception):
    """The pipeline is not of the shape SlimClassifier computes."""


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise NotExportable(problem)


def export(pipeline: Any, metadata: dict[str, Any], path: Path) -> None:
    """Write the fitted numbers of `pipeline` to `path` (.npz); NotExportable if unsupported."""
    steps = [step for _, step in getattr(pipeline, "steps", [])]
    functions = []
    while steps and type(steps[0]).__name__ == "FunctionTransformer":
        step = steps.pop(0)
        func = step.func
        module = getattr(func, "__module__", "") or ""
        _require(
            module.startswith("ml.") and not step.kw_args and not step.validate,
            f"FunctionTransformer({getattr(func, '__name__', func)!r}) is not a plain ml.* "
            "function",
        )
        functions.append(f"{module}:{func.__qualname__}")
    _require(
        [type(s).__name__ for s in steps] == ["TfidfVectorizer", "CalibratedClassifierCV"],
        "not a TfidfVectorizer + CalibratedClassifierCV pipeline (the fast one)",
    )
    vectorizer, calibrated = steps
    _require(
        vectorizer.analyzer == "word"
        and vectorizer.input == "content"
        and vectorizer.preprocessor is None
        and vectorizer.tokenizer is None
        and not vectorizer.strip_accents
        and tuple(vectorizer.ngram_range) == (1, 1)
        and not vectorizer.binary
        and vectorizer.norm == "l2"
        and vectorizer.use_idf
        and not vectorizer.sublinear_tf,
        "TfidfVectorizer options other than the defaults (word unigrams, l2, idf)",
    )
    _require(calibrated.method == "sigmoid", "calibration method is not sigmoid")
    classes = [str(c) for c in calibrated.classes_]
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    _require(
        [index for _, index in vocabulary] == list(range(len(vocabulary))),
        "vocabulary indices are not 0..n-1",
    )
    arrays: dict[str, Any] = {"idf": np.asarray(vectorizer.idf_, dtype=np.float64)}
    for fold, member in enumerate(calibrated.calibrated_classifiers_):
        estimator = member.estimator
        _require(type(estimator).__name__ == "LinearSVC", "calibrated estimator is not LinearSVC")
        positions = [classes.index(str(c)) for c in estimator.classes_]
        arrays[f"coef_{fold}"] = np.asarray(estimator.coef_, dtype=np.float64)
        arrays[f"intercept_{fold}"] = np.asarray(estimator.intercept_, dtype=np.float64)
        arrays[f"positions_{fold}"] = np.asarray(positions, dtype=np.int64)
        arrays[f"sigmoid_{fold}"] = np.asarray(
            [[c.a_, c.b_] for c in member.calibrators], dtype=np.float64
        )
    stop_words = vectorizer.get_stop_words()
    header = {
        "format": FORMAT,
        "metadata": metadata,
        "classes": classes,
        "functions": functions,
        "lowercase": bool(vectorizer.lowercase),
        "token_pattern": vectorizer.token_pattern,
        "stop_words": sorted(stop_words) if stop_words else [],
        "folds": len(calibrated.calibrated_classifiers_),
    }
    arrays["header"] = np.array(json.dumps(header))
    arrays["vocabulary"] = np.array("\n".join(term for term, _ in vocabulary))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


class SlimClassifier:
    """Same interface as ml.model.TextClassifier (classes, version, metadata, predict)."""

    def __init__(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("format") != FORMAT:
                    raise ModelCorruptError(path, f"not a slim model file (format {FORMAT})")
                self._idf = data["idf"]
                self._folds = [
                    (
                        data[f"coef_{k}"],
                        data[f"intercept_{k}"],
                        data[f"positions_{k}"],
                        data[f"sigmoid_{k}"],
                    )
                    for k in range(int(header["folds"]))
                ]
                terms = str(data["vocabulary"]).split("\n")
        except ModelError:
            raise
        except Exception as exc:  # zip, JSON or key errors of a damaged file
            raise ModelCorruptError(
                path, f"cannot be read as a slim model file ({type(exc).__name__}: {exc})"
            ) from exc
        self.metadata: dict[str, Any] = header["metadata"]
        self._classes: tuple[str, ...] = tuple(header["classes"])
        self._vocabulary = {term: index for index, term in enumerate(terms)}
        self._lowercase = bool(header["lowercase"])
        self._tokens = re.compile(header["token_pattern"]).findall
        self._stop_words = frozenset(header["stop_words"])
        self._functions: list[Callable[[Any], Any]] = [
            getattr(importlib.import_module(name.split(":")[0]), name.split(":")[1])
            for name in header["functions"]
        ]

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes

    @property
    def version(self) -> str:
        m = self.metadata
        return f"{m['algorithm']}:{str(m['data_sha256'])[:12]}:{m['trained_at']}"

    def _features(self, texts: Sequence[str]) -> list[tuple[Any, Any]]:
        """Per text: sorted term indices and their L2-normalised tf-idf values."""
        docs: Any = list(texts)
        for function in self._functions:
            docs = function(docs)
        rows = []
        for doc in docs:
            text = doc.lower() if self._lowercase else doc
            counts = Counter(
                self._vocabulary[token]
                for token in self._tokens(text)
                if token not in self._stop_words and token in self._vocabulary
            )
            indices = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
            values = np.array([counts[i] for i in indices], dtype=np.float64) * self._idf[indices]
            norm = np.sqrt(np.dot(values, values))
            if norm > 0:
                values /= norm
            rows.append((indices, values))
        return rows

    def predict_proba(self, texts: Sequence[str]) -> Any:
        rows = self._features(texts)
        n_classes = len(self._classes)
        mean = np.zeros((len(rows), n_classes))
        for coef, intercept, positions, sigmoid in self._folds:
            decision = np.empty((len(rows), coef.shape[0]))
            for r, (indices, values) in enumerate(rows):
                decision[r] = coef[:, indices] @ values + intercept
            proba = np.zeros((len(rows), n_classes))
            for column, (position, (a, b)) in enumerate(zip(positions, sigmoid, strict=True)):
                target = position + 1 if n_classes == 2 else position
                with np.errstate(over="ignore"):  # exp overflow is a probability of 0
                    proba[:, target] = 1.0 / (1.0 + np.exp(a * decision[:, column] + b))
            if n_classes == 2:
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                denominator = proba.sum(axis=1)[:, np.newaxis]
                proba = np.divide(
                    proba,
                    denominator,
                    out=np.full_like(proba, 1 / n_classes),
                    where=denominator != 0,
                )
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        mean /= len(self._folds)
        return mean

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        classes = self._classes
        out = []
        for row in self.predict_proba(texts):
            probabilities = {label: float(p) for label, p in zip(classes, row, strict=True)}
            best = max(probabilities, key=lambda label: probabilities[label])
            out.append(Prediction(label=best, probabilities=probabilities))
        return out


def load_any_model(path: Path | str) -> Classifier:
    """A `.npz` slim model with NumPy alone, anything else with ml.model.load_model."""
    path = Path(path)
    if path.resolve().suffix == ".npz" and path.is_file():  # the image's model/current link
        return SlimClassifier(path)
    from ml.model import load_model

    return load_model(path)


def read_texts(csv_path: Path, column: str | None = None) -> list[str]:
    """The texts of `column` (default: `text`, else `tweet`); a BOM is skipped."""
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if column is None:
            column = "text" if "text" in (reader.fieldnames or []) else "tweet"
        return [row[column] for row in reader if row.get(column)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.slim_model",
        description="Export a fast model for NumPy-only serving, checked against scikit-learn.",
    )
    parser.add_argument("model", type=Path, help="model file written by ml/algo.py (.joblib)")
    parser.add_argument("out", type=Path, help="slim model file to write (.npz)")
    check = parser.add_mutually_exclusive_group(required=True)
    check.add_argument("--check", type=Path, help="CSV whose texts are compared")
    check.add_argument(
        "--train-args",
        type=Path,
        help="the training options (ml/train.args): compare on the data file and text column "
        "the model was trained on",
    )
    args = parser.parse_args(argv)
    from ml.model import load_model

    column: str | None = None
    if args.train_args is not None:
        from ml.algo import parse_args as training_options

        trained_on = training_options([f"@{args.train_args}"])
        args.check, column = trained_on.data, trained_on.text_column

    try:
        classifier = load_model(args.model)
        tmp = args.out.with_name(args.out.name + ".tmp.npz")
        export(classifier.pipeline, classifier.metadata, tmp)
    except (ModelError, NotExportable) as exc:
        print(f"error: cannot export {args.model}: {exc}", file=sys.stderr)
        return 1
    texts = read_texts(args.check, column) or ["no text"]
    expected = classifier.pipeline.predict_proba(texts)
    got = SlimClassifier(tmp).predict_proba(texts)
    worst = float(np.max(np.abs(expected - got)))
    if not worst < TOLERANCE:
        tmp.unlink()
        print(
            f"error: slim model differs from scikit-learn by {worst:.3g} on {args.check}",
            file=sys.stderr,
        )
        return 1
    tmp.replace(args.out)
    print(f"slim model written to {args.out}: {len(texts)} texts, max difference {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

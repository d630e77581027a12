"""The API's models served with NumPy alone: no scikit-learn, SciPy, pandas or joblib at run time.

`export()` reads a trained pipeline of one of two shapes, optional `FunctionTransformer` steps
whose function lives in `ml.*`, then `TfidfVectorizer`, then
- the fast classifier, `CalibratedClassifierCV(LinearSVC(), method="sigmoid")`, or
- the course's, `OneVsRestClassifier(SVC(kernel="linear", probability=True))` (any
  class_weight, two classes or more),
and writes its fitted numbers to a `.npz` file (NumPy arrays and JSON text, no pickle; the
header's `kind` names the classifier). `SlimClassifier` computes the same `predict_proba` from
them: the word analyser (lower case, token pattern, stop words), term counts times idf, L2 norm,
then, fast: each fold's linear decision function, its sigmoid calibrators, the one-vs-rest
normalisation and the mean over folds, as scikit-learn 1.9 does; course: each binary SVC's
linear decision value as libsvm computes it, libsvm's Platt sigmoid, its clipping to
[1e-7, 1 - 1e-7] and its pairwise coupling of the two classes, then OneVsRestClassifier's
normalisation. `python -m app.slim_model MODEL.joblib OUT.npz --check CSV` exports and then
proves it: the largest difference from scikit-learn's own `predict_proba` on every text of CSV
must be under 1e-9, or nothing is written. A pipeline of another shape (another kernel, an SVC
without probabilities, other TfidfVectorizer options) is refused with one line: serve the
`.joblib` with scikit-learn.

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

# /2 names its classifier in the header's `kind`; /1 (before the course pipeline was supported)
# is always the fast one and still loads. Another format or kind is refused in one line.
FORMAT = "week-text-classifier-slim/2"
FORMAT_1 = "week-text-classifier-slim/1"
CALIBRATED = "CalibratedClassifierCV"  # the fast pipeline: calibrated LinearSVC folds
ONE_VS_REST = "OneVsRestClassifier"  # the course pipeline: OneVsRest(SVC(linear, probability))
KINDS = (CALIBRATED, ONE_VS_REST)
TOLERANCE = 1e-9
# libsvm's svm_predict_probability: pairwise probabilities clipped to [1e-7, 1 - 1e-7], then
# coupled by multiclass_probability (stopping tolerance 0.005 / k, at most max(100, k) rounds).
LIBSVM_MIN_PROB = 1e-7
LIBSVM_COUPLING_EPS = 0.005 / 2
LIBSVM_COUPLING_ROUNDS = 100


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
    names = [type(s).__name__ for s in steps]
    _require(
        names in (["TfidfVectorizer", CALIBRATED], ["TfidfVectorizer", ONE_VS_REST]),
        "not a TfidfVectorizer + CalibratedClassifierCV (fast) or + OneVsRestClassifier(SVC) "
        "(course) pipeline",
    )
    vectorizer, classifier = steps
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
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    _require(
        [index for _, index in vocabulary] == list(range(len(vocabulary))),
        "vocabulary indices are not 0..n-1",
    )
    if names[1] == CALIBRATED:
        classes, arrays, extra = _calibrated_linear_svc(classifier)
    else:
        classes, arrays, extra = _one_vs_rest_svc(classifier, len(vocabulary))
    arrays["idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    stop_words = vectorizer.get_stop_words()
    header = {
        "format": FORMAT,
        "kind": names[1],
        "metadata": metadata,
        "classes": classes,
        "functions": functions,
        "lowercase": bool(vectorizer.lowercase),
        "token_pattern": vectorizer.token_pattern,
        "stop_words": sorted(stop_words) if stop_words else [],
        **extra,
    }
    arrays["header"] = np.array(json.dumps(header))
    arrays["vocabulary"] = np.array("\n".join(term for term, _ in vocabulary))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


def _calibrated_linear_svc(calibrated: Any) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The fast pipeline's classifier: each fold's LinearSVC and its sigmoid calibrators."""
    _require(calibrated.method == "sigmoid", "calibration method is not sigmoid")
    classes = [str(c) for c in calibrated.classes_]
    arrays: dict[str, Any] = {}
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
    return classes, arrays, {"folds": len(calibrated.calibrated_classifiers_)}


def _one_vs_rest_svc(ovr: Any, n_features: int) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The course pipeline's classifier: per class, a binary SVC(kernel="linear",
    probability=True) as libsvm holds it (decision = w.x - rho, Platt's A and B).

    libsvm's own numbers are read (`_dual_coef_`, `_intercept_`, `_probA`, `_probB`): they are
    what scikit-learn hands libsvm at predict time, in libsvm's sign (for a binary SVC,
    scikit-learn negates `dual_coef_`, `intercept_` and `decision_function`), and `probA_` /
    `probB_` warn as deprecated in scikit-learn 1.9. The export's check against scikit-learn's
    own predict_proba is what proves these readings right for the pinned version.
    """
    _require(not ovr.multilabel_, "multilabel OneVsRestClassifier")
    classes = [str(c) for c in ovr.classes_]
    estimators = list(ovr.estimators_)
    _require(
        len(classes) >= 2 and len(estimators) == (1 if len(classes) == 2 else len(classes)),
        "OneVsRestClassifier has not one binary estimator per class",
    )
    weights, intercepts, platt = [], [], []
    for estimator in estimators:
        _require(type(estimator).__name__ == "SVC", "one-vs-rest estimator is not SVC")
        _require(
            isinstance(estimator.kernel, str) and estimator.kernel == "linear",
            f"SVC(kernel={estimator.kernel!r}) is not linear",
        )
        prob_a = np.asarray(getattr(estimator, "_probA", ()), dtype=np.float64)
        prob_b = np.asarray(getattr(estimator, "_probB", ()), dtype=np.float64)
        _require(
            prob_a.shape == (1,) and prob_b.shape == (1,),
            "SVC fitted without probability=True (no Platt sigmoid)",
        )
        _require(
            estimator._impl == "c_svc" and [int(c) for c in estimator.classes_] == [0, 1],
            "SVC is not a binary C-SVC over the labels 0, 1",
        )
        weight = estimator._dual_coef_ @ estimator.support_vectors_
        weight = weight.toarray() if hasattr(weight, "toarray") else weight
        weight = np.asarray(weight, dtype=np.float64).reshape(-1)
        _require(weight.shape == (n_features,), "SVC features differ from the vocabulary")
        weights.append(weight)
        intercepts.append(float(estimator._intercept_[0]))
        platt.append([float(prob_a[0]), float(prob_b[0])])
    arrays: dict[str, Any] = {
        "svc_weights": np.vstack(weights),
        "svc_intercepts": np.asarray(intercepts, dtype=np.float64),
        "svc_platt": np.asarray(platt, dtype=np.float64),
    }
    return classes, arrays, {"estimators": len(estimators)}


class SlimClassifier:
    """Same interface as ml.model.TextClassifier (classes, version, metadata, predict)."""

    def __init__(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                found = header.get("format")
                kind = CALIBRATED if found == FORMAT_1 else header.get("kind")
                if found not in (FORMAT, FORMAT_1) or kind not in KINDS:
                    raise ModelCorruptError(
                        path,
                        f"not a slim model file this code reads (format {found!r}, kind "
                        f"{kind!r}; it reads {FORMAT} {' or '.join(KINDS)} and {FORMAT_1})",
                    )
                self._kind: str = kind
                self._idf = data["idf"]
                if kind == CALIBRATED:
                    self._folds = [
                        (
                            data[f"coef_{k}"],
                            data[f"intercept_{k}"],
                            data[f"positions_{k}"],
                            data[f"sigmoid_{k}"],
                        )
                        for k in range(int(header["folds"]))
                    ]
                else:
                    self._svc_weights = data["svc_weights"]
                    self._svc_intercepts = data["svc_intercepts"]
                    self._svc_platt = data["svc_platt"]
                    if self._svc_weights.shape[0] != int(header["estimators"]):
                        raise ValueError("svc_weights has not one row per estimator")
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
        if self._kind == ONE_VS_REST:
            return self._one_vs_rest_proba(rows)
        return self._calibrated_proba(rows)

    def _calibrated_proba(self, rows: list[tuple[Any, Any]]) -> Any:
        """CalibratedClassifierCV.predict_proba: per fold, LinearSVC decisions, sigmoid
        calibrators, one-vs-rest normalisation; then the mean over folds."""
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

    def _one_vs_rest_proba(self, rows: list[tuple[Any, Any]]) -> Any:
        """OneVsRestClassifier.predict_proba over binary SVC(kernel="linear", probability=True)."""
        decision = np.empty((len(rows), self._svc_weights.shape[0]))
        for r, (indices, values) in enumerate(rows):
            decision[r] = self._svc_weights[:, indices] @ values + self._svc_intercepts
        positive = _libsvm_binary_probability(
            decision, self._svc_platt[:, 0], self._svc_platt[:, 1]
        )
        # as OneVsRestClassifier builds it: one column per estimator, [1 - p, p] for a single
        # one (two classes), rows normalised to sum 1 where their sum is not 0
        y = np.array([positive[:, e] for e in range(positive.shape[1])]).T
        if positive.shape[1] == 1:
            y = np.concatenate((1 - y, y), axis=1)
        row_sums = np.sum(y, axis=1)[:, np.newaxis]
        np.divide(y, row_sums, out=y, where=row_sums != 0)
        return y

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        classes = self._classes
        out = []
        for row in self.predict_proba(texts):
            probabilities = {label: float(p) for label, p in zip(classes, row, strict=True)}
            best = max(probabilities, key=lambda label: probabilities[label])
            out.append(Prediction(label=best, probabilities=probabilities))
        return out


def _libsvm_binary_probability(decision: Any, a: Any, b: Any) -> Any:
    """`SVC.predict_proba(X)[:, 1]` of binary SVCs (one per column) from libsvm's decision
    values (w.x - rho, positive for libsvm's first label, 0), as scikit-learn's libsvm computes
    it: sigmoid_predict in its overflow-free form, the pairwise probability clipped to
    [1e-7, 1 - 1e-7], then multiclass_probability for k = 2 (scikit-learn's libsvm couples two
    classes too, iteratively, rather than returning the pairwise probability), each operation
    in libsvm's order so that the doubles agree."""
    f_apb = decision * a + b
    e = np.exp(-np.abs(f_apb))  # exp(-fApB) where fApB >= 0, exp(fApB) elsewhere: no overflow
    sigmoid = np.where(f_apb >= 0, e / (1.0 + e), 1.0 / (1 + e))
    r01 = np.minimum(np.maximum(sigmoid, LIBSVM_MIN_PROB), 1 - LIBSVM_MIN_PROB)
    r10 = 1 - r01
    # Q of Wu, Lin and Weng's method 2 for k = 2 (symmetric: q10 == q01)
    q00, q11, q01 = r10 * r10, r01 * r01, -r10 * r01
    p0 = np.full_like(r01, 1.0 / 2)
    p1 = np.full_like(r01, 1.0 / 2)
    active = np.ones(r01.shape, dtype=bool)
    for _ in range(LIBSVM_COUPLING_ROUNDS):
        qp0 = q00 * p0 + q01 * p1
        qp1 = q01 * p0 + q11 * p1
        pqp = p0 * qp0 + p1 * qp1
        active &= ~(np.maximum(np.abs(qp0 - pqp), np.abs(qp1 - pqp)) < LIBSVM_COUPLING_EPS)
        if not active.any():
            break
        # t = 0
        diff = (-qp0 + pqp) / q00
        n0 = p0 + diff
        pqp = (pqp + diff * (diff * q00 + 2 * qp0)) / (1 + diff) / (1 + diff)
        qp0, qp1 = (qp0 + diff * q00) / (1 + diff), (qp1 + diff * q01) / (1 + diff)
        n0, n1 = n0 / (1 + diff), p1 / (1 + diff)
        # t = 1
        diff = (-qp1 + pqp) / q11
        n1 = n1 + diff
        n0, n1 = n0 / (1 + diff), n1 / (1 + diff)
        p0 = np.where(active, n0, p0)
        p1 = np.where(active, n1, p1)
    return p1


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
        description="Export a fast or course model for NumPy-only serving, checked against "
        "scikit-learn.",
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

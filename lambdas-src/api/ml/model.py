"""Build, save and load the text classifier: one joblib file holding the pipeline and its metadata.

The file is a pickle (joblib): load only files you produced yourself (the Docker build trains its
own). Loading checks the metadata and refuses, with a one-line `ModelError`, a missing file, a
file that is not a model written by `save_model`, or a model written by another scikit-learn.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

# scikit-learn and joblib are imported where they are used: importing them takes seconds, and a
# missing model file or a bad setting should be reported at once.
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

FORMAT = "week-text-classifier/1"
Algorithm = Literal["course", "fast"]
ALGORITHMS: tuple[Algorithm, ...] = ("course", "fast")

# scikit-learn 1.9 deprecates SVC(probability=True) (removal planned for 1.11) and warns with
# this message once per fit of each one-vs-rest SVC. The course's pipeline is kept on purpose
# (it is what TP2 teaches); train() silences exactly this warning and nothing else. The fast
# option below is the replacement the warning suggests: a calibrated linear SVM.
_SVC_PROBABILITY_DEPRECATION = r"The `probability` parameter was deprecated"


class ModelError(Exception):
    """A model file cannot be used; the message is one line naming the path and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = " ".join(problem.split())
        super().__init__(f"{path}: {self.problem}")


class ModelNotFoundError(ModelError):
    """The model file does not exist."""


class ModelCorruptError(ModelError):
    """The file exists but is not a readable model written by `save_model`."""


class ModelIncompatibleError(ModelError):
    """The model was written by another scikit-learn version."""


ClassWeight = Literal["none", "balanced"]
CLASS_WEIGHTS: tuple[ClassWeight, ...] = ("none", "balanced")


def build_pipeline(
    algorithm: Algorithm = "course",
    calibration_folds: int = 3,
    class_weight: ClassWeight = "none",
) -> Pipeline:
    """Return an untrained pipeline: cleaning, TF-IDF (English stop words), a probabilistic SVM.

    The first step, `FunctionTransformer(ml.clean.clean_texts)`, cleans every text the pipeline
    is given, at fit and at predict time alike (ml/clean.py says what it does).
    course: the TP2 pipeline, OneVsRest(SVC(kernel='linear', probability=True)); libsvm's
    Platt scaling makes it O(n^2) or worse in the number of texts.
    fast: LinearSVC calibrated with CalibratedClassifierCV (sigmoid, `calibration_folds` folds),
    liblinear, near-linear in the number of texts.
    class_weight "balanced" weighs each class by the inverse of its frequency. course: the
    SVCs' class_weight (within each one-vs-rest binary problem). fast: `train` passes balanced
    sample weights to the calibrated classifier, so that both the LinearSVC and the sigmoid
    calibration see them (weighting the SVM alone is undone by a calibration fitted on the
    observed frequencies).
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC, LinearSVC

    from ml.clean import clean_texts

    if class_weight not in CLASS_WEIGHTS:
        raise ValueError(
            f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {class_weight!r}"
        )
    weight = None if class_weight == "none" else class_weight
    cleaner = FunctionTransformer(clean_texts)
    vectorizer = TfidfVectorizer(stop_words="english")
    if algorithm == "course":
        return make_pipeline(
            cleaner,
            vectorizer,
            OneVsRestClassifier(SVC(kernel="linear", probability=True, class_weight=weight)),
        )
    if algorithm == "fast":
        return make_pipeline(
            cleaner,
            vectorizer,
            CalibratedClassifierCV(LinearSVC(), cv=calibration_folds, method="sigmoid"),
        )
    raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")


def train(
    pipeline: Pipeline,
    texts: Sequence[str],
    labels: Sequence[str],
    class_weight: ClassWeight = "none",
) -> Pipeline:
    """Fit `pipeline`, silencing only scikit-learn 1.9's SVC(probability=True) deprecation.

    class_weight "balanced" on a fast pipeline fits its calibrated classifier with balanced
    sample weights (the course pipeline carries its weighting in the SVCs, see build_pipeline).
    """
    fit_params: dict[str, Any] = {}
    last_name, last_step = pipeline.steps[-1]
    if class_weight == "balanced" and type(last_step).__name__ == "CalibratedClassifierCV":
        from sklearn.utils.class_weight import compute_sample_weight

        fit_params[f"{last_name}__sample_weight"] = compute_sample_weight("balanced", list(labels))
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=_SVC_PROBABILITY_DEPRECATION, category=FutureWarning
        )
        pipeline.fit(list(texts), list(labels), **fit_params)
    return pipeline


def runtime_versions() -> dict[str, str]:
    """Versions recorded in the metadata; scikit-learn is the one checked at load time."""
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in ("scikit-learn", "numpy", "scipy", "joblib")},
    }


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def make_metadata(
    pipeline: Pipeline, algorithm: Algorithm, data_sha256: str, **extra: Any
) -> dict[str, Any]:
    return {
        "algorithm": algorithm,
        "classes": [str(c) for c in pipeline.classes_],
        "versions": runtime_versions(),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": data_sha256,
        **extra,
    }


def save_model(pipeline: Pipeline, metadata: dict[str, Any], path: Path) -> None:
    """Write pipeline and metadata to `path` atomically (a reader never sees half a file)."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "metadata": metadata, "pipeline": pipeline}
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(payload, handle, compress=3)
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; the API may run as another user
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Prediction:
    label: str
    probabilities: dict[str, float]


@dataclass(frozen=True)
class TextClassifier:
    """A loaded model: the fitted pipeline and the metadata written with it."""

    pipeline: Pipeline
    metadata: dict[str, Any]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.metadata["classes"])

    @property
    def version(self) -> str:
        """Short identifier stored with each prediction: algorithm, data hash, training date."""
        m = self.metadata
        return f"{m['algorithm']}:{str(m['data_sha256'])[:12]}:{m['trained_at']}"

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label and probability of every class for each text."""
        rows = self.pipeline.predict_proba(list(texts))
        classes = self.classes
        out = []
        for row in rows:
            probabilities = {label: float(p) for label, p in zip(classes, row, strict=True)}
            best = max(probabilities, key=lambda label: probabilities[label])
            out.append(Prediction(label=best, probabilities=probabilities))
        return out


def load_model(path: Path | str) -> TextClassifier:
    """Load and check a model file; raise a `ModelError` subclass if it cannot be used."""
    path = Path(path)
    if not path.is_file():
        problem = "is a directory, not a model file" if path.is_dir() else "model file not found"
        raise ModelNotFoundError(path, f"{problem}; train one with: python -m ml.algo --out {path}")
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    try:
        with warnings.catch_warnings():
            # An estimator pickled by another scikit-learn warns while unpickling: make it fatal.
            warnings.simplefilter("error", InconsistentVersionWarning)
            payload = joblib.load(path)
    except InconsistentVersionWarning as exc:
        raise ModelIncompatibleError(
            path,
            f"pickled by scikit-learn {exc.original_sklearn_version}, this runtime has "
            f"{exc.current_sklearn_version}; retrain it with python -m ml.algo",
        ) from exc
    except Exception as exc:  # pickle/joblib raise many types for a damaged file
        raise ModelCorruptError(
            path, f"cannot be read as a model file ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelCorruptError(path, f"not a model file written by ml/algo.py (format {FORMAT})")
    metadata = payload.get("metadata")
    pipeline = payload.get("pipeline")
    if not isinstance(metadata, dict) or not hasattr(pipeline, "predict_proba"):
        raise ModelCorruptError(path, "model file lacks its metadata or its pipeline")
    trained_with = metadata.get("versions", {}).get("scikit-learn")
    runtime = version("scikit-learn")
    if trained_with != runtime:
        raise ModelIncompatibleError(
            path,
            f"trained with scikit-learn {trained_with}, this runtime has {runtime}; "
            "retrain it with python -m ml.algo",
        )
    classes = metadata.get("classes")
    fitted = [str(c) for c in getattr(pipeline, "classes_", [])]
    if not isinstance(classes, list) or len(classes) < 2 or classes != fitted:
        raise ModelCorruptError(
            path, f"metadata classes {classes!r} do not match the pipeline's {fitted!r}"
        )
    for key in ("algorithm", "trained_at", "data_sha256"):
        if key not in metadata:
            raise ModelCorruptError(path, f"metadata lacks {key!r}")
    return TextClassifier(pipeline=pipeline, metadata=metadata)

"""TP2's algo.py: clean a CSV of labelled texts, train the classifier, evaluate it, dump it.

    python -m ml.algo                                  # sample data, course pipeline
    python -m ml.algo --data my.csv --out model/model.joblib --algorithm fast
    python -m ml.algo --data labeled_data.csv --text-column tweet --label-column class \\
        --label-names 0=hate_speech,1=offensive_language,2=neither --algorithm fast
    python -m ml.algo @ml/train.args                    # options from a file, one per line

The CSV needs a text column and a label column (`text` and `label` unless --text-column and
--label-column say otherwise; other columns are ignored). --label-names maps the label column's
values to class names (every value found must have a name). The file may start with a BOM, use
CRLF line ends, hold line breaks inside quoted cells, numbers in the text column and empty lines.

Each text is cleaned by ml.clean.clean_text (HTML entities, URLs, retweet markers, mentions,
whitespace; the report counts the rows each step changed). Then rows whose cleaned text is
empty, missing or has no letter, rows without a label and duplicate texts (compared case- and
whitespace-insensitively after cleaning, the first kept) are dropped and counted. The model is
trained on the raw texts: its pipeline's first step is the same cleaning, so the served model
cleans what it is asked to classify exactly as it cleaned its training texts.

A stratified part of the rows (--test-size) is held out: accuracy, macro-F1, the weighted
averages, per-class precision, recall and F1 and the confusion matrix are printed and stored in
the model's metadata (`evaluation`). The model trained on the rest is dumped with its metadata.

Exit status: 0 trained, 2 unusable input (bad arguments, unreadable CSV, missing column, too few
rows, a label without a name).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python ml/algo.py`: make the `ml` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.clean import STEP_NAMES, clean_with_counts
from ml.model import (
    ALGORITHMS,
    CLASS_WEIGHTS,
    Algorithm,
    ClassWeight,
    build_pipeline,
    make_metadata,
    save_model,
    sha256_of_file,
    train,
)

API_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = API_ROOT / "ml" / "data" / "sample.csv"
DEFAULT_OUT = API_ROOT / "model" / "model.joblib"
MISSING_MARKERS = frozenset({"nan", "null", "none", "n/a", "na"})


class DataError(Exception):
    """The CSV cannot be used for training; the message says why."""


@dataclass
class CleaningReport:
    rows_read: int = 0
    changed: Counter[str] = field(default_factory=Counter)  # cleaning step -> rows it changed
    empty: int = 0
    non_text: int = 0
    unlabelled: int = 0
    duplicates: int = 0
    classes: Counter[str] = field(default_factory=Counter)

    @property
    def kept(self) -> int:
        return sum(self.classes.values())

    def summary(self) -> str:
        per_class = ", ".join(f"{label} {n}" for label, n in sorted(self.classes.items()))
        steps = ", ".join(f"{name} {self.changed[name]}" for name in STEP_NAMES)
        return (
            f"read {self.rows_read} rows; cleaning changed {steps}; "
            f"dropped {self.empty} empty, {self.non_text} non-text, "
            f"{self.unlabelled} unlabelled, {self.duplicates} duplicate; "
            f"kept {self.kept} in {len(self.classes)} classes ({per_class})"
        )

    def as_metadata(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "changed": {name: self.changed[name] for name in STEP_NAMES},
            "dropped": {
                "empty": self.empty,
                "non_text": self.non_text,
                "unlabelled": self.unlabelled,
                "duplicate": self.duplicates,
            },
            "kept": self.kept,
        }


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(repr(c) if c else "(unnamed)" for c in columns) or "none"


def read_dataset(
    path: Path,
    text_column: str = "text",
    label_column: str = "label",
    label_names: dict[str, str] | None = None,
) -> tuple[list[str], list[str], CleaningReport]:
    """Read and clean the CSV; return the kept rows' raw texts, their labels and the report.

    Labels are the label column's values, renamed through `label_names` when given.
    """
    report = CleaningReport()
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    unnamed: Counter[str] = Counter()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            for option, needed in (
                ("--text-column", text_column),
                ("--label-column", label_column),
            ):
                if needed not in columns:
                    raise DataError(
                        f"{option} {needed!r}: no such column in {path} "
                        f"(columns: {_column_list(columns)})"
                    )
            reader.fieldnames = columns
            for row in reader:
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue  # a stray line holding only whitespace or commas
                report.rows_read += 1
                raw = row.get(text_column) or ""
                text = clean_with_counts(raw, report.changed)
                label = (row.get(label_column) or "").strip()
                if not text or text.lower() in MISSING_MARKERS:
                    report.empty += 1
                elif not any(ch.isalpha() for ch in text):
                    report.non_text += 1
                elif not label or label.lower() in MISSING_MARKERS:
                    report.unlabelled += 1
                elif text.casefold() in seen:
                    report.duplicates += 1
                else:
                    if label_names is not None:
                        if label not in label_names:
                            unnamed[label] += 1
                            continue
                        label = label_names[label]
                    seen.add(text.casefold())
                    texts.append(raw)
                    labels.append(label)
                    report.classes[label] += 1
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path}: is a directory, not a CSV file") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from exc
    if unnamed:
        found = ", ".join(f"{v!r} ({n} rows)" for v, n in sorted(unnamed.items()))
        raise DataError(f"--label-names has no name for label value(s) {found} of {label_column!r}")
    return texts, labels, report


def parse_label_names(value: str) -> dict[str, str]:
    """`0=hate_speech,1=offensive_language` -> {"0": "hate_speech", "1": ...} (argparse type)."""
    names: dict[str, str] = {}
    for item in value.split(","):
        raw, sep, name = item.partition("=")
        raw, name = raw.strip(), name.strip()
        if not sep or not raw or not name:
            raise argparse.ArgumentTypeError(
                f"expected value=name pairs separated by commas, got {item.strip()!r}"
            )
        if raw in names:
            raise argparse.ArgumentTypeError(f"label value {raw!r} is named twice")
        if name in names.values():
            raise argparse.ArgumentTypeError(f"class name {name!r} is given to two values")
        names[raw] = name
    return names


def check_trainable(report: CleaningReport, test_size: float) -> None:
    if len(report.classes) < 2:
        raise DataError(f"need at least 2 classes after cleaning, got {len(report.classes)}")
    rare = sorted(label for label, n in report.classes.items() if n < 5)
    if rare:
        raise DataError(f"need at least 5 rows per class after cleaning; too few: {rare}")
    if round(report.kept * test_size) < len(report.classes):
        raise DataError(
            f"--test-size {test_size} holds out fewer rows than there are classes "
            f"({report.kept} rows, {len(report.classes)} classes)"
        )


def _averages(figures: Sequence[Any]) -> dict[str, float]:
    precision, recall, f1 = figures[:3]
    return {
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "f1": round(float(f1), 4),
    }


def evaluate(
    pipeline: Any, texts: Sequence[str], labels: Sequence[str], classes: Sequence[str]
) -> dict[str, Any]:
    """Held-out figures: accuracy, macro-F1, weighted averages, per class, confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    predicted = pipeline.predict(list(texts))
    order = list(classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=order, zero_division=0
    )
    macro = precision_recall_fscore_support(
        labels, predicted, labels=order, average="macro", zero_division=0
    )
    weighted = precision_recall_fscore_support(
        labels, predicted, labels=order, average="weighted", zero_division=0
    )
    matrix = confusion_matrix(labels, predicted, labels=order)
    return {
        "test_rows": len(labels),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro": _averages(macro),
        "weighted": _averages(weighted),
        "per_class": {
            name: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for name, p, r, f, s in zip(order, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": {
            "labels": order,
            "rows_true_columns_predicted": [[int(n) for n in row] for row in matrix],
        },
    }


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as a plain-text table (what `python -m ml.algo` prints)."""
    per_class = evaluation["per_class"]
    width = max(12, *(len(name) for name in per_class))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for name, m in per_class.items():
        lines.append(
            f"{name:<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}"
            f"  {m['support']:7d}"
        )
    for avg in ("macro", "weighted"):
        m = evaluation[avg]
        lines.append(
            f"{avg + ' avg':<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}"
            f"  {evaluation['test_rows']:7d}"
        )
    lines.append(f"accuracy {evaluation['accuracy']:.3f}, macro-F1 {evaluation['macro']['f1']:.3f}")
    matrix = evaluation["confusion_matrix"]
    lines.append("confusion matrix (rows: true class, columns: predicted)")
    cell = max(8, *(len(n) for n in matrix["labels"]))
    lines.append(" " * width + "  " + " ".join(f"{n:>{cell}}" for n in matrix["labels"]))
    for name, row in zip(matrix["labels"], matrix["rows_true_columns_predicted"], strict=True):
        lines.append(f"{name:<{width}}  " + " ".join(f"{n:>{cell}d}" for n in row))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ml.algo",
        description="Clean a CSV of labelled texts, train the classifier, evaluate it.",
        epilog="@FILE reads arguments from FILE, one per line (the API image: @ml/train.args).",
        fromfile_prefix_chars="@",
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="CSV with a text and a label column"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"model file (default {DEFAULT_OUT})"
    )
    parser.add_argument("--text-column", default="text", help="text column (default text)")
    parser.add_argument("--label-column", default="label", help="label column (default label)")
    parser.add_argument(
        "--label-names",
        type=parse_label_names,
        default=None,
        metavar="VALUE=NAME,...",
        help="class names for the label column's values, e.g. 0=hate_speech,1=offensive_language",
    )
    parser.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default=None,
        help="course: OneVsRest(SVC(linear, probability=True)), the TP2 pipeline (default); "
        "fast: calibrated LinearSVC, seconds instead of minutes on 25k texts",
    )
    parser.add_argument("--fast", action="store_true", help="same as --algorithm fast")
    parser.add_argument(
        "--class-weight",
        choices=CLASS_WEIGHTS,
        default="none",
        help="balanced: weigh each class by the inverse of its frequency (default none)",
    )
    parser.add_argument(
        "--test-size", type=float, default=0.2, help="held-out fraction (default 0.2)"
    )
    parser.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    args = parser.parse_args(argv)
    if not 0.0 < args.test_size < 0.9:
        parser.error(f"--test-size must be between 0 and 0.9, got {args.test_size}")
    if args.fast and args.algorithm not in (None, "fast"):
        parser.error(f"--fast contradicts --algorithm {args.algorithm}")
    args.algorithm = "fast" if args.fast else (args.algorithm or "course")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from sklearn.model_selection import train_test_split

    args = parse_args(argv)
    algorithm: Algorithm = args.algorithm
    class_weight: ClassWeight = args.class_weight
    try:
        texts, labels, report = read_dataset(
            args.data, args.text_column, args.label_column, args.label_names
        )
        print(f"{args.data}: {report.summary()}")
        check_trainable(report, args.test_size)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    smallest = min(Counter(y_train).values())
    pipeline = build_pipeline(
        algorithm, calibration_folds=min(3, smallest), class_weight=class_weight
    )
    started = time.perf_counter()
    train(pipeline, x_train, y_train, class_weight)
    seconds = time.perf_counter() - started
    classes = [str(c) for c in pipeline.classes_]
    evaluation = evaluate(pipeline, x_test, y_test, classes)
    print(
        f"trained the {algorithm} pipeline (class weight {class_weight}) on {len(x_train)} rows "
        f"in {seconds:.2f} s; held-out accuracy {evaluation['accuracy']:.3f}, "
        f"macro-F1 {evaluation['macro']['f1']:.3f} on {len(x_test)} rows"
    )
    print(format_evaluation(evaluation))
    metadata = make_metadata(
        pipeline,
        algorithm,
        sha256_of_file(args.data),
        data_rows=report.kept,
        train_rows=len(x_train),
        test_rows=len(x_test),
        accuracy=evaluation["accuracy"],
        train_seconds=round(seconds, 3),
        class_weight=class_weight,
        data_columns={"text": args.text_column, "label": args.label_column},
        label_names=args.label_names,
        cleaning=report.as_metadata(),
        evaluation=evaluation,
    )
    save_model(pipeline, metadata, args.out)
    print(f"model written to {args.out} (classes {', '.join(metadata['classes'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""TP2's algo.py: clean a CSV of labelled texts, train the classifier, dump it with its metadata.

    python -m ml.algo                                  # sample data, course pipeline
    python -m ml.algo --data my.csv --out model/model.joblib --fast

The CSV needs a `text` and a `label` column (other columns are ignored). Rows whose text is
empty, missing or has no letter at all, rows without a label and duplicate texts (compared
case- and whitespace-insensitively, the first one kept) are dropped, and their counts printed.
A stratified part of the rows (--test-size) is held out to print the accuracy; the model
trained on the rest is dumped, with its metadata, to one joblib file.

Exit status: 0 trained, 2 unusable input (bad arguments, unreadable CSV, too few rows).
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

if __package__ in (None, ""):  # run as `python ml/algo.py`: make the `ml` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.model_selection import train_test_split

from ml.model import (
    Algorithm,
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
        return (
            f"read {self.rows_read} rows; dropped {self.empty} empty, {self.non_text} non-text, "
            f"{self.unlabelled} unlabelled, {self.duplicates} duplicate; "
            f"kept {self.kept} in {len(self.classes)} classes ({per_class})"
        )


def read_dataset(path: Path) -> tuple[list[str], list[str], CleaningReport]:
    """Read and clean the CSV; return texts, labels and what was dropped."""
    report = CleaningReport()
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            for needed in ("text", "label"):
                if needed not in columns:
                    raise DataError(
                        f"{path}: no {needed!r} column (columns: {', '.join(columns) or 'none'})"
                    )
            reader.fieldnames = columns
            for row in reader:
                report.rows_read += 1
                text = " ".join((row.get("text") or "").split())
                label = (row.get("label") or "").strip()
                if not text or text.lower() in MISSING_MARKERS:
                    report.empty += 1
                elif not any(ch.isalpha() for ch in text):
                    report.non_text += 1
                elif not label or label.lower() in MISSING_MARKERS:
                    report.unlabelled += 1
                elif text.casefold() in seen:
                    report.duplicates += 1
                else:
                    seen.add(text.casefold())
                    texts.append(text)
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
    return texts, labels, report


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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ml.algo", description="Clean a CSV of texts and train the classifier."
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="CSV with text and label columns"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"model file (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="calibrated LinearSVC instead of the course's SVC(probability=True)",
    )
    parser.add_argument(
        "--test-size", type=float, default=0.2, help="held-out fraction (default 0.2)"
    )
    parser.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    args = parser.parse_args(argv)
    if not 0.0 < args.test_size < 0.9:
        parser.error(f"--test-size must be between 0 and 0.9, got {args.test_size}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    algorithm: Algorithm = "fast" if args.fast else "course"
    try:
        texts, labels, report = read_dataset(args.data)
        print(f"{args.data}: {report.summary()}")
        check_trainable(report, args.test_size)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    smallest = min(Counter(y_train).values())
    pipeline = build_pipeline(algorithm, calibration_folds=min(3, smallest))
    started = time.perf_counter()
    train(pipeline, x_train, y_train)
    seconds = time.perf_counter() - started
    accuracy = float(pipeline.score(x_test, y_test))
    print(
        f"trained the {algorithm} pipeline on {len(x_train)} rows in {seconds:.2f} s; "
        f"held-out accuracy {accuracy:.3f} on {len(x_test)} rows"
    )
    metadata = make_metadata(
        pipeline,
        algorithm,
        sha256_of_file(args.data),
        data_rows=report.kept,
        train_rows=len(x_train),
        test_rows=len(x_test),
        accuracy=accuracy,
        train_seconds=round(seconds, 3),
    )
    save_model(pipeline, metadata, args.out)
    print(f"model written to {args.out} (classes {', '.join(metadata['classes'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

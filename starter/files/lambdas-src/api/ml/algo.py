"""TP2 (Jour 2): algo.py, the model of the week. Your code goes where the TODOs are.

What the course asks ("nettoyer les données, entraîner, sauvegarder le modèle"):

1. Read the CSV of labelled tweets (the sample in ml/data/sample.csv, columns `text` and
   `label`; the course's data set, labeled_data.csv, uses `tweet` and `class` with the classes
   0 = hate_speech, 1 = offensive_language, 2 = neither).
2. Clean each text ("nettoyage"): HTML entities (&amp;), URLs, "RT" markers, @mentions, extra
   spaces. ml/clean.py gives you `clean_text` if you want it; rows left empty are dropped.
3. Train the course's pipeline:
       make_pipeline(TfidfVectorizer(stop_words="english"),
                     OneVsRestClassifier(SVC(kernel="linear", probability=True)))
   on part of the rows, and evaluate it on the rest (accuracy, a classification report).
4. Dump the trained model ("sauvegarder le modèle") with ml.model.save_model, so that the API
   and the Streamlit app load it:
   `python -m ml.algo --data ml/data/sample.csv --out model/model.joblib`.

The API's Docker image runs `python -m ml.algo @ml/train.args --out /src/model/model.joblib`
while it builds: keep the options of ml/train.args (--data, --out, ...) working.

Until you write it, this file trains a BASELINE, not the course's model: scikit-learn's
DummyClassifier, which ignores the text and always answers the most frequent class ("classe
majoritaire"). It is there so that the API's image builds and the API starts from the first day;
its accuracy is the share of that class, the score your pipeline must beat. Replace it (the
TODO in `train_baseline`) by TP2's pipeline.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

if __package__ in (None, ""):  # run as `python ml/algo.py`: make the `ml` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.algo", fromfile_prefix_chars="@")
    parser.add_argument("--data", default="ml/data/sample.csv", help="CSV of labelled texts")
    parser.add_argument("--out", default="model/model.joblib", help="where the model is dumped")
    parser.add_argument("--text-column", default="text", help="column of the texts")
    parser.add_argument("--label-column", default="label", help="column of the labels")
    # TODO TP2: the other options of ml/train.args (text and label columns, label names, ...)
    args, _unknown = parser.parse_known_args(argv)
    return args


def read_rows(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    """The texts and labels of a CSV; rows without a text or a label are skipped."""
    texts: list[str] = []
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            text, label = (
                (row.get(text_column) or "").strip(),
                (row.get(label_column) or "").strip(),
            )
            if text and label:
                texts.append(text)
                labels.append(label)
    return texts, labels


def train_baseline(texts: list[str], labels: list[str]) -> Pipeline:
    """BASELINE, NOT THE COURSE'S MODEL: the most frequent class, whatever the text."""
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    # TODO TP2: clean the texts ("nettoyage"), split them ("train_test_split"), train the course's
    # pipeline (TfidfVectorizer + OneVsRestClassifier(SVC(kernel="linear", probability=True)))
    # instead of this DummyClassifier, and print its evaluation ("évaluation": accuracy,
    # classification_report) on the held-out rows.
    pipeline = make_pipeline(DummyClassifier(strategy="most_frequent"))
    return pipeline.fit(texts, labels)


def main(argv: Sequence[str] | None = None) -> int:
    from ml.model import make_metadata, save_model

    args = parse_args(argv)
    data = Path(args.data)
    try:
        texts, labels = read_rows(data, args.text_column, args.label_column)
    except OSError as exc:
        print(f"error: cannot read --data {data}: {exc.strerror}", file=sys.stderr)
        return 2
    if len(set(labels)) < 2:
        print(
            f"error: --data {data} must hold at least two classes in column {args.label_column}",
            file=sys.stderr,
        )
        return 2
    pipeline = train_baseline(texts, labels)
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    save_model(pipeline, make_metadata(pipeline, "baseline", digest), Path(args.out))
    print(
        f"BASELINE (DummyClassifier, most frequent class) trained on {len(texts)} rows of {data}, "
        f"dumped to {args.out}. TODO TP2: replace it by the course's pipeline.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

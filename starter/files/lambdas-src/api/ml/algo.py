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
   and the Streamlit app load it: `python -m ml.algo --data ml/data/sample.csv --out model/model.joblib`.

The API's Docker image runs `python -m ml.algo @ml/train.args --out /src/model/model.joblib`
while it builds: keep the options of ml/train.args (--data, --out, ...) working.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.algo", fromfile_prefix_chars="@")
    parser.add_argument("--data", default="ml/data/sample.csv", help="CSV of labelled texts")
    parser.add_argument("--out", default="model/model.joblib", help="where the model is dumped")
    # TODO TP2: the other options of ml/train.args (text and label columns, label names, ...)
    args, _unknown = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # TODO TP2: read args.data, clean the texts, train the pipeline, evaluate it, dump it to args.out
    print(f"TODO TP2: train the model on {args.data} and dump it to {args.out}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""The fast model served with NumPy alone (app/slim_model.py): the same probabilities as
scikit-learn's own predict_proba (under 1e-9), no scikit-learn or SciPy imported to serve it,
the course pipeline refused in one line, a damaged file refused at start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.slim_model import NotExportable, SlimClassifier, export, main, read_texts
from ml.model import ModelCorruptError, load_model
from tests.conftest import API_ROOT, SAMPLE_CSV, api_env, free_port, running_api, train_model


def _course_data() -> Path:
    """../shared beside the clone (CI, /work/main) or two levels up (a worktree in /work/wt)."""
    for base in (API_ROOT.parents[2], API_ROOT.parents[3]):
        path = base / "shared" / "data" / "course-tweets" / "labeled_data.csv"
        if path.is_file():
            return path
    return API_ROOT.parents[2] / "shared" / "data" / "course-tweets" / "labeled_data.csv"


COURSE_DATA = _course_data()
ODD_TEXTS = [
    "the and of",  # stop words only: no feature, the intercepts decide
    "zzzz qqqq unknownword",  # nothing in the vocabulary
    "x",  # shorter than the token pattern
    "Caf\u00e9 \u00c9LECTION Sport sport SPORT",  # case folding, accents kept
    "\u653f\u6cbb \u0645\u0631\u062d\u0628\u0627 \U0001f600 \u200bvote",
    "The striker scored twice. " * 200,  # long, repeated terms
    "tab\tnew\nline\r\nthe senate",
]


@pytest.fixture(scope="module")
def slim_path(tmp_path_factory: pytest.TempPathFactory, fast_model_path: Path) -> Path:
    out = tmp_path_factory.mktemp("slim") / "fast.npz"
    assert main([str(fast_model_path), str(out), "--check", str(SAMPLE_CSV)]) == 0
    return out


def test_probabilities_equal_scikit_learn(slim_path: Path, fast_model_path: Path) -> None:
    texts = read_texts(SAMPLE_CSV) + ODD_TEXTS
    expected = load_model(fast_model_path).pipeline.predict_proba(texts)
    got = SlimClassifier(slim_path).predict_proba(texts)
    assert got.shape == expected.shape
    assert float(np.max(np.abs(got - expected))) < 1e-12


def test_one_text_and_a_batch_give_the_same_rows(slim_path: Path) -> None:
    slim = SlimClassifier(slim_path)
    batch = slim.predict_proba(ODD_TEXTS)
    for index, text in enumerate(ODD_TEXTS):
        assert np.array_equal(slim.predict_proba([text])[0], batch[index])


def test_labels_classes_and_version_match_the_joblib_model(
    slim_path: Path, fast_model_path: Path
) -> None:
    slim, full = SlimClassifier(slim_path), load_model(fast_model_path)
    assert slim.classes == full.classes
    assert slim.version == full.version
    texts = ["The senate passed the bill.", "The striker scored twice.", "A faster chip."]
    assert [p.label for p in slim.predict(texts)] == [p.label for p in full.predict(texts)]


@pytest.mark.skipif(not COURSE_DATA.is_file(), reason=f"{COURSE_DATA} absent (../shared)")
def test_equal_on_every_text_of_the_course_data_set(tmp_path: Path) -> None:
    import csv

    names = {"0": "hate_speech", "1": "offensive_language", "2": "neither"}
    data = tmp_path / "course.csv"
    with COURSE_DATA.open(newline="", encoding="utf-8") as src, data.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "label"])
        for row in csv.DictReader(src):
            writer.writerow([row["tweet"], names[row["class"]]])
    model = train_model(tmp_path / "course-fast.joblib", "--fast")
    out = tmp_path / "course-fast.npz"
    assert main([str(model), str(out), "--check", str(data)]) == 0
    texts = read_texts(data)
    assert len(texts) > 24_000
    expected = load_model(model).pipeline.predict_proba(texts)
    worst = float(np.max(np.abs(SlimClassifier(out).predict_proba(texts) - expected)))
    print(f"course data set: {len(texts)} texts, max difference {worst:.3g}")
    assert worst < 1e-9


def test_the_course_pipeline_is_refused_in_one_line(
    course_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NotExportable, match="not a TfidfVectorizer"):
        classifier = load_model(course_model_path)
        export(classifier.pipeline, classifier.metadata, tmp_path / "x.npz")
    code = main([str(course_model_path), str(tmp_path / "y.npz"), "--check", str(SAMPLE_CSV)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot export")
    assert not (tmp_path / "y.npz").exists()


def test_serving_imports_neither_scikit_learn_nor_scipy(slim_path: Path) -> None:
    code = (
        "import sys; from app.slim_model import load_any_model; "
        f"m = load_any_model({str(slim_path)!r}); m.predict(['The senate voted.']); "
        "import app.main, app.server; "
        "bad = sorted(n for n in ('sklearn', 'scipy', 'pandas', 'joblib') if n in sys.modules); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=API_ROOT, env=api_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_damaged_slim_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelCorruptError, match="cannot be read as a slim model file"):
        SlimClassifier(bad)


def test_the_server_answers_with_a_slim_model(slim_path: Path, tmp_path: Path) -> None:
    env = api_env(
        MODEL_PATH=str(slim_path),
        SQLITE_PATH=str(tmp_path / "p.sqlite3"),
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    import json
    import urllib.request

    with running_api(env, tmp_path / "server.log") as server:
        request = urllib.request.Request(
            server.base_url + "/predict",
            data=json.dumps({"text": "The striker scored twice."}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    assert body["label"] == "sport"
    assert body["stored"] is True
    assert os.path.getsize(slim_path) > 0


def locked(name: str) -> dict[str, str]:
    """Name -> version of every package of a lock (uv's format: `name==version \\` lines)."""
    lines = (API_ROOT / name).read_text().splitlines()
    pattern = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+)")
    return {m[1]: m[2] for line in lines if (m := pattern.match(line))}


def test_the_serving_lock_is_a_subset_of_the_full_lock_without_training_packages() -> None:
    serve, full = locked("requirements-serve.lock"), locked("requirements.lock")
    assert len(serve) > 10
    assert serve.items() <= full.items()
    assert not {"scikit-learn", "scipy", "joblib"} & set(serve)

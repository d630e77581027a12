"""ml/algo.py (cleaning, training, CLI) and ml/model.py (the model file and its checks)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import pytest
import sklearn.base

from ml import algo
from ml.data import make_sample
from ml.model import (
    FORMAT,
    ModelCorruptError,
    ModelError,
    ModelIncompatibleError,
    ModelNotFoundError,
    build_pipeline,
    load_model,
    train,
)
from tests.conftest import API_ROOT, CLASSES, SAMPLE_CSV

DIRTY_CSV = """\
id,text,label
1,The striker scored twice in the final.,sport
2,,sport
3,   ,tech
4,NaN,politics
5,12345,tech
6,!!! ???,sport
7,The senate passed the budget.,
8,the STRIKER scored twice   in the final.,sport
9,The striker scored twice in the final.,sport
10,A new phone was released.,tech
11,The minister resigned.,politics
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ cleaning


def test_cleaning_reports_and_drops_empty_non_text_unlabelled_and_duplicate_rows(
    tmp_path: Path,
) -> None:
    texts, labels, report = algo.read_dataset(write(tmp_path, "dirty.csv", DIRTY_CSV))
    assert (report.rows_read, report.empty, report.non_text) == (11, 3, 2)
    assert (report.unlabelled, report.duplicates, report.kept) == (1, 2, 3)
    assert texts == [
        "The striker scored twice in the final.",
        "A new phone was released.",
        "The minister resigned.",
    ]
    assert labels == ["sport", "tech", "politics"]
    assert "dropped 3 empty, 2 non-text, 1 unlabelled, 2 duplicate; kept 3" in report.summary()


def test_the_committed_sample_has_three_balanced_classes_and_a_few_dirty_rows() -> None:
    _, _, report = algo.read_dataset(SAMPLE_CSV)
    assert dict(report.classes) == {label: 100 for label in CLASSES}
    assert (report.empty, report.non_text, report.unlabelled, report.duplicates) == (2, 2, 1, 4)


def test_the_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "sample.csv"
    assert make_sample.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SAMPLE_CSV.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,category\nhello,sport\n", "no 'label' column"),
        (b"text,label\n\xff\xfe caf\xe9,sport\n", "not UTF-8"),
        ("text,label\n" + "".join(f"sport text {i},sport\n" for i in range(20)), "at least 2"),
        (
            "text,label\n"
            + "".join(f"sport text {i},sport\ntech text {i},tech\n" for i in range(20))
            + "one politics text,politics\n",
            "at least 5 rows per class",
        ),
    ],
    ids=["missing-column", "not-utf8", "one-class", "rare-class"],
)
def test_algo_refuses_unusable_csv_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, message: str
) -> None:
    data = write(tmp_path, "bad.csv", content)
    assert algo.main(["--data", str(data), "--out", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "m.joblib").exists()


def test_algo_reports_a_missing_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert algo.main(["--data", str(missing), "--out", str(tmp_path / "m.joblib")]) == 2
    assert f"error: {missing}: file not found" in capsys.readouterr().err


# ------------------------------------------------------------------------------ training


@pytest.mark.parametrize("algorithm", ["course", "fast"])
def test_both_options_write_a_model_with_its_metadata(
    algorithm: str, course_model_path: Path, fast_model_path: Path
) -> None:
    path = course_model_path if algorithm == "course" else fast_model_path
    model = load_model(path)
    meta = model.metadata
    assert meta["algorithm"] == algorithm
    assert list(model.classes) == list(CLASSES)
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert set(meta["versions"]) >= {"python", "numpy", "scipy", "joblib"}
    assert meta["data_sha256"] == hashlib.sha256(SAMPLE_CSV.read_bytes()).hexdigest()
    assert meta["trained_at"].endswith("+00:00")
    assert (meta["data_rows"], meta["train_rows"], meta["test_rows"]) == (300, 240, 60)
    assert 0.0 <= meta["accuracy"] <= 1.0


@pytest.mark.parametrize("algorithm", ["course", "fast"])
def test_both_options_give_a_probability_for_every_class(
    algorithm: str, course_model_path: Path, fast_model_path: Path
) -> None:
    model = load_model(course_model_path if algorithm == "course" else fast_model_path)
    texts = [
        "The goalkeeper saved a penalty in the cup final.",
        "The company released a faster processor for laptops.",
        "The parliament voted on the pension reform.",
    ]
    predictions = model.predict(texts)
    assert [p.label for p in predictions] == ["sport", "tech", "politics"]
    for p in predictions:
        assert set(p.probabilities) == set(CLASSES)
        assert sum(p.probabilities.values()) == pytest.approx(1.0)
        assert p.probabilities[p.label] == max(p.probabilities.values())


def test_the_course_pipeline_is_the_tp2_one() -> None:
    pipeline = build_pipeline("course")
    vectorizer, classifier = (step for _, step in pipeline.steps)
    assert type(vectorizer).__name__ == "TfidfVectorizer"
    assert vectorizer.stop_words == "english"
    assert type(classifier).__name__ == "OneVsRestClassifier"
    svc = classifier.estimator
    assert (type(svc).__name__, svc.kernel, svc.probability) == ("SVC", "linear", True)


def test_svc_probability_deprecation_is_silenced_only_inside_train() -> None:
    texts = ["goal match team", "chip phone code", "vote senate law"] * 6
    labels = ["sport", "tech", "politics"] * 6
    with pytest.warns(FutureWarning, match="probability"):
        build_pipeline("course").fit(texts, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(build_pipeline("course"), texts, labels)


def test_algo_runs_as_a_plain_script(tmp_path: Path) -> None:
    out = tmp_path / "m.joblib"
    done = subprocess.run(
        [sys.executable, "ml/algo.py", "--fast", "--out", str(out)],
        cwd=API_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "held-out accuracy" in done.stdout
    assert load_model(out).metadata["algorithm"] == "fast"


# ------------------------------------------------------------------------------ loading


def assert_one_line(error: ModelError, path: Path, words: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}: ")
    assert words in message
    assert "\n" not in message


def test_loading_a_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.joblib"
    with pytest.raises(ModelNotFoundError) as info:
        load_model(path)
    assert_one_line(info.value, path, "model file not found")


def test_loading_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        load_model(tmp_path)
    assert_one_line(info.value, tmp_path, "is a directory")


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a pickle\n\x00\x01", b"\x80\x04\x95garbage"],
    ids=["empty", "text", "broken-pickle"],
)
def test_loading_a_corrupt_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "corrupt.joblib", content)
    with pytest.raises(ModelCorruptError) as info:
        load_model(path)
    assert_one_line(info.value, path, "cannot be read as a model file")


def test_loading_a_truncated_model_is_refused(tmp_path: Path, fast_model_path: Path) -> None:
    data = fast_model_path.read_bytes()
    path = write(tmp_path, "truncated.joblib", data[: len(data) // 2])
    with pytest.raises(ModelCorruptError):
        load_model(path)


def test_loading_a_joblib_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.joblib"
    joblib.dump(["not", "a", "model"], path)
    with pytest.raises(ModelCorruptError) as info:
        load_model(path)
    assert_one_line(info.value, path, f"not a model file written by ml/algo.py (format {FORMAT})")


def test_loading_a_model_trained_with_another_scikit_learn_is_refused(
    tmp_path: Path, fast_model_path: Path
) -> None:
    payload = joblib.load(fast_model_path)
    payload["metadata"]["versions"]["scikit-learn"] = "1.5.2"
    path = tmp_path / "old.joblib"
    joblib.dump(payload, path)
    with pytest.raises(ModelIncompatibleError) as info:
        load_model(path)
    assert_one_line(info.value, path, f"scikit-learn 1.5.2, this runtime has {sklearn.__version__}")


def test_loading_a_model_pickled_by_another_scikit_learn_is_refused(
    tmp_path: Path, fast_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = joblib.load(fast_model_path)
    path = tmp_path / "pickled-elsewhere.joblib"
    monkeypatch.setattr(sklearn.base, "__version__", "1.4.0")  # what estimators record
    joblib.dump(payload, path)
    monkeypatch.undo()
    with pytest.raises(ModelIncompatibleError) as info:
        load_model(path)
    assert_one_line(info.value, path, "pickled by scikit-learn 1.4.0")


def test_loading_a_model_whose_metadata_classes_disagree_is_refused(
    tmp_path: Path, fast_model_path: Path
) -> None:
    payload = joblib.load(fast_model_path)
    payload["metadata"]["classes"] = ["a", "b", "c"]
    path = tmp_path / "mismatch.joblib"
    joblib.dump(payload, path)
    with pytest.raises(ModelCorruptError) as info:
        load_model(path)
    assert_one_line(info.value, path, "do not match")


def test_the_model_file_is_written_atomically_and_readable_by_others(
    tmp_path: Path, fast_model_path: Path
) -> None:
    out = tmp_path / "nested" / "model.joblib"
    assert algo.main(["--fast", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["model.joblib"]

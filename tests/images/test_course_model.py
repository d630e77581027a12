"""The week configured for the course's data set (issue 8 §1): `model` in week.config.json makes
synth stage labeled_data.csv and the training options into the API's build context, and the API
image built from it trains the fast pipeline on the 24,783 tweets and serves the three classes.

Skipped, and said so, when the course's data set is absent (../shared/data/course-tweets, or
COURSE_TWEETS_CSV).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_support import (
    PYTHON_STANDIN,
    ROOT,
    docker,
    heroku_size_problem,
    index_build_args,
    inspect,
    load_stack,
    run,
)

CLASSES = ["hate_speech", "neither", "offensive_language"]


def course_csv() -> Path | None:
    if os.environ.get("COURSE_TWEETS_CSV"):
        return Path(os.environ["COURSE_TWEETS_CSV"])
    for shared in (ROOT.parent / "shared", Path("/work/shared")):
        candidate = shared / "data" / "course-tweets" / "labeled_data.csv"
        if candidate.is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def course_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = course_csv()
    if data is None:
        pytest.skip("the course's data set is absent (../shared/data/course-tweets)")
    work = tmp_path_factory.mktemp("course-week")
    config = work / "week.config.json"
    model = {
        "data": str(data),
        # the course's file lives beside the project, not in it: name its folder as allowed
        "dataRoots": [str(data.parent)],
        "textColumn": "tweet",
        "labelColumn": "class",
        "labelNames": {"0": "hate_speech", "1": "offensive_language", "2": "neither"},
    }
    config.write_text(json.dumps({"model": model}))
    run(
        ["npm", "run", "--silent", "synth"],
        timeout=600,
        env={"CDKTF_OUTDIR": str(work / "cdktf.out"), "WEEK_CONFIG": str(config)},
        cwd=ROOT,
    )
    return load_stack(work / "cdktf.out" / "stacks" / "local")["api"].context


@pytest.fixture(scope="module")
def course_api_image(course_context: Path, run_id: str, pip_index_url: str) -> Iterator[str]:
    tag = f"week-it-{run_id}-api-course:{secrets.token_hex(4)}"
    started = time.monotonic()
    done = run(
        [
            "docker",
            "build",
            "--network",
            "host",
            "--build-arg",
            f"BASE_IMAGE={PYTHON_STANDIN}",
            *(f"--build-arg={k}={v}" for k, v in index_build_args(pip_index_url).items()),
            "-t",
            tag,
            str(course_context),
        ],
        timeout=1800,
    )
    print(f"API image on the course's data built in {time.monotonic() - started:.0f} s")
    try:
        yield tag + "\n" + done.stdout
    finally:
        run(["docker", "rmi", "-f", tag], timeout=120, check=False)


def test_synth_stages_the_data_and_the_fast_pipeline_into_the_api_context(
    course_context: Path,
) -> None:
    data = course_csv()
    assert data is not None
    assert (course_context / "ml" / "data" / "week-training.csv").read_bytes() == data.read_bytes()
    # one `--option=value` a line: no value is read as an option or an @file
    text = (course_context / "ml" / "train.args").read_text()
    lines = [line for line in text.split("\n") if line]
    assert all(line.startswith("--") and "=" in line for line in lines), lines
    args = dict(line.split("=", 1) for line in lines)
    assert args["--data"] == "ml/data/week-training.csv"
    assert args["--label-names"] == "0=hate_speech,1=offensive_language,2=neither"
    assert args["--algorithm"] == "fast"
    # the sources keep the sample and no copy of the data
    assert not (ROOT / "lambdas-src" / "api" / "ml" / "data" / "week-training.csv").exists()


def test_the_api_image_trains_on_the_course_file_and_serves_its_classes(
    course_api_image: str,
) -> None:
    # The model's own metadata says what it was trained on (the build log does not when the
    # training layer comes from the build cache).
    tag = course_api_image.split("\n", 1)[0]
    data = course_csv()
    assert data is not None
    script = (
        "import json; from app.slim_model import load_any_model;"
        " m = load_any_model('/app/model/current');"
        "print(json.dumps([list(m.classes), m.metadata['algorithm'],"
        " m.metadata['evaluation']['macro']['f1'], m.metadata['data_sha256'],"
        " m.metadata['cleaning']['rows_read'],"
        " m.predict(['RT @x: lovely sunny day'])[0].label]))"
    )
    out = docker("run", "--rm", "--network", "none", tag, "python", "-c", script, timeout=120)
    classes, algorithm, macro_f1, data_sha256, rows_read, label = json.loads(out.splitlines()[-1])
    assert data_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    assert rows_read == 24783
    assert (classes, algorithm) == (CLASSES, "fast")
    # the fast model exports to NumPy: the image serves it without scikit-learn
    served = docker(
        "run",
        "--rm",
        "--network",
        "none",
        tag,
        "sh",
        "-c",
        "readlink /app/model/current; python -c 'import sklearn' 2>&1 | tail -1",
        timeout=120,
    )
    assert served.splitlines()[0] == "model.npz"
    assert "No module named 'sklearn'" in served
    assert macro_f1 > 0.6
    assert label in CLASSES
    absent = docker(
        "run",
        "--rm",
        "--network",
        "none",
        tag,
        "sh",
        "-c",
        "ls /app/ml/data /src 2>&1; echo done",
        timeout=120,
    )
    assert "week-training.csv" not in absent  # the data stays in the builder stage


def test_the_api_image_on_the_course_file_whole_fits_herokus_500_mb(course_api_image: str) -> None:
    """The whole image, base included: the course's data must not push it over Heroku's limit."""
    tag = course_api_image.split("\n", 1)[0]
    image, base = inspect("image", tag), inspect("image", PYTHON_STANDIN)
    assert image is not None and base is not None
    problem = heroku_size_problem(tag, int(image["Size"]), PYTHON_STANDIN, int(base["Size"]))
    assert problem is None, problem

"""`npm run classroom -- check TPn` against real servers: the API of lambdas-src/api (python -m
app, as its image runs it) for TP3 and TP4, a server that is not the course's API for the
failures, and a throw-away PostgreSQL for TP5. Each check is run as the teacher runs it, with
`--url`, and read from its CSV report."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from week_testkit import REPO
from week_testkit.ports import free_port
from week_testkit.postgres import PostgresCluster
from week_testkit.processes import ProcessGroups
from week_testkit.server import ServerProcess as ApiServer

from conftest import classroom, make_database
from loadkit import ApiServers

HEADER = ["student", "check", "status", "detail"]


@pytest.fixture(scope="module")
def api(api_servers: ApiServers) -> Iterator[ApiServer]:
    with api_servers.running("teacher") as server:
        yield server


@pytest.fixture(scope="module")
def not_the_api(groups: ProcessGroups, run_dir: Path) -> Iterator[str]:
    """A web server that answers, but not as the course's API (a static file server)."""
    folder = run_dir / "static"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text("<p>my notes</p>")
    port = free_port()
    with (run_dir / "static.log").open("wb") as out:
        process = groups.start(
            "static",
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            stdout=out,
            cwd=folder,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            with contextlib.suppress(OSError):
                import urllib.request

                urllib.request.urlopen(url, timeout=2).close()
                break
            time.sleep(0.1)
        yield url
    finally:
        groups.stop(process)


def report(*args: str) -> list[list[str]]:
    run = classroom("check", *args, "--format", "csv")
    assert run.code in (0, 2), run.stderr
    rows = run.csv_rows()
    assert rows[0] == HEADER
    return rows[1:]


def test_tp3_passes_against_the_course_api(api: ApiServer) -> None:
    rows = report("TP3", "--url", api.base_url)
    assert rows == [
        ["local", "test_api.sh", "pass", f"all 17 checks passed against {api.base_url}"]
    ]


def test_tp3_fails_in_one_line_saying_why_against_another_server(not_the_api: str) -> None:
    [[student, check, status, detail]] = report("TP3", "--url", not_the_api)
    assert (student, check, status) == ("local", "test_api.sh", "fail")
    assert detail.startswith("hello world (GET /): response lacks '\"message\"'")
    assert detail.endswith("(after 0 checks passed)")


def test_tp3_without_an_answer_is_an_error_not_a_fail() -> None:
    [[_, _, status, detail]] = report("TP3", "--url", f"http://127.0.0.1:{free_port()}")
    assert status == "error"
    assert "no HTTP answer" in detail


def test_tp4_passes_hello_and_predict_and_fails_them_on_another_server(
    api: ApiServer, not_the_api: str
) -> None:
    assert [r[:3] for r in report("TP4", "--url", api.base_url)] == [
        ["local", "hello", "pass"],
        ["local", "predict", "pass"],
    ]
    rows = report("TP4", "--url", not_the_api)
    assert [r[:3] for r in rows] == [["local", "hello", "pass"], ["local", "predict", "fail"]]
    assert rows[1][3].startswith("POST /predict answered 501")


def test_tp5_finds_the_course_table_and_restores_a_dump(course_database: str) -> None:
    rows = report("TP5", "--url", course_database)
    assert rows == [
        ["local", "table", "pass", "public.students: 8 columns"],
        [
            "local",
            "dump and restore",
            "pass",
            "pg_dump -Fc | pg_restore into a scratch database:"
            " public.students restored with 5 rows",
        ],
    ]


def test_tp5_fails_without_a_table_of_five_columns(postgres: PostgresCluster) -> None:
    url = make_database(
        postgres,
        "starter_like",
        "CREATE TABLE notes (id int, body text);"
        " CREATE TABLE predictions (a int, b int, c int, d int, e int, f int);",
    )
    assert report("TP5", "--url", url) == [
        [
            "local",
            "table",
            "fail",
            "the widest table, public.notes, has 2 columns (at least 5 asked)",
        ]
    ]


def test_tp5_leaves_no_scratch_database_behind(
    postgres: PostgresCluster, course_database: str
) -> None:
    report("TP5", "--url", course_database)
    import psycopg

    with psycopg.connect(postgres.url(), connect_timeout=10) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
    assert [n for n in names if n.startswith("tp5_restore_check_")] == []


def test_check_tp3_over_25_apis_measured(api_servers: ApiServers, run_dir: Path) -> None:
    """25 students' APIs (25 roster lines over three local servers), checked 8 at a time: every
    one passes; the time is printed, not judged (a benchmark measures)."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(api_servers.running(f"class-{i}")) for i in range(3)]
        folder = run_dir / "class"
        folder.mkdir()
        lines = ["id,name,email,api_url"] + [
            f"s{i:02d},S{i},s{i}@example.org,{servers[i % 3].base_url}" for i in range(25)
        ]
        (folder / "roster.csv").write_text("\n".join(lines) + "\n")
        (folder / "week.config.json").write_text('{"classroom": {"roster": "roster.csv"}}')
        started = time.monotonic()
        run = classroom("check", "TP3", "--format", "csv", cwd=folder)
        seconds = time.monotonic() - started
    rows = run.csv_rows()[1:]
    assert run.code == 0, run.stderr
    assert len(rows) == 25
    assert {r[2] for r in rows} == {"pass"}, [r for r in rows if r[2] != "pass"]
    print(
        "\nclassroom figures: check TP3 over 25 APIs (3 local servers, 8 at a time):"
        f" {seconds:.1f} s"
    )


# ------------------------------------------------------------------ the student edition


@pytest.fixture(scope="module")
def starter(run_dir: Path) -> Path:
    out = run_dir / "starter"
    run = classroom("starter", "--out", str(out))
    assert run.code == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def starter_api(starter: Path, api_servers: ApiServers) -> Iterator[ApiServer]:
    """The edition's API, as a student starts it after TP2 (with a trained model): its own
    app/ (the routes with TODOs), the teacher's database."""
    with api_servers.running("starter", starter / "lambdas-src" / "api") as server:
        yield server


def test_the_starters_algo_trains_a_labelled_baseline_the_api_loads(
    starter: Path, run_dir: Path
) -> None:
    """The edition's ml/algo.py, run as its image's build runs it, dumps a model the API loads:
    a DummyClassifier that answers the most frequent class whatever the text, named a baseline."""
    api = starter / "lambdas-src" / "api"
    model = run_dir / "starter-model" / "model.joblib"
    train = subprocess.run(
        [sys.executable, "-m", "ml.algo", "@ml/train.args", "--out", str(model)],
        cwd=api,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert train.returncode == 0, train.stderr
    assert "BASELINE (DummyClassifier, most frequent class)" in train.stderr
    assert "TODO TP2" in train.stderr
    probe = (
        "import sys; from ml.model import load_model; c = load_model(sys.argv[1]);"
        " print(c.metadata['algorithm'], len(c.classes),"
        " len({p.label for p in c.predict(['I love it', 'I hate it', 'the bus is late'])}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe, str(model)],
        cwd=api,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    algorithm, classes, answers = loaded.stdout.split()
    assert (algorithm, answers) == ("baseline", "1")  # one class, whatever the text
    assert int(classes) >= 2


def test_tp3_fails_on_the_starter_exactly_at_the_prediction_route(starter_api: ApiServer) -> None:
    [[_, _, status, detail]] = report("TP3", "--url", starter_api.base_url)
    assert status == "fail"
    assert detail.startswith("prediction (POST /predict): expected HTTP 200, got 501")
    assert "TODO TP3: POST /predict is not written yet" in detail
    assert detail.endswith("(after 5 checks passed)")  # hello, health, docs, HEAD, OpenAPI


def test_tp4_on_the_starter_api_passes_hello_and_fails_predict(starter_api: ApiServer) -> None:
    assert [r[:3] for r in report("TP4", "--url", starter_api.base_url)] == [
        ["local", "hello", "pass"],
        ["local", "predict", "fail"],
    ]


def test_tp5_fails_on_the_starter_table_file(starter: Path, postgres: PostgresCluster) -> None:
    sql = (starter / "lambdas-src" / "database" / "initdb" / "001-course.sql").read_text()
    assert "TODO TP5" in sql
    url = make_database(postgres, "starter_initdb", sql)
    assert report("TP5", "--url", url)[0][:3] == ["local", "table", "fail"]


# ------------------------------------------------------------------ TP2: Streamlit in chromium

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def start_streamlit(
    groups: ProcessGroups, run_dir: Path, app_dir: Path, name: str, api_url: str
) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "API_URL": api_url, "PYTHONUNBUFFERED": "1"}
    env.pop("MODEL_PATH", None)
    with (run_dir / f"streamlit-{name}.log").open("wb") as out:
        process = groups.start(
            f"streamlit-{name}",
            [
                sys.executable,
                *("-m", "streamlit", "run", "streamlit_app.py", f"--server.port={port}"),
                *("--server.address=127.0.0.1", "--server.headless=true"),
                "--browser.gatherUsageStats=false",
            ],
            stdout=out,
            env=env,
            cwd=app_dir,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
                break
            time.sleep(0.3)
        yield url
    finally:
        groups.stop(process)


@pytest.fixture(scope="module")
def teacher_streamlit(groups: ProcessGroups, run_dir: Path, api: ApiServer) -> Iterator[str]:
    yield from start_streamlit(
        groups, run_dir, REPO / "lambdas-src" / "streamlit", "t", api.base_url
    )


@pytest.fixture(scope="module")
def starter_streamlit(
    groups: ProcessGroups, run_dir: Path, starter: Path, api: ApiServer
) -> Iterator[str]:
    app = starter / "lambdas-src" / "streamlit"
    yield from start_streamlit(groups, run_dir, app, "s", api.base_url)


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}")


@needs_chromium
def test_tp2_classifies_a_text_in_the_teachers_app(teacher_streamlit: str) -> None:
    # generous waits: a cold Streamlit page and the first prediction are slow on a busy machine
    rows = report("TP2", "--url", teacher_streamlit, "--request-timeout", "40", "--timeout", "400")
    assert [r[:3] for r in rows] == [
        ["local", "streamlit answers", "pass"],
        ["local", "classifies a text", "pass"],
    ], rows
    assert rows[1][3].startswith("Most likely class: ")


@needs_chromium
def test_tp2_fails_on_the_starters_app_which_classifies_nothing_yet(starter_streamlit: str) -> None:
    rows = report("TP2", "--url", starter_streamlit)
    assert [r[:3] for r in rows] == [
        ["local", "streamlit answers", "pass"],
        ["local", "classifies a text", "fail"],
    ]
    assert rows[1][3] == (
        'no "Text to classify" box; the app shows:'
        " TODO TP2: this page does not classify anything yet."
    )

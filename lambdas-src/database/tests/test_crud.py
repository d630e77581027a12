"""TP5's crud.py against a real PostgreSQL (TEST_POSTGRES_URL, set by
scripts/test/py-test.sh): every command, and a one-line error for each way it can go wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from week_testkit.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import crud  # noqa: E402

INITDB = sorted((ROOT / "initdb").glob("*.sql"))
SERVER_URL = os.environ.get("TEST_POSTGRES_URL")
ADA = "ada.lovelace@example.com"

pytestmark = pytest.mark.skipif(SERVER_URL is None, reason="TEST_POSTGRES_URL is not set")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture
def url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new database holding the course's table and its five students; dropped afterwards."""
    assert SERVER_URL is not None
    name = f"crud_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = with_database(SERVER_URL, name)
    with psycopg.connect(db, autocommit=True) as conn:
        for script in INITDB:
            conn.execute(script.read_text())
    monkeypatch.setenv("DATABASE_URL", db)
    yield db
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def crud_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = crud.main(list(argv))
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM students").fetchone()
    assert row is not None
    return int(row[0])


def test_list_is_the_check_that_the_data_is_there(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = crud_run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == list(crud.COLUMNS)
    assert set(lines[1]) <= {"-", " "}
    assert "ada.lovelace@example.com" in lines[2]
    assert lines[-1] == "5 students"


def test_create_get_update_delete_round_trip(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = crud_run(
        capsys,
        "create",
        "--first-name",
        "Barbara",
        "--last-name",
        "Liskov",
        "--email",
        "barbara@example.org",
        "--birth-date",
        "2000-11-07",
        "--grade",
        "18.25",
    )
    assert code == 0, err
    assert "barbara@example.org  M2-IOT" in out
    assert out.splitlines()[-1] == "1 student created"
    new_id = out.splitlines()[2].split()[0]
    assert count(url) == 6

    code, out, _ = crud_run(capsys, "get", new_id)
    assert (code, "Liskov" in out, "18.25" in out, "2000-11-07" in out) == (0, True, True, True)

    code, out, _ = crud_run(capsys, "update", new_id, "--grade", "none", "--cohort", "M2-DATA")
    assert code == 0
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT grade, cohort FROM students WHERE id = %s", (new_id,)).fetchone()
    assert row == (None, "M2-DATA")

    code, out, _ = crud_run(capsys, "list", "--cohort", "M2-DATA")
    assert (code, out.splitlines()[-1]) == (0, "1 student")

    code, out, _ = crud_run(capsys, "delete", new_id)
    assert (code, out.splitlines()[-1]) == (0, "1 student deleted")
    assert count(url) == 5


def test_values_are_parameters_never_sql(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "Robert'); DROP TABLE students; --"
    argv = ["--first-name", hostile, "--last-name", "T", "--email", "bobby@example.org"]
    code, _, _ = crud_run(capsys, "create", *argv)
    assert code == 0
    assert count(url) == 6
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT first_name FROM students WHERE email = 'bobby@example.org'"
        ).fetchone()
    assert row == (hostile,)


def one_line_error(err: str, *words: str) -> None:
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["get", "999"], ["no student with id 999"]),
        (["update", "999", "--grade", "10"], ["no student with id 999"]),
        (["delete", "999"], ["no student with id 999"]),
        (
            ["create", "--first-name", "A", "--last-name", "B", "--email", ADA],
            [f"email {ADA!r} is already used"],
        ),
        (
            ["create", "--first-name", "A", "--last-name", "B", "--email", "no-at-sign"],
            ["students_email_check"],
        ),
        (["update", "1", "--email", "alan.turing@example.com"], ["already used"]),
    ],
    ids=["get-unknown", "update-unknown", "delete-unknown", "duplicate", "check", "update-dup"],
)
def test_database_refusals_are_one_line_with_exit_1(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    before = count(url)
    code, out, err = crud_run(capsys, *argv)
    assert (code, out) == (1, "")
    one_line_error(err, *words)
    assert count(url) == before


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["get", "abc"], ["argument id", "must be a positive whole number, got 'abc'"]),
        (["get", "-3"], ["argument id"]),
        (["update", "1", "--grade", "25"], ["--grade", "between 0 and 20, got '25'"]),
        (["update", "1", "--grade", "nan"], ["--grade", "got 'nan'"]),
        (["update", "1", "--grade", "ten"], ["--grade", "got 'ten'"]),
        (["update", "1", "--birth-date", "2001-13-40"], ["--birth-date", "got '2001-13-40'"]),
        (["update", "1", "--first-name", "  "], ["--first-name", "must not be empty"]),
        (["update", "1"], ["at least one field"]),
        (["create", "--first-name", "A"], ["required"]),
    ],
)
def test_bad_values_are_refused_before_the_database_with_exit_2(
    url: str, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    code, out, err = crud_run(capsys, *argv)
    assert (code, out) == (2, "")
    last = err.strip().splitlines()[-1]
    for word in words:
        assert word in last


def test_a_database_that_does_not_answer_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://week:s3cret-pw@127.0.0.1:{port}/week")
    code, out, err = crud_run(capsys, "list")
    assert (code, out) == (1, "")
    one_line_error(err, f"database 127.0.0.1:{port}/week does not answer (connection refused)")
    assert "s3cret-pw" not in err


def test_a_missing_table_and_a_missing_url_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SERVER_URL is not None
    code, _, err = crud_run(capsys, "--database-url", SERVER_URL, "list")
    assert code == 1
    one_line_error(err, "no students table in", "initdb/001-course.sql")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code, _, err = crud_run(capsys, "list")
    assert code == 2
    one_line_error(err, "DATABASE_URL is not set")


def test_it_runs_as_a_script_from_anywhere(url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "crud.py"), "get", "1"],
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ada.lovelace@example.com" in done.stdout

"""TP5 against a real PostgreSQL: the init SQL creates the course's table, and the dump and
restore commands the local stack prints (pg_dump --format=custom, pg_restore --clean
--if-exists --no-owner) bring the data back.

Needs TEST_POSTGRES_URL (scripts/test/py-test.sh starts a throw-away cluster and sets it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

INITDB = sorted((Path(__file__).resolve().parent.parent / "initdb").glob("*.sql"))
SERVER_URL = os.environ.get("TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(SERVER_URL is None, reason="TEST_POSTGRES_URL is not set")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty database; dropped afterwards."""
    assert SERVER_URL is not None
    name = f"week_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(SERVER_URL, name)
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_init_scripts(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for script in INITDB:
            conn.execute(script.read_text())


def students(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT first_name, last_name, email, cohort, birth_date, grade"
            " FROM students ORDER BY email"
        ).fetchall()


def test_init_creates_the_course_table_with_at_least_five_fields(database: str) -> None:
    run_init_scripts(database)
    with psycopg.connect(database) as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'students'"
        ).fetchall()
    assert len(columns) >= 5
    assert len(students(database)) == 5


def test_init_can_run_twice_without_duplicating_rows(database: str) -> None:
    run_init_scripts(database)
    run_init_scripts(database)
    assert len(students(database)) == 5


def test_the_table_refuses_a_malformed_row(database: str) -> None:
    run_init_scripts(database)
    with psycopg.connect(database) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO students (first_name, last_name, email, grade)"
            " VALUES ('A', 'B', 'a@b.c', 25)"
        )


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_dump_and_restore_bring_the_data_back(database: str, tmp_path: Path) -> None:
    run_init_scripts(database)
    with psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO students (first_name, last_name, email, grade)"
            " VALUES ('Hedy', 'Lamarr', 'hedy@example.com', 14)"
        )
    before = students(database)
    dump = tmp_path / "week.dump"
    with dump.open("wb") as out:
        subprocess.run(["pg_dump", "--dbname", database, "--format=custom"], stdout=out, check=True)
    with psycopg.connect(database) as conn:
        conn.execute("DELETE FROM students")
    with dump.open("rb") as source:
        subprocess.run(
            ["pg_restore", "--dbname", database, "--clean", "--if-exists", "--no-owner"],
            stdin=source,
            check=True,
        )
    assert students(database) == before
    assert len(before) == 6

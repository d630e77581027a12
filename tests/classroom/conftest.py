"""Fixtures of the classroom checks' tests: the shared test machinery (week_testkit: a throw-away
PostgreSQL cluster, process groups, the sample model) and the load tests' real servers of the API
(tests/load/loadkit.py), reused as they are, and `classroom`, which runs `npm run classroom` the
way a teacher does."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "load"))

from week_testkit import REPO
from week_testkit.fixtures import throwaway_postgres  # noqa: F401  (a fixture)
from week_testkit.models import train_model
from week_testkit.postgres import PostgresCluster
from week_testkit.processes import ProcessGroups

from loadkit import ApiServers

COURSE_SQL = REPO / "lambdas-src" / "database" / "initdb" / "001-course.sql"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def csv_rows(self) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.stdout)))


def classroom(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """`npm run classroom -- ARGS`, as node runs it (no npm banner)."""
    done = subprocess.run(
        [
            "node",
            "-r",
            str(REPO / "scripts" / "ts-cache.js"),
            str(REPO / "scripts" / "classroom.ts"),
            *args,
        ],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="classroom-test."))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def groups(run_dir: Path) -> ProcessGroups:
    return ProcessGroups(run_dir / "groups")


@pytest.fixture(scope="session")
def postgres(throwaway_postgres: PostgresCluster) -> PostgresCluster:  # noqa: F811
    return throwaway_postgres


def make_database(postgres: PostgresCluster, name: str, sql: str = "") -> str:
    with psycopg.connect(postgres.url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    if sql:
        with psycopg.connect(postgres.url(name), autocommit=True, connect_timeout=10) as conn:
            # a file of the repository or a test's literal, not user input
            conn.execute(sql.encode())
    return postgres.url(name)


@pytest.fixture(scope="session")
def course_database(postgres: PostgresCluster) -> str:
    """The teacher's edition: the TP5 table of lambdas-src/database/initdb, with its rows."""
    return make_database(postgres, "teacher", COURSE_SQL.read_text())


@pytest.fixture(scope="session")
def api_servers(groups: ProcessGroups, run_dir: Path, course_database: str) -> ApiServers:
    model = train_model(run_dir / "model" / "fast.joblib")
    return ApiServers(groups, run_dir, model, course_database)

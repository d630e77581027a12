"""Fixtures of the load tests: a run folder, the tools (wrk, PostgreSQL server binaries), a
throw-away PostgreSQL cluster in the run folder, the sample model trained with --fast, and real
servers of the API (`python -m app`, the Docker image's command), all from week_testkit.

Every process started here runs in a process group of its own, recorded in the run folder, and
is stopped in a finally. scripts/test/load-test.sh passes the run folder (LOAD_TEST_RUN_DIR) and
kills whatever is still recorded there when pytest is gone, so a crash leaves nothing running.
The tests collect their figures, printed under "load figures" at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from week_testkit.models import train_model
from week_testkit.postgres import PostgresCluster, find_pg_bin
from week_testkit.processes import ProcessGroups
from week_testkit.wrk import Wrk, find_wrk

from loadkit import ApiServers, LoadSettings, Tools, say

FIGURES = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    try:
        LoadSettings.from_env()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[FIGURES] = []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("load figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> list[str]:
    """Lines printed under "load figures" at the end of the run."""
    return pytestconfig.stash[FIGURES]


@pytest.fixture(scope="session")
def load() -> LoadSettings:
    return LoadSettings.from_env()


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    given = os.environ.get("LOAD_TEST_RUN_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="load-test."))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o711)  # the postgres user must reach its cluster folder inside
    try:
        yield folder
    finally:
        if not given:  # load-test.sh removes its own folder after its clean-up
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def groups(run_dir: Path) -> ProcessGroups:
    return ProcessGroups(run_dir / "groups")


@pytest.fixture(scope="session")
def tools(load: LoadSettings) -> Tools:
    """wrk and the PostgreSQL server binaries, checked before anything starts. Without wrk the
    load tests are skipped, except on CI (CI=true) where that is a failure."""
    wrk = find_wrk()
    if wrk is None:
        message = "wrk is not installed (apt-get install -y wrk)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI=true requires the load tests", pytrace=False)
        pytest.skip(message)
    pg_bin = find_pg_bin()
    if pg_bin is None:
        pytest.fail("initdb/pg_ctl not found (install the PostgreSQL server binaries)", False)
    return Tools(Wrk(wrk, load.connections, load.threads), pg_bin)


@pytest.fixture(scope="session")
def postgres(tools: Tools, run_dir: Path) -> Iterator[PostgresCluster]:
    # in the run folder: scripts/test/load-test.sh stops a PostgreSQL still running there on exit
    with PostgresCluster(run_dir / "pg", pg_bin=tools.pg_bin) as cluster:
        say(f"PostgreSQL {cluster.version()} on 127.0.0.1:{cluster.port} ({cluster.folder})")
        yield cluster


@pytest.fixture(scope="session")
def database_url(postgres: PostgresCluster) -> str:
    """A database of its own for the API, in the throw-away cluster."""
    with psycopg.connect(postgres.url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE DATABASE loadtest")
    return postgres.url("loadtest")


@pytest.fixture(scope="session")
def api_servers(
    tools: Tools, groups: ProcessGroups, run_dir: Path, database_url: str
) -> ApiServers:
    model = train_model(run_dir / "model" / "fast.joblib", "--fast")
    return ApiServers(groups, run_dir, model, database_url)

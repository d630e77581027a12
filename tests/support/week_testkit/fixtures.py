"""pytest fixtures of week_testkit; a conftest.py takes them in by importing them:

from week_testkit.fixtures import throwaway_postgres  # noqa: F401  (a fixture)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from week_testkit import SetupError
from week_testkit.postgres import PostgresCluster, find_pg_bin


@pytest.fixture(scope="session")
def throwaway_postgres() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL cluster for the session; the test is skipped where the server
    binaries are absent, and fails if they are there but the cluster does not start."""
    if find_pg_bin() is None:
        pytest.skip("initdb/pg_ctl not found (install the PostgreSQL server binaries)")
    try:
        cluster = PostgresCluster()
    except SetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    with cluster:
        yield cluster

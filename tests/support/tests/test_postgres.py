"""The throw-away PostgreSQL: a real cluster (skipped without the server binaries)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from week_testkit.postgres import PostgresCluster, find_pg_bin

pytestmark = pytest.mark.skipif(find_pg_bin() is None, reason="no PostgreSQL server binaries")


def setting(url: str, name: str) -> str:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


def test_a_cluster_answers_on_loopback_without_durability_and_is_removed_at_exit() -> None:
    with PostgresCluster(max_connections=20, hba=["host all all 10.9.8.0/24 trust"]) as cluster:
        url = cluster.url()
        assert url.startswith("postgresql://postgres@127.0.0.1:")
        assert (setting(url, "fsync"), setting(url, "max_connections")) == ("off", "20")
        assert setting(url, "listen_addresses") == "127.0.0.1"
        assert "10.9.8.0/24" in (cluster.data / "pg_hba.conf").read_text()
        assert cluster.socket_path.exists()
        folder = cluster.folder
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_a_durable_cluster_keeps_fsync_and_restarts_on_the_same_port() -> None:
    with PostgresCluster(durable=True) as cluster:
        port = cluster.port
        assert setting(cluster.url(), "fsync") == "on"
        cluster.stop()
        assert not cluster.running
        cluster.start()
        assert cluster.port == port
        assert setting(cluster.url(), "synchronous_commit") == "on"
    assert not cluster.folder.exists()


def test_the_command_line_runs_a_command_with_the_url_and_returns_its_status() -> None:
    script = (
        "import os, psycopg, sys;"
        "psycopg.connect(os.environ['TEST_POSTGRES_URL']).close();"
        "print(os.environ['TEST_POSTGRES_URL']);"
        "print(os.path.exists(os.environ['TEST_POSTGRES_SOCKET']));"
        "sys.exit(7)"
    )
    done = subprocess.run(
        [sys.executable, "-m", "week_testkit.postgres", "--", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7, done.stderr
    url, socket_exists = done.stdout.split()
    assert url.startswith("postgresql://postgres@127.0.0.1:") and socket_exists == "True"
    folder = done.stderr.split("(")[-1].split(")")[0]  # "... on 127.0.0.1:PORT (FOLDER)"
    assert folder.startswith("/") and not Path(folder).exists()


def test_the_command_line_requires_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "week_testkit.postgres"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "command is required, got none" in done.stderr


def test_the_command_line_passes_sigterm_on_and_still_removes_the_cluster() -> None:
    sleeper = "import os, time; print(os.environ['TEST_POSTGRES_URL'], flush=True); time.sleep(60)"
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "week_testkit.postgres", "--", sys.executable, "-c", sleeper],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wrapper.stdout is not None and wrapper.stderr is not None
    assert wrapper.stdout.readline().startswith("postgresql://")
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=60) == 128 + signal.SIGTERM
    folder = wrapper.stderr.read().split("(")[-1].split(")")[0]
    assert folder.startswith("/") and not Path(folder).exists()

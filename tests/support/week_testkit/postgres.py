"""A throw-away PostgreSQL cluster: initdb in a folder of its own, trust authentication, a free
port, stopped and removed at the end.

    with PostgresCluster() as cluster:           # a context manager
        cluster.url()                            # postgresql://postgres@127.0.0.1:PORT/postgres
    def test_x(throwaway_postgres): ...          # a pytest fixture (week_testkit.fixtures)
    python -m week_testkit.postgres -- COMMAND   # COMMAND with TEST_POSTGRES_URL set (scripts)

Fast by default (fsync, synchronous commit and full-page writes off, which only matter for a
crash of the machine); `durable=True` keeps PostgreSQL's defaults (the benchmarks measure as a
real database runs). initdb and postgres refuse to run as root: as root, they run as the
`postgres` user (`nobody` if there is none) through setpriv, and the folder is theirs.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType

from week_testkit import SetupError
from week_testkit.ports import free_port


def find_pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(pg_ctl).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class PostgresCluster:
    """One cluster. `folder` (created, must not exist) holds the data, the log and the socket;
    default: a new folder in the system's temporary directory, removed by `remove()` or at the
    end of the `with` block. `host` is the one address it listens on; `hba` lines are added to
    pg_hba.conf (say, `host all all 172.18.0.0/16 trust` for a Docker network)."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        pg_bin: Path | None = None,
        host: str = "127.0.0.1",
        max_connections: int = 100,
        durable: bool = False,
        hba: Sequence[str] = (),
    ) -> None:
        found = pg_bin or find_pg_bin()
        if found is None:
            raise SetupError("initdb/pg_ctl not found (install the PostgreSQL server binaries)")
        self.pg_bin = found
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="week-pg-"))
        else:
            folder.mkdir()
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.host = host
        self.max_connections = max_connections
        self.durable = durable
        self.hba = tuple(hba)
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                user = pwd.getpwnam("nobody")
            os.chown(folder, user.pw_uid, user.pw_gid)
            self._as_user = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
            ]

    # ---------------------------------------------------------------------- lifecycle

    def __enter__(self) -> PostgresCluster:
        try:
            self.init()
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def _run(self, tool: str, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(
            [*self._as_user, str(self.pg_bin / tool), *args],
            cwd=self.folder,  # the postgres user may not read the caller's directory
            env=env,
            capture_output=True,  # pg_ctl sends the server's own output to -l
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def _fail(self, what: str, done: subprocess.CompletedProcess[str]) -> SetupError:
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        return SetupError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        done = self._run(
            "initdb",
            *("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            *("--no-locale", "--no-sync"),
            timeout_s=180,
        )
        if done.returncode != 0:
            raise self._fail("initdb", done)
        if self.hba:
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.writelines(f"{line}\n" for line in self.hba)

    def start(self) -> None:
        """Start on `port`: a free one the first time (three tries), the same one afterwards."""
        tries = 1 if self.port else 3
        for attempt in range(tries):
            port = self.port or free_port(self.host)
            options = (
                f"-p {port} -k {self.folder} -c listen_addresses={self.host}"
                f" -c max_connections={self.max_connections}"
            )
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            done = self._run(
                "pg_ctl",
                *("-D", str(self.data), "-l", str(self.log), "-w", "-t", "90", "-o", options),
                "start",
                timeout_s=120,
            )
            if done.returncode == 0:
                self.port = port
                return
            if attempt == tries - 1:
                raise self._fail(f"pg_ctl start on port {port}", done)

    def stop(self, mode: str = "fast") -> None:
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "90", "stop", timeout_s=120
        )
        if done.returncode != 0:
            raise self._fail(f"pg_ctl stop -m {mode}", done)

    def remove(self) -> None:
        """Stop the server at once if it runs, and delete the folder."""
        if self.running:
            try:
                self.stop("immediate")
            except (SetupError, subprocess.TimeoutExpired):
                self._kill_postmaster()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        except (OSError, ValueError, IndexError):
            pass

    # ---------------------------------------------------------------------- what it offers

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    @property
    def socket_path(self) -> Path:
        """The server's Unix socket (the form Cloud SQL's connector uses)."""
        return self.folder / f".s.PGSQL.{self.port}"

    def version(self) -> str:
        done = subprocess.run(
            [str(self.pg_bin / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"\d+(\.\d+)+", done.stdout)  # postgres (PostgreSQL) 15.18 (Debian ...)
        return found[0] if found else "?"


# -------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Run COMMAND with TEST_POSTGRES_URL (and TEST_POSTGRES_SOCKET) set to a throw-away
    cluster, stopped and removed when COMMAND ends; exit with COMMAND's status."""
    parser = argparse.ArgumentParser(
        prog="python -m week_testkit.postgres",
        description=main.__doc__,
        usage="%(prog)s [--max-connections N] -- COMMAND [ARG...]",
    )
    parser.add_argument("--max-connections", type=int, default=50)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("command is required, got none")

    try:
        with PostgresCluster(max_connections=args.max_connections) as cluster:
            print(
                f"week_testkit.postgres: PostgreSQL {cluster.version()} on {cluster.host}:"
                f"{cluster.port} ({cluster.folder})",
                file=sys.stderr,
                flush=True,
            )
            env = {
                **os.environ,
                "TEST_POSTGRES_URL": cluster.url(),
                "TEST_POSTGRES_SOCKET": str(cluster.socket_path),
            }
            return _run_forwarding_signals(command, env)
    except SetupError as exc:
        print(f"week_testkit.postgres: {exc}", file=sys.stderr)
        return 1


def _run_forwarding_signals(command: Sequence[str], env: dict[str, str]) -> int:
    """COMMAND's exit status; SIGTERM and SIGHUP are passed on to it, and Ctrl-C (which the
    terminal sends to it too) waits for it, so that the cluster outlives it."""
    try:
        child = subprocess.Popen(list(command), env=env)
    except FileNotFoundError:
        print(f"week_testkit.postgres: command not found: {command[0]}", file=sys.stderr)
        return 127

    def forward(number: int, frame: FrameType | None) -> None:
        child.send_signal(number)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, forward)
    while True:
        try:
            code = child.wait()
        except KeyboardInterrupt:
            continue
        return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())

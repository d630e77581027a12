"""Long-lived processes (servers, wrk) each in a session (process group) of its own, so that
stopping one stops its children too (uvicorn's workers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO


class ProcessGroups:
    """Starts processes each in a new session and, when `folder` is given, records its id as a
    file there, so that a runner can kill what a crashed pytest left behind (tests/load's
    runner does: it kills every group still recorded in its run folder on exit)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        args: Sequence[str],
        *,
        stdout: IO[bytes] | int,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `args` with stderr joined to `stdout` and no stdin."""
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        if self.folder is not None:
            (self.folder / f"{name}.{process.pid}").write_text(f"{process.pid}\n")
        return process

    def stop(self, process: subprocess.Popen[bytes], grace_s: float = 15) -> None:
        """SIGTERM to the whole group, SIGKILL after `grace_s`; then forget the group."""
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=wait_s)
        if self.folder is not None:
            for record in self.folder.glob(f"*.{process.pid}"):
                record.unlink(missing_ok=True)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn workers, if any), from /proc."""
    found = [pid]
    index = 0
    while index < len(found):
        for children in Path(f"/proc/{found[index]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found.extend(int(c) for c in children.read_text().split())
        index += 1
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in descendants(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def rss_bytes(pid: int) -> int:
    """VmRSS of `pid` and its descendants; 0 for a process that has gone."""
    total = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024  # "VmRSS:   123456 kB"
                    break
    return total

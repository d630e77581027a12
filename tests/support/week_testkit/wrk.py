"""wrk, the HTTP load generator: its command line with wrk_counts.lua (which counts every status
outside 2xx and the `stored` flags of prediction bodies), and its output read into figures.

    result = Wrk(shutil.which("wrk"), connections=32, threads=2).run(url, seconds=10)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from week_testkit import SetupError
from week_testkit.processes import ProcessGroups

LUA_SCRIPT = Path(__file__).with_name("wrk_counts.lua")
COUNT_KEYS = ("2xx", "non2xx", "3xx", "4xx", "5xx", "503", "stored_true", "stored_false")


def find_wrk() -> str | None:
    return shutil.which("wrk")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_s: float
    latency_ms: dict[int, float]
    """percentile (50, 75, 90, 99) -> milliseconds, from --latency"""
    wrk_errors_status: int
    """wrk's "Non-2xx or 3xx responses", which counts statuses >= 400 only"""
    socket_errors: dict[str, int]
    """connect, read, write, timeout"""
    counts: dict[str, int]
    """from wrk_counts.lua: every status outside 2xx, and the stored flags (COUNT_KEYS)"""
    output: str

    @property
    def non_2xx(self) -> int:
        return max(self.counts["non2xx"], self.wrk_errors_status)

    @property
    def socket_error_total(self) -> int:
        return sum(self.socket_errors.values())

    @property
    def errors(self) -> int:
        """Answers outside 2xx plus socket errors."""
        return self.non_2xx + self.socket_error_total


_TIME_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(number: str, unit: str) -> float:
    return float(number) * _TIME_MS[unit]


def parse_wrk_output(output: str) -> WrkResult:
    """Read the figures of `wrk --latency -s wrk_counts.lua`; ValueError if a figure is missing."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    counts_line = re.search(r"^LOADCOUNTS (.*)$", output, re.M)
    if rate is None or total is None or counts_line is None:
        raise ValueError(f"not the output of wrk --latency -s wrk_counts.lua:\n{output}")
    latency = {
        int(m[1]): _ms(m[2], m[3])
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    if set(latency) != {50, 75, 90, 99}:
        raise ValueError(f"wrk printed no latency distribution (--latency):\n{output}")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0),
            strict=True,
        )
    )
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts_line[1])}
    if set(counts) != set(COUNT_KEYS):
        raise ValueError(f"LOADCOUNTS line lacks some of {COUNT_KEYS}: {counts_line[0]!r}")
    return WrkResult(
        requests=int(total[1]),
        requests_per_s=float(rate[1]),
        latency_ms=latency,
        wrk_errors_status=int(status[1]) if status else 0,
        socket_errors=socket_errors,
        counts=counts,
        output=output,
    )


def write_bodies(bodies: Iterable[object], path: Path) -> Path:
    """A file of JSON request bodies, one a line, for `Wrk(..., bodies=path)`."""
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
    return path


@dataclass(frozen=True)
class Wrk:
    executable: str
    connections: int
    threads: int
    timeout_s: int = 30
    """per request: wrk's default of 2 s counts slow answers on a busy 2-core machine as errors"""
    bodies: Path | None = None
    """POST these bodies in turn (write_bodies) instead of wrk_counts.lua's four texts"""

    def command(self, url: str, seconds: float, mode: str) -> list[str]:
        """`mode` is wrk_counts.lua's: predict (POST to `url`) or hello (GET `url`)."""
        return [
            self.executable,
            f"--threads={min(self.threads, self.connections)}",
            f"--connections={self.connections}",
            f"--duration={seconds:g}s",
            f"--timeout={self.timeout_s}s",
            "--latency",
            f"--script={LUA_SCRIPT}",
            url,
            "--",
            mode,
            *([str(self.bodies)] if self.bodies and mode == "predict" else []),
        ]

    def run(self, url: str, seconds: float, mode: str = "predict") -> WrkResult:
        """One run in this process's group, waited for and read; SetupError if wrk fails."""
        try:
            done = subprocess.run(
                self.command(url, seconds, mode),
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"wrk still running {seconds + 60:g} s after its start") from exc
        if done.returncode != 0:
            raise SetupError(f"wrk exited with {done.returncode}:\n{done.stdout}{done.stderr}")
        return parse_wrk_output(done.stdout)

    def version(self) -> str:
        done = subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=False
        )
        first = (done.stdout or done.stderr).splitlines()  # wrk 4.2.0 [epoll] Copyright ...
        return first[0].split(" [")[0] if first else "wrk"


class WrkRun:
    """One wrk process in its own process group, in the background; `result()` waits for it
    (it stops by itself after its duration) and reads its output."""

    def __init__(
        self, groups: ProcessGroups, wrk: Wrk, url: str, seconds: int, mode: str, log: Path
    ) -> None:
        self.seconds = seconds
        self.log = log
        self._groups = groups
        with log.open("wb") as out:
            self.process = groups.start("wrk", wrk.command(url, seconds, mode), stdout=out)

    def result(self) -> WrkResult:
        try:
            code = self.process.wait(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"wrk still running {self.seconds + 60} s after its start") from exc
        finally:
            self._groups.stop(self.process, grace_s=2)
        output = self.log.read_text(errors="replace")
        if code != 0:
            raise SetupError(f"wrk exited with {code}:\n{output}")
        return parse_wrk_output(output)

    def stop(self) -> None:
        self._groups.stop(self.process, grace_s=2)

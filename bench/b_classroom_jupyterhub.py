"""The baseline of `npm run bench -- classroom`: JupyterHub + DockerSpawner (bench/jupyterhub:
pinned from the package index in their own environment, configurable-http-proxy from npm)
spawning the class's own sandbox image with jupyterhub-singleuser added (bench/jupyterhub/
Dockerfile, built FROM it with the image tests' wheel mirror), for the same N users, in the same
run as ours (b_classroom calls `measure` after its own class is torn down).

Users are created and started through the hub's REST API with an admin token generated here
(given to the hub in its environment, never printed). Figures: seconds from the hub's start to
every user's server answering its /api/status through the hub's proxy with that token, the
first user's, and each user's container memory (docker stats 30 s after, as for ours).
Everything the run creates is named jhub-bench-<run> and removed at the end.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from week_testkit.ports import free_port

from bench.common import ROOT, BenchError, busy_core_seconds, watch_ready

HERE = ROOT / "bench" / "jupyterhub"
VENV = HERE / ".venv"
CHP = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
READY_TIMEOUT_S = 900


@dataclass
class Figures:
    all_ready: float
    first_ready: float
    hub_ready: float
    memory_mib: dict[str, float]  # user -> container memory
    core_seconds: float  # the machine's CPU from the hub's start to every user running
    image_seconds: float
    version: str


def jupyterhub_pin(lock: Path) -> str:
    found = re.search(r"^jupyterhub==(\S+)", lock.read_text(), re.MULTILINE)
    if found is None:
        raise BenchError(f"{lock.relative_to(ROOT)} pins no jupyterhub")
    return found.group(1)


def hub_version() -> str:
    """The jupyterhub version of the hub and of the image: both locks must say the same."""
    hub = jupyterhub_pin(HERE / "requirements.lock")
    image = jupyterhub_pin(HERE / "requirements-singleuser.lock")
    if hub != image:
        raise BenchError(
            f"jupyterhub {hub} in bench/jupyterhub/requirements.lock but {image} in "
            "requirements-singleuser.lock: pin the same in both .in files, then bash scripts/lock.sh bench/jupyterhub"
        )
    return hub


def _run(cmd: list[str], *, timeout: float, cwd: Path | None = None) -> str:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BenchError(f"`{' '.join(cmd[:4])} ...` exited {done.returncode}: {tail}")
    return done.stdout


def install(say: Callable[[str], None]) -> None:
    """The hub's venv from its lock (hashes checked) and the proxy from its package-lock, each
    redone only when its lock changed."""
    lock = HERE / "requirements.lock"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    marker = VENV / "lock.sha256"
    if not marker.is_file() or marker.read_text().strip() != digest:
        say(
            "classroom-jupyterhub: installing JupyterHub and DockerSpawner into bench/jupyterhub/.venv"
        )
        shutil.rmtree(VENV, ignore_errors=True)
        _run(["python3", "-m", "venv", str(VENV)], timeout=300)
        _run(
            [
                str(VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-r",
                str(lock),
            ],
            timeout=900,
        )
        marker.write_text(digest + "\n")
    npm_lock = HERE / "package-lock.json"
    npm_digest = hashlib.sha256(npm_lock.read_bytes()).hexdigest()
    npm_marker = HERE / "node_modules" / "lock.sha256"
    if (
        not CHP.exists()
        or not npm_marker.is_file()
        or npm_marker.read_text().strip() != npm_digest
    ):
        say(
            "classroom-jupyterhub: npm ci --prefix bench/jupyterhub (configurable-http-proxy)"
        )
        _run(
            ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], timeout=600
        )
        npm_marker.write_text(npm_digest + "\n")


def build_image(
    sandbox_image: str, version: str, say: Callable[[str], None]
) -> tuple[str, float]:
    """The sandbox image with jupyterhub added; its tag names the sandbox and the lock, so an
    unchanged pair is reused. Built with the image tests' mirror (the build reaches no index)."""
    sandbox_id = _run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", sandbox_image], timeout=60
    ).strip()
    lock = (HERE / "requirements-singleuser.lock").read_bytes()
    tag = (
        "week-bench-jupyterhub-sandbox:"
        + hashlib.sha256(
            sandbox_id.encode() + lock + (HERE / "Dockerfile").read_bytes()
        ).hexdigest()[:12]
    )
    if (
        subprocess.run(
            ["docker", "image", "inspect", tag], capture_output=True, check=False
        ).returncode
        == 0
    ):
        say(
            f"classroom-jupyterhub: {tag} (jupyterhub {version} on the sandbox) already built, reused"
        )
        return tag, 0.0
    mirror = (
        _run(
            ["bash", str(ROOT / "scripts" / "setup" / "pip-mirror.sh"), "start"],
            timeout=1800,
        )
        .strip()
        .splitlines()[-1]
    )
    say(
        f"classroom-jupyterhub: building {tag} FROM {sandbox_image} (jupyterhub {version})"
    )
    t0 = time.monotonic()
    _run(
        [
            "docker",
            "build",
            "--network",
            "host",
            "--rm",
            "--force-rm",
            "--build-arg",
            f"SANDBOX_IMAGE={sandbox_image}",
            "--build-arg",
            f"PIP_INDEX_URL={mirror}",
            "-t",
            tag,
            str(HERE),
        ],
        timeout=1800,
    )
    return tag, time.monotonic() - t0


def _names(prefix: str) -> tuple[list[str], list[str]]:
    flt = ["--filter", f"name=^{prefix}-"]
    containers = _run(
        ["docker", "ps", "-a", *flt, "--format", "{{.Names}}"], timeout=120
    ).split()
    volumes = [
        v
        for v in _run(
            ["docker", "volume", "ls", "--format", "{{.Name}}"], timeout=120
        ).split()
        if v.startswith(f"{prefix}-")
    ]
    return containers, volumes


def cleanup(prefix: str) -> None:
    """Removes this run's containers, volumes and network (all named PREFIX...), nothing else."""
    containers, volumes = _names(prefix)
    if containers:
        subprocess.run(
            ["docker", "rm", "-f", *containers],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if volumes:
        subprocess.run(
            ["docker", "volume", "rm", "-f", *volumes],
            capture_output=True,
            timeout=300,
            check=False,
        )
    subprocess.run(
        ["docker", "network", "rm", prefix],
        capture_output=True,
        timeout=120,
        check=False,
    )


def measure(
    *,
    n: int,
    sandbox_image: str,
    mem_limit_mib: int,
    work: Path,
    say: Callable[[str], None],
    stats: Callable[[list[str]], dict[str, float]],
) -> Figures:
    version = hub_version()
    install(say)
    image, image_seconds = build_image(sandbox_image, version, say)
    prefix = f"jhub-bench-{secrets.token_hex(3)}"
    users = [f"u{i:02d}" for i in range(n)]
    here = work / prefix
    here.mkdir(parents=True)
    token = secrets.token_hex(
        32
    )  # the bench's admin token: only in the hub's environment
    headers = {"Authorization": f"token {token}"}
    _run(["docker", "network", "create", "--driver", "bridge", prefix], timeout=120)
    hub: subprocess.Popen[bytes] | None = None
    log_path = here / "jupyterhub.log"
    try:
        gateway = _run(
            [
                "docker",
                "network",
                "inspect",
                "--format",
                "{{(index .IPAM.Config 0).Gateway}}",
                prefix,
            ],
            timeout=60,
        ).strip()
        port = free_port()
        env = {
            **os.environ,
            "BENCH_JHUB_WORK": str(here),
            "BENCH_JHUB_PREFIX": prefix,
            "BENCH_JHUB_PORT": str(port),
            "BENCH_JHUB_HUB_IP": gateway,
            "BENCH_JHUB_HUB_PORT": str(free_port()),
            "BENCH_JHUB_PROXY_API_PORT": str(free_port()),
            "BENCH_JHUB_CHP": str(CHP),
            "BENCH_JHUB_TOKEN": token,
            "BENCH_JHUB_IMAGE": image,
            "BENCH_JHUB_NETWORK": prefix,
            "BENCH_JHUB_MEM_LIMIT_MIB": str(mem_limit_mib),
        }
        base = f"http://127.0.0.1:{port}"
        say(
            f"classroom-jupyterhub: starting the hub and {n} users through its REST API"
        )
        t0, busy0 = time.monotonic(), busy_core_seconds()
        with log_path.open("wb") as out:
            hub = subprocess.Popen(
                [
                    str(VENV / "bin" / "jupyterhub"),
                    "-f",
                    str(HERE / "jupyterhub_config.py"),
                ],
                cwd=here,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        ready: dict[str, float] = {}
        with httpx.Client(
            base_url=base, headers=headers, trust_env=False, timeout=30
        ) as client:
            hub_ready = _wait(
                lambda: client.get("/hub/api/").status_code == 200, hub, log_path, 120
            )
            hub_ready -= t0
            created = client.post("/hub/api/users", json={"usernames": users})
            if created.status_code != 201:
                raise BenchError(
                    f"creating {n} users answered {created.status_code}: {created.text[:300]}"
                )

            def start(user: str) -> None:
                answer = client.post(
                    f"/hub/api/users/{user}/server", timeout=READY_TIMEOUT_S
                )
                if answer.status_code not in (201, 202):
                    raise BenchError(
                        f"starting {user}'s server answered {answer.status_code}: {answer.text[:300]}; "
                        f"the hub's log: {_tail(log_path)}"
                    )

            def running(user: str) -> bool:
                try:
                    answer = client.get(f"/user/{user}/api/status", timeout=5)
                except httpx.HTTPError:
                    return False
                return answer.status_code == 200

            with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
                starts = [pool.submit(start, u) for u in users]

                def hub_alive() -> None:
                    if hub.poll() is not None:
                        raise BenchError(
                            f"the hub exited {hub.returncode}: {_tail(log_path)}"
                        )
                    for f in starts:
                        if f.done() and f.exception() is not None:
                            raise BenchError(str(f.exception()))

                ready = watch_ready(
                    users,
                    running,
                    started=t0,
                    timeout_s=READY_TIMEOUT_S,
                    alive=hub_alive,
                )
                core_seconds = busy_core_seconds() - busy0
            if len(ready) < n:
                raise BenchError(
                    f"{n - len(ready)} of {n} users not running within {READY_TIMEOUT_S} s: {_tail(log_path)}"
                )
            say(
                f"classroom-jupyterhub: hub up after {hub_ready:.0f} s, first user after {min(ready.values()):.0f} s, "
                f"all {n} after {max(ready.values()):.0f} s; idle 30 s"
            )
            time.sleep(30)
            memory = stats([f"{prefix}-{u}" for u in users])
            for user in users:
                client.delete(f"/hub/api/users/{user}/server", timeout=300)
    finally:
        if hub is not None and hub.poll() is None:
            hub.terminate()
            try:
                hub.wait(timeout=60)
            except subprocess.TimeoutExpired:
                hub.kill()
        cleanup(prefix)
    if token in log_path.read_text(errors="replace"):
        raise BenchError(f"the bench's admin token is in the hub's log {log_path}")
    return Figures(
        all_ready=max(ready.values()),
        first_ready=min(ready.values()),
        hub_ready=hub_ready,
        memory_mib={u: memory[f"{prefix}-{u}"] for u in users},
        image_seconds=image_seconds,
        version=version,
        core_seconds=core_seconds,
    )


def _tail(log_path: Path, lines: int = 8) -> str:
    text = log_path.read_text(errors="replace") if log_path.is_file() else ""
    return " | ".join(text.strip().splitlines()[-lines:])


def _wait(
    check: Callable[[], bool],
    hub: subprocess.Popen[bytes],
    log_path: Path,
    timeout: float,
) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise BenchError(f"the hub exited {hub.returncode}: {_tail(log_path)}")
        try:
            if check():
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise BenchError(f"the hub did not answer within {timeout:g} s: {_tail(log_path)}")

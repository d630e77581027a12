"""classroom: a class of 25 (sandbox + database + API each) started on this Docker engine from
the synthesised classroom stack, behind its TLS proxy, with the machinery of the roster-of-3
image test (tests/images/classroom_support.py). Images already built (the image tests' tags;
skipped otherwise). Figures: seconds from the first container created to every student ready
behind the proxy (their Jupyter's /<id>/jupyter/api/status with their token, and their API's /health
saying `ok`, which it says once the student's database answers; both through the proxy), the first
student ready, and the memory of one idle bundle (median and max,
docker stats 30 s after the class is ready), which feeds `npm run classroom -- capacity`.

Side by side in the same run, after ours is torn down: JupyterHub + DockerSpawner spawning the
same sandbox image (jupyterhub added) for the same N users (bench/b_classroom_jupyterhub.py):
its figures are the rows' baseline; BENCH_CLASSROOM_JUPYTERHUB=0 skips it.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from bench import b_classroom_jupyterhub as jhub
from bench.common import (
    ROOT,
    BenchError,
    Size,
    busy_core_seconds,
    goal,
    log,
    result,
    skipped,
    watch_ready,
)

sys.path.append(str(ROOT / "tests" / "images"))

STUDENTS = 25
READY_TIMEOUT_S = 900


def _mib(text: str) -> float:
    value, unit = text.strip().split(" ")[0], ""
    for suffix in ("GiB", "MiB", "KiB", "kB", "MB", "GB", "B"):
        if value.endswith(suffix):
            value, unit = value[: -len(suffix)], suffix
            break
    scale = {
        "GiB": 1024,
        "GB": 1000,
        "MiB": 1,
        "MB": 1,
        "KiB": 1 / 1024,
        "kB": 1 / 1024,
        "B": 1 / 2**20,
    }
    return float(value) * scale.get(unit, 1)


def memory_of(names: list[str]) -> dict[str, float]:
    """Each container's memory in MiB (docker stats, one reading)."""
    stats = subprocess.run(
        [
            "docker",
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}}\t{{.MemUsage}}",
            *names,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    found: dict[str, float] = {}
    for line in stats.splitlines():
        name, usage = line.split("\t")
        found[name] = _mib(usage.split("/")[0])
    return found


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    if (
        subprocess.run(
            ["docker", "info"], capture_output=True, timeout=30, check=False
        ).returncode
        != 0
    ):
        return [
            skipped("classroom", "s", "no Docker engine answers (docker info failed)")
        ]
    if shutil.which("terraform") is None:
        return [
            skipped(
                "classroom",
                "s",
                "no terraform on the PATH (it resolves the stack's expressions)",
            )
        ]
    if size.tiny:
        version = jhub.hub_version()  # the hub's and the image's locks agree
        return [
            skipped(
                "classroom",
                "s",
                "tiny size: this benchmark starts a class of containers (npm run bench -- classroom)",
            ),
            skipped(
                "classroom-jupyterhub",
                "s",
                f"tiny size: the baseline (JupyterHub {version} + DockerSpawner) starts a class of containers too",
            ),
        ]
    # tests/images: the image test's machinery (a folder of scripts, not a package)
    cs = importlib.import_module("classroom_support")
    inspect = importlib.import_module("image_support").inspect
    host_port = importlib.import_module("week_support").host_port

    n = int(os.environ.get("BENCH_CLASSROOM_STUDENTS", STUDENTS))
    ids = tuple(f"s{i:02d}" for i in range(n))
    course = f"bench-{secrets.token_hex(3)}"
    run_id = f"bench-{os.getpid()}-{secrets.token_hex(3)}"

    def built(name: str) -> str:
        if inspect("image", name) is None:
            raise BenchError(
                f"{name} is not built: run npm run test:images first (the bench starts built images)"
            )
        return name

    t_prepare = time.monotonic()
    k = cs.prepare_class(
        workdir=size.work,
        run_id=run_id,
        course=course,
        students=ids,
        services=["sandbox", "database", "api"],
        built=built,
        say=log,
    )
    prepared = time.monotonic() - t_prepare
    log(
        f"classroom: {n} students synthesised, resolved, networks and volumes created in {prepared:.0f} s"
    )
    try:
        t0, busy0 = time.monotonic(), busy_core_seconds()
        launch = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        launched = launch.submit(cs.launch_class, k)
        client = httpx.Client(trust_env=False, timeout=5, verify=k.tls())
        port = 0

        def ready_behind_the_proxy(sid: str) -> bool:
            """Their Jupyter with their token, and their API's health saying ok (its database
            answered), both through the proxy."""
            nonlocal port
            if port == 0:
                try:
                    port = host_port(f"{course}-proxy", 8443)
                except Exception:  # noqa: BLE001 - the proxy is not created yet
                    return False
            try:
                base = f"https://127.0.0.1:{port}/{sid}"
                jupyter = client.get(
                    f"{base}/jupyter/api/status",
                    headers={"Authorization": f"token {k.token(sid)}"},
                )
                if jupyter.status_code != 200:
                    return False
                api = client.get(f"{base}/api/health")
                return api.status_code == 200 and api.json().get("status") == "ok"
            except (httpx.HTTPError, ValueError):
                return False  # the student's containers not there yet, or not answering

        def launch_alive() -> None:
            if launched.done() and launched.exception() is not None:
                raise BenchError(f"starting the class failed: {launched.exception()}")

        try:
            ready = watch_ready(
                ids,
                ready_behind_the_proxy,
                started=t0,
                timeout_s=READY_TIMEOUT_S,
                alive=launch_alive,
            )
            launched.result()
        finally:
            client.close()
            launch.shutdown(wait=True)
        if len(ready) < n:
            raise BenchError(
                f"{n - len(ready)} of {n} students not ready within {READY_TIMEOUT_S} s"
            )
        cpu = busy_core_seconds() - busy0
        all_ready = max(ready.values())
        first = min(ready.values())
        log(
            f"classroom: first student ready after {first:.0f} s, all {n} after {all_ready:.0f} s "
            f"({cpu:.0f} core-seconds of this machine's CPU); idle 30 s"
        )
        time.sleep(30)
        names = [wc.raw["name"] for wc in k.containers.values()]
        per_student: dict[str, float] = {}
        per_service: dict[str, list[float]] = {}
        for name, mib in memory_of(names).items():
            sid, _, service = name.removeprefix(f"{course}-").partition("-")
            if sid in ids:
                per_student[sid] = per_student.get(sid, 0.0) + mib
                per_service.setdefault(service, []).append(mib)
        bundles = sorted(per_student.values())
        med, top = statistics.median(bundles), max(bundles)
        services_mib = {
            service: round(statistics.median(values), 1)
            for service, values in sorted(per_service.items())
        }
    finally:
        cs.teardown(course)
        shutil.rmtree(ROOT / "state" / "classroom" / course, ignore_errors=True)
    theirs: jhub.Figures | None = None
    baseline_row: list[dict[str, Any]] = []
    if os.environ.get("BENCH_CLASSROOM_JUPYTERHUB", "1") == "0":
        baseline_row = [
            skipped("classroom-jupyterhub", "s", "BENCH_CLASSROOM_JUPYTERHUB=0")
        ]
    else:
        sandbox = next(
            wc for wc in k.containers.values() if wc.raw["name"].endswith("-sandbox")
        )
        try:
            theirs = jhub.measure(
                n=n,
                sandbox_image=k.images[sandbox.image_resource],
                mem_limit_mib=int(sandbox.raw["memory"]),
                work=size.work,
                say=log,
                stats=memory_of,
            )
        except BenchError as exc:
            baseline_row = [skipped("classroom-jupyterhub", "s", f"failed: {exc}")]
    if theirs is None:
        base = "JupyterHub + DockerSpawner (not run)"
        their_all = their_first = their_mem = None
        comparison: dict[str, Any] = {}
    else:
        base = f"JupyterHub {theirs.version} + DockerSpawner, a notebook per user"
        their_all, their_first = theirs.all_ready, theirs.first_ready
        users = sorted(theirs.memory_mib.values())
        their_mem = statistics.median(users)
        comparison = {
            "note": (
                f"ours/theirs to class-ready {all_ready / their_all:.2f}: ours gives each student "
                "a sandbox, a database and an API, theirs a notebook only; CPU to class-ready "
                f"{cpu / n:.2f} core-seconds a student, theirs {theirs.core_seconds / n:.2f} a user"
            ),
            "jupyterhub": {
                "hub_ready_s": round(theirs.hub_ready, 1),
                "core_seconds": round(theirs.core_seconds, 1),
                "image_build_s": round(theirs.image_seconds, 1),
                "user_memory_max_mib": round(max(users), 1),
            },
        }
    return [
        result(
            f"classroom-{n}-all-ready",
            "s",
            base,
            their_all,
            all_ready,
            higher_is_better=False,
            runs=1,
            prepare_seconds=round(prepared, 1),
            core_seconds=round(cpu, 1),
            **comparison,
            **goal(
                "every student ready behind the proxy in under 300 s", all_ready < 300
            ),
        ),
        result(
            f"classroom-{n}-first-ready",
            "s",
            base,
            their_first,
            first,
            higher_is_better=False,
            runs=1,
            **goal("the first student ready in under 30 s", first < 30),
        ),
        result(
            "classroom-idle-bundle-memory",
            "MiB",
            base,
            their_mem,
            med,
            higher_is_better=False,
            runs=n,
            max=round(top, 1),
            services_mib=services_mib,
            **(
                {}
                if theirs is None
                else {
                    "note": "ours: sandbox, database and API per student; theirs: the notebook container"
                }
            ),
            **goal("an idle bundle (sandbox, database, API) under 400 MiB", top < 400),
        ),
        *baseline_row,
    ]

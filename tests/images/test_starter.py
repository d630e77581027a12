"""The student edition for real: `npm run classroom -- starter --out DIR` writes it, its API and
sandbox images build from its own folders (on the stand-in bases, pip from the run's wheel
server), its docker-compose.yml brings sandbox, database and API up (docker-compose 1.29, the
PostgreSQL stand-in, the starter's own TP5 file as the database's init script), and the teacher's
checks find exactly the TODOs: TP1 passes (the sandbox is given), TP3 fails at the prediction
route after hello and health pass, TP5 fails at the table.

What the run changes, as test_compose.py does: images (an override gives each service the image
built here), host ports (free loopback ports), labels (a killed run is cleaned up by
scripts/test/image-test.sh). Skipped, saying so, without docker-compose.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from image_support import (
    DEBIAN_STANDIN,
    NAME_PREFIX,
    OWNER_LABEL,
    PYTHON_STANDIN,
    RUN_LABEL,
    ImageSpec,
    ImageTestError,
    Role,
    classroom_cli,
    run,
)
from test_compose import PORT
from week_support import POSTGRES_STANDIN
from week_testkit.ports import free_port

if TYPE_CHECKING:
    from conftest import Builds

SERVICES = ("database", "sandbox", "api")
HEALTHY_TIMEOUT_S = 240
# Repositories of their own: the tests' pruning of superseded tags (image_support.Builder)
# never touches the teacher's week-api and week-sandbox images.
STARTER_ROLES = {
    "api": Role("api", "week-starter-api", PYTHON_STANDIN, ("python:3.11-",)),
    "sandbox": Role("sandbox", "week-starter-sandbox", DEBIAN_STANDIN, ("ubuntu:", "debian:")),
}


def content_tag(role: Role, context: Path) -> str:
    """A tag named by the context's content: an unchanged edition reuses its image."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{role.repository}:{digest.hexdigest()[:12]}"


@dataclass
class Edition:
    dir: Path
    project: str
    files: list[str]
    env: dict[str, str]
    ports: dict[str, int]  # service -> host port

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        cmd = ["docker-compose", "-p", self.project, *[a for f in self.files for a in ("-f", f)]]
        cmd += ["--env-file", "database.env", *args]
        return run(cmd, timeout=timeout, env=self.env, cwd=self.dir, check=check).stdout

    def container(self, service: str) -> str:
        ids = self.compose("ps", "-q", service, timeout=60).split()
        if len(ids) != 1:
            raise ImageTestError(f"starter service {service}: expected one container, got {ids}")
        return ids[0]


@pytest.fixture(scope="module")
def edition(
    builds: Builds,
    run_id: str,
    tmp_path_factory: pytest.TempPathFactory,
    say: Callable[[str], None],
) -> Iterator[Edition]:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (.ci/run installs Debian's package)")
    if run(["docker", "image", "inspect", POSTGRES_STANDIN], timeout=60, check=False).returncode:
        raise ImageTestError(f"{POSTGRES_STANDIN} is missing: run scripts/setup/docker-bases.sh")
    out = tmp_path_factory.mktemp("starter") / "edition"
    t0 = time.monotonic()
    written = classroom_cli("starter", "--out", str(out))
    assert written.returncode == 0, written.stderr
    images: dict[str, str] = {}
    for name, role in STARTER_ROLES.items():
        context = out / "lambdas-src" / name
        spec = ImageSpec(
            role=role,
            resource=f"starter-{name}",
            tag=content_tag(role, context),
            context=context,
            dockerfile=context / "Dockerfile",
            build_args={},
            container=None,
        )
        try:
            built = builds.builder.build(spec, role.standin)
        finally:
            builds.drain()
        images[name] = built.spec.tag
        say(f"starter {name} image {built.how}")
    say(f"starter written and its images ready in {time.monotonic() - t0:.0f} s")

    ports: dict[str, int] = {}
    service_of_host_port = {5432: "database", 8000: "sandbox", 8080: "api"}  # the file's own
    text = (out / "docker-compose.yml").read_text()

    def local_port(m: re.Match[str]) -> str:
        port = free_port()
        service = service_of_host_port.get(int(m.group(2)))
        if service is not None:
            ports[service] = port
        return f"{m.group(1)}127.0.0.1:{port}:{m.group(3)}/tcp"

    (out / "docker-compose.yml").write_text(PORT.sub(local_port, text))
    labels = {RUN_LABEL: run_id, OWNER_LABEL: str(os.getpid())}
    override = {
        "services": {
            "database": {"image": POSTGRES_STANDIN, "labels": labels},
            **{name: {"image": tag, "labels": labels} for name, tag in images.items()},
        },
        "networks": {"week": {"labels": labels}},
        "volumes": {"database-data": {"labels": labels}, "workspace-data": {"labels": labels}},
    }
    (out / "docker-compose.standin.yml").write_text(json.dumps(override, indent=2))
    database_env = {
        "POSTGRES_USER": "week",
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "POSTGRES_DB": "week",
    }
    env_file = out / "database.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in database_env.items()))
    env_file.chmod(0o600)
    project = re.sub(r"[^a-z0-9_-]", "-", f"{NAME_PREFIX}-starter-{run_id}".lower())
    edition = Edition(
        dir=out,
        project=project,
        files=["docker-compose.yml", "docker-compose.standin.yml"],
        env={"JUPYTER_TOKEN": secrets.token_hex(24), "GIT_TOKEN": "", **database_env},
        ports=ports,
    )
    try:
        t0 = time.monotonic()
        edition.compose("up", "-d", "--no-build", *SERVICES)
        pending = set(SERVICES)
        while pending and time.monotonic() - t0 < HEALTHY_TIMEOUT_S:
            for service in sorted(pending):
                health = run(
                    [
                        "docker",
                        "inspect",
                        "-f",
                        "{{.State.Health.Status}}",
                        edition.container(service),
                    ],
                    timeout=60,
                ).stdout.strip()
                if health == "healthy":
                    pending.discard(service)
            time.sleep(1)
        if pending:
            logs = edition.compose("logs", "--tail", "20", *sorted(pending), check=False)
            raise ImageTestError(f"starter services not healthy: {sorted(pending)}\n{logs[-3000:]}")
        say(f"starter's sandbox, database and API healthy {time.monotonic() - t0:.0f} s after up")
        yield edition
    finally:
        edition.compose("down", "-v", "--remove-orphans", timeout=300, check=False)


def report(tp: str, *args: str, env: dict[str, str] | None = None) -> list[list[str]]:
    done = classroom_cli("check", tp, *args, "--format", "csv", env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["student", "check", "status", "detail"]
    return rows[1:]


def test_tp1_passes_on_the_starter_sandbox_which_is_given(edition: Edition) -> None:
    rows = report(
        "TP1",
        "--url",
        f"http://127.0.0.1:{edition.ports['sandbox']}/",
        "--container",
        edition.container("sandbox"),
        env={"JUPYTER_TOKEN": edition.env["JUPYTER_TOKEN"]},
    )
    assert [(r[1], r[2]) for r in rows] == [
        ("jupyter token", "pass"),
        ("tools and workspace", "pass"),
    ], rows


def test_tp3_fails_on_the_starter_api_exactly_at_the_prediction_route(edition: Edition) -> None:
    [[_, _, status, detail]] = report("TP3", "--url", f"http://127.0.0.1:{edition.ports['api']}")
    assert status == "fail"
    assert detail.startswith("prediction (POST /predict): expected HTTP 200, got 501"), detail
    assert "TODO TP3: POST /predict is not written yet" in detail
    assert detail.endswith("(after 5 checks passed)")  # hello, health, docs, HEAD, OpenAPI


def test_tp5_fails_on_the_starter_database_whose_table_is_a_todo(edition: Edition) -> None:
    rows = report("TP5", "--container", edition.container("database"))
    assert rows[0][1:3] == ["table", "fail"], rows

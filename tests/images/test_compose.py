"""The course's docker-compose.yml on a real engine with Debian's docker-compose (1.29): the
commands of docs/course.md bring the four services to healthy as they are written there,
`config` accepts the file, `down` keeps the volumes, and `up` again finds the data.

The commands are the fenced block after the `week:compose-commands` marker of docs/course.md,
run by bash in a project folder holding the committed file and a link to lambdas-src (the doc and
the test cannot drift: __tests__/course-doc.test.ts checks the same block without Docker). They
write database.env and export JUPYTER_TOKEN themselves. What the test changes, and how:
  - `docker compose` is answered by a `docker` shim first on the PATH, which runs Debian's
    `docker-compose` 1.29 with the project name, the committed file plus an override, and
    `--no-build` for `--build`;
  - images: the override (docker-compose.standin.yml) gives each service an `image:` -- the
    PostgreSQL stand-in for `database`, the images the image tests built from the synthesised
    contexts for the three others (no registry here: `--build` would pull the bases);
  - host ports: the test's copy publishes on free loopback ports instead of 5432/8000/8080/8501
    (other people's services use those on a shared machine): only the host port of each
    `127.0.0.1:HOST:CONTAINER/tcp` entry is rewritten; an override cannot replace a port list
    with docker-compose 1.29 (it appends);
  - labels on containers, network and volumes in the override, so that a killed run is cleaned
    up by scripts/test/image-test.sh like the others.
Skipped, saying so, without docker-compose.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from image_support import (
    NAME_PREFIX,
    OWNER_LABEL,
    ROOT,
    RUN_LABEL,
    ImageTestError,
    index_build_args,
    run,
)
from week_support import POSTGRES_STANDIN
from week_testkit.ports import free_port

if TYPE_CHECKING:
    from conftest import Builds, Report

SERVICES = ("database", "sandbox", "api", "streamlit")
COURSE_DOC = ROOT / "docs" / "course.md"
COMMANDS_MARKER = "<!-- week:compose-commands"
JUPYTER_LINK = re.compile(r"^Jupyter: http://127\.0\.0\.1:8000/tree\?token=(\S+)$", re.M)
HEALTHY_TIMEOUT_S = 300
PORT = re.compile(r"^(\s*- )127\.0\.0\.1:(\d+):(\d+)/tcp$", re.M)


def course_commands() -> str:
    """The Compose commands of docs/course.md: the ```sh block after the marker, as written."""
    text = COURSE_DOC.read_text()
    if text.count(COMMANDS_MARKER) != 1:
        raise ImageTestError(f"{COURSE_DOC} must hold one {COMMANDS_MARKER} marker")
    after = text.split(COMMANDS_MARKER, 1)[1]
    block = re.search(r"^```sh\n(.*?)^```$", after, re.M | re.S)
    if block is None:
        raise ImageTestError(f"no ```sh block after {COMMANDS_MARKER} in {COURSE_DOC}")
    return block.group(1)


def compose_shim(directory: Path, project: str, files: list[str]) -> Path:
    """A folder holding `docker`: `docker compose ARGS` runs docker-compose 1.29 on the test's
    files with --no-build for --build; any other `docker` command is the real one."""
    real_docker = shutil.which("docker")
    if real_docker is None:
        raise ImageTestError("docker is not on the PATH")
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    file_args = " ".join(f"-f {f}" for f in files)
    shim = bin_dir / "docker"
    shim.write_text(
        "#!/usr/bin/env bash\n"
        'if [[ "${1:-}" == compose ]]; then\n'
        "  shift\n"
        "  args=()\n"
        '  for a in "$@"; do [[ $a == --build ]] && a=--no-build; args+=("$a"); done\n'
        f'  exec docker-compose -p {project} {file_args} "${{args[@]}}"\n'
        "fi\n"
        f'exec {real_docker} "$@"\n'
    )
    shim.chmod(0o755)
    return bin_dir


@dataclass
class ComposeProject:
    dir: Path
    name: str
    env: dict[str, str]
    files: list[str]
    host_ports: list[int]  # the free ports the test's copy publishes on
    database_env: dict[str, str]  # what the course's commands wrote to database.env
    bin_dir: Path  # the `docker` shim

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        cmd = ["docker-compose", "-p", self.name, *[a for f in self.files for a in ("-f", f)]]
        cmd += ["--env-file", "database.env", *args]
        return run(cmd, timeout=timeout, env=self.env, cwd=self.dir, check=check).stdout

    def container(self, service: str) -> str:
        ids = self.compose("ps", "-q", service, timeout=60).split()
        if len(ids) != 1:
            raise ImageTestError(f"compose service {service}: expected one container, got {ids}")
        return ids[0]

    def health(self, service: str) -> str:
        out = run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", self.container(service)],
            timeout=60,
        ).stdout
        return out.strip()

    def wait_healthy(self, say: Callable[[str], None]) -> float:
        t0 = time.monotonic()
        pending = set(SERVICES)
        while pending and time.monotonic() - t0 < HEALTHY_TIMEOUT_S:
            for service in sorted(pending):
                if self.health(service) == "healthy":
                    pending.discard(service)
                    say(f"compose {service} healthy {time.monotonic() - t0:.0f} s after up")
            time.sleep(1)
        if pending:
            logs = self.compose("logs", "--tail", "20", *sorted(pending), check=False)
            raise ImageTestError(f"compose services not healthy: {sorted(pending)}\n{logs[-3000:]}")
        return time.monotonic() - t0

    def psql(self, sql: str) -> str:
        user, db = self.database_env["POSTGRES_USER"], self.database_env["POSTGRES_DB"]
        return self.compose(
            "exec", "-T", "database", "psql", "-U", user, "-d", db, "-Atc", sql, timeout=60
        ).strip()

    def volumes(self) -> list[str]:
        out = run(
            [
                "docker",
                "volume",
                "ls",
                "-q",
                "--filter",
                f"label=com.docker.compose.project={self.name}",
            ],
            timeout=60,
        ).stdout
        return sorted(out.split())


@pytest.fixture(scope="module")
def project(
    builds: Builds, stack_dir: Path, run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeProject]:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (.ci/run installs Debian's package)")
    if run(["docker", "image", "inspect", POSTGRES_STANDIN], timeout=60, check=False).returncode:
        raise ImageTestError(f"{POSTGRES_STANDIN} is missing: run scripts/setup/docker-bases.sh")
    directory = tmp_path_factory.mktemp("compose")
    text = (ROOT / "docker-compose.yml").read_text()
    ports: list[int] = []

    def local_port(m: re.Match[str]) -> str:
        ports.append(free_port())
        return f"{m.group(1)}127.0.0.1:{ports[-1]}:{m.group(3)}/tcp"

    (directory / "docker-compose.yml").write_text(PORT.sub(local_port, text))
    (directory / "lambdas-src").symlink_to(ROOT / "lambdas-src")
    labels = {RUN_LABEL: run_id, OWNER_LABEL: str(os.getpid())}
    override = {
        "services": {
            "database": {"image": POSTGRES_STANDIN, "labels": labels},
            **{
                role: {"image": builds.get(role).spec.tag, "labels": labels}
                for role in ("sandbox", "api", "streamlit")
            },
        },
        "networks": {"week": {"labels": labels}},
        "volumes": {"database-data": {"labels": labels}, "workspace-data": {"labels": labels}},
    }
    # JSON is YAML: the override needs no YAML library in the test venv
    (directory / "docker-compose.standin.yml").write_text(json.dumps(override, indent=2))
    name = re.sub(r"[^a-z0-9_-]", "-", f"{NAME_PREFIX}-compose-{run_id}".lower())
    files = ["docker-compose.yml", "docker-compose.standin.yml"]
    p = ComposeProject(
        dir=directory,
        name=name,
        env={"GIT_TOKEN": ""},
        files=files,
        host_ports=ports,
        database_env={},
        bin_dir=compose_shim(directory, name, files),
    )
    try:
        yield p
    finally:
        # `down` needs each required variable set, to anything: the course's commands may have
        # stopped half-way, before the token or database.env existed
        placeholders = dict.fromkeys(
            ("JUPYTER_TOKEN", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"), "-"
        )
        cmd = ["docker-compose", "-p", name, *[a for f in files for a in ("-f", f)]]
        cmd += ["down", "-v", "--remove-orphans"]
        run(cmd, timeout=300, check=False, env={**placeholders, **p.env}, cwd=directory)


def test_the_course_commands_as_written_bring_the_week_up(
    project: ComposeProject, say: Callable[[str], None], report: Report
) -> None:
    t0 = time.monotonic()
    done = run(
        ["bash", "--norc", "-euo", "pipefail", "-c", course_commands()],
        timeout=900,
        env={"PATH": f"{project.bin_dir}:{os.environ['PATH']}", "JUPYTER_TOKEN": ""},
        cwd=project.dir,
    )
    env_file = project.dir / "database.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        project.database_env[key] = value
    assert sorted(project.database_env) == ["POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER"]
    link = JUPYTER_LINK.search(done.stdout)
    assert link is not None, done.stdout
    project.env["JUPYTER_TOKEN"] = link.group(1)
    project.wait_healthy(say)
    report.notes.append(
        f"docs/course.md's Compose commands: four services healthy in {time.monotonic() - t0:.0f} s"
    )
    # the link the commands print opens Jupyter (on the test's host port); without the token
    # (a client without the login cookie the link sets), no entry
    base = f"http://127.0.0.1:{published_port(project, 'sandbox', 8000)}"
    with httpx.Client(trust_env=False, timeout=30) as client:
        page = client.get(f"{base}/tree", params={"token": link.group(1)}, follow_redirects=True)
        assert page.status_code == 200 and "/login" not in str(page.url), (
            page.status_code,
            page.url,
        )
    with httpx.Client(trust_env=False, timeout=30) as stranger:
        assert stranger.get(f"{base}/api/contents").status_code in (401, 403)


def test_docker_compose_config_accepts_the_file_as_a_student_runs_it(
    project: ComposeProject,
) -> None:
    # the committed file alone (no override): what `docker compose up` reads
    done = run(
        ["docker-compose", "-p", project.name, "--env-file", "database.env", "config", "-q"],
        timeout=120,
        env=project.env,
        cwd=project.dir,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert project.database_env["POSTGRES_PASSWORD"] not in done.stderr


def test_up_brings_the_four_services_to_healthy_and_down_keeps_the_volumes(
    project: ComposeProject, say: Callable[[str], None], report: Report
) -> None:
    t0 = time.monotonic()
    project.compose("up", "-d", "--no-build", timeout=900)
    took = project.wait_healthy(say)
    report.notes.append(
        f"docker-compose up: four services healthy in {time.monotonic() - t0:.0f} s"
    )
    say(f"docker-compose up: healthy after {took:.0f} s")
    api = f"http://127.0.0.1:{api_port(project)}"
    with httpx.Client(trust_env=False, timeout=30) as client:
        health = client.get(f"{api}/health").json()
        assert health["status"] == "ok", health
        stored = client.post(f"{api}/predict", json={"text": "kept across down and up"}).json()
    assert stored["stored"] is True
    assert project.psql(f"select text from predictions where id = {stored['id']}") == (
        "kept across down and up"
    )
    assert int(project.psql("select count(*) from students")) == 5
    volumes = project.volumes()
    assert [v.removeprefix(f"{project.name}_") for v in volumes] == [
        "database-data",
        "workspace-data",
    ]

    project.compose("down", timeout=300)
    assert project.compose("ps", "-q", timeout=60).split() == []
    assert project.volumes() == volumes

    project.compose("up", "-d", "--no-build", timeout=900)
    project.wait_healthy(say)
    assert project.psql(f"select text from predictions where id = {stored['id']}") == (
        "kept across down and up"
    )
    assert int(project.psql("select count(*) from students")) == 5  # init SQL ran once


def published_port(project: ComposeProject, service: str, port: int) -> int:
    """The host port of a service's container port, as Compose published it."""
    out = project.compose("port", service, str(port), timeout=60).strip()
    return int(out.rsplit(":", 1)[1])


def api_port(project: ComposeProject) -> int:
    return published_port(project, "api", 8000)


def test_compose_builds_the_same_images_as_the_stack_from_the_same_contexts(
    project: ComposeProject, builds: Builds, pip_index_url: str, run_id: str
) -> None:
    """`docker-compose build` from the committed file (lambdas-src/*, the sandbox's committed
    rendered Dockerfile) on the same stand-in bases and mirror as the image tests: every layer
    comes from the cache of the build of the synthesised context, so the image is the very same
    (same id). Only the base and the mirror are given, as build arguments, in an override."""
    roles = ("sandbox", "api", "streamlit")
    tags = {role: f"{project.name}-{role}:build-test" for role in roles}
    override = {
        "services": {
            role: {
                "image": tags[role],
                "build": {
                    "network": "host",
                    "args": {
                        "BASE_IMAGE": builds.get(role).base,
                        **index_build_args(pip_index_url),
                    },
                },
            }
            for role in roles
        }
    }
    (project.dir / "docker-compose.build.yml").write_text(json.dumps(override, indent=2))
    cmd = ["docker-compose", "-p", project.name, "-f", "docker-compose.yml"]
    cmd += ["-f", "docker-compose.build.yml", "--env-file", "database.env", "build", *roles]
    try:
        run(cmd, timeout=1800, env={**project.env, "DOCKER_BUILDKIT": "0"}, cwd=project.dir)
        for role in roles:
            built = run(["docker", "image", "inspect", "-f", "{{.Id}}", tags[role]], timeout=60)
            assert built.stdout.strip() == builds.get(role).image_id, (
                f"{role}: docker-compose built another image than the stack's context gives"
            )
    finally:
        for tag in tags.values():  # untags only: the image is the stack's
            run(["docker", "rmi", tag], timeout=120, check=False)

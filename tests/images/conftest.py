"""Session fixtures of the image tests: synth, stand-in bases, builds, a private network and the
running containers; and the summary table (build times, sizes above base, time to healthy).

Clean-up is guaranteed by fixture finalizers (pytest runs them on failures and on Ctrl-C; SIGTERM
is turned into KeyboardInterrupt for the same path) and, in case the process dies anyway, by
labels: scripts/test/image-test.sh removes whatever its run left, and each session first removes
what earlier runs whose process is gone left behind.

Environment (all optional; scripts/test/image-test.sh sets the first three):
  IMAGE_TEST_SYNTH_DIR      a cdktf output folder already synthesised (else: npm run synth here)
  IMAGE_TEST_PIP_INDEX_URL  the package index of the builds (default: the wheels the locks name,
                            downloaded by the host and served on loopback by
                            scripts/setup/pip-mirror.sh start; `none`: the builds reach PyPI or
                            their PIP_INDEX_URL themselves)
  IMAGE_TEST_RUN_ID         names and labels of this run's containers, network and volumes
  IMAGE_TEST_REBUILD=1      build with --no-cache even when an image with the tag exists
  IMAGE_TEST_BUILD_JOBS     builds at a time (default 2)
  IMAGE_TEST_PRUNE=0        keep the images earlier runs built under tags now superseded
  IMAGE_TEST_STATE_DIR      where the tags the tests built are listed (/var/cache/week-image-test)
  IMAGE_TEST_NAME_PREFIX    prefix of container, network and volume names (week-it)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from image_support import (
    COURSE_REPO,
    NAME_PREFIX,
    PYTHON_STANDIN,
    ROLES,
    ROOT,
    Builder,
    BuiltImage,
    Container,
    HealthWatch,
    ImageSpec,
    ImageTestError,
    check_base,
    docker,
    engine_answers,
    inspect,
    labels,
    load_stack,
    remove_labelled,
    run,
    start_container,
    synth,
    user_ids,
    wait_until,
)

START_ORDER = ("api", "streamlit", "sandbox")  # the stack starts Streamlit after the API
READY_PATH = {"sandbox": "/api", "api": "/health", "streamlit": "/_stcore/health"}
READY_TIMEOUT_S = 180
HEALTHY_TIMEOUT_S = 180  # from the container's start
COURSE_REPO_MOUNT = f"/srv/git/{COURSE_REPO}.git"


def _start() -> float:
    """When the run started, on the monotonic clock: scripts/test/image-test.sh's start if given."""
    t0 = os.environ.get("IMAGE_TEST_T0", "")
    return time.monotonic() - (max(0.0, time.time() - float(t0)) if t0.isdigit() else 0.0)


@dataclass
class Report:
    started: float = field(default_factory=_start)
    run_id: str = ""
    builds: dict[str, BuiltImage] = field(default_factory=dict)
    build_errors: dict[str, str] = field(default_factory=dict)
    healthy_after: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


REPORT_KEY = pytest.StashKey[Report]()


def _stop_once(signum: int, frame: Any) -> None:
    """The first SIGINT or SIGTERM stops the run the Ctrl-C way (finalizers run); later ones
    are ignored so that they cannot cut the clean-up short (Ctrl-C reaches the whole process
    group, then scripts/test/image-test.sh sends SIGTERM)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}: cleaning up")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORT_KEY] = Report()
    signal.signal(signal.SIGINT, _stop_once)
    signal.signal(signal.SIGTERM, _stop_once)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if engine_answers():
        return
    reason = "no Docker engine answers (`docker info` failed): image tests not run"
    if os.environ.get("CI") == "true" and os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.exit(f"{reason}, and CI=true REQUIRE_DOCKER=1 require one", returncode=1)
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(REPORT_KEY, None)
    if report is None or not (report.builds or report.build_errors):
        return
    w = terminalreporter.write_line
    terminalreporter.section("images (sizes in MB; above base = image size - base size)")
    w(
        f"{'image':30} {'built on':38} {'build':>18} {'size':>7} {'base':>6} {'above base':>10} "
        f"{'healthy after':>13}"
    )
    for role in ROLES:
        b = report.builds.get(role)
        if b is None:
            if role in report.build_errors:
                w(f"{role:30} build failed: {report.build_errors[role].splitlines()[0][:100]}")
            continue
        healthy = report.healthy_after.get(role)
        w(
            f"{b.spec.tag:30} {b.base:38} {b.how:>18} {b.size_bytes / 1e6:7.0f} "
            f"{b.base_size_bytes / 1e6:6.0f} {b.above_base_mb:10.0f} "
            f"{'-' if healthy is None else f'{healthy:.0f} s':>13}"
        )
    for note in report.notes:
        w(f"note: {note}")
    w(f"image tests took {time.monotonic() - report.started:.0f} s (run {report.run_id})")


# --------------------------------------------------------------------------------- output


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> Report:
    return pytestconfig.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def say(pytestconfig: pytest.Config, report: Report) -> Callable[[str], None]:
    """Progress lines that bypass output capture (main thread only)."""
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    terminal = pytestconfig.pluginmanager.getplugin("terminalreporter")

    def say(message: str) -> None:
        line = f"[image-test {time.monotonic() - report.started:4.0f}s] {message}"
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            if terminal is not None:
                terminal.ensure_newline()  # not after a row of progress dots
                terminal.write_line(line)
                terminal.flush()
            else:
                print(line, file=sys.stderr, flush=True)

    return say


# --------------------------------------------------------------------------------- inputs


@pytest.fixture(scope="session")
def run_id(report: Report, say: Callable[[str], None]) -> str:
    rid = os.environ.get("IMAGE_TEST_RUN_ID") or f"{os.getpid()}-{secrets.token_hex(3)}"
    report.run_id = rid
    for what in remove_labelled(owner_dead=True):
        say(f"removed {what} left by an earlier run whose process is gone")
    return rid


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("image-test")


@pytest.fixture(scope="session")
def stack_dir(workdir: Path, say: Callable[[str], None]) -> Path:
    given = os.environ.get("IMAGE_TEST_SYNTH_DIR")
    if given:
        return Path(given) / "stacks" / "local"
    t0 = time.monotonic()
    say("npm run synth ...")
    out = synth(workdir / "cdktf.out")
    say(f"synth done in {time.monotonic() - t0:.0f} s")
    return out


@pytest.fixture(scope="session")
def stack(stack_dir: Path) -> dict[str, ImageSpec]:
    return load_stack(stack_dir)


@pytest.fixture(scope="session")
def pip_index_url() -> str:
    """The PIP_INDEX_URL build argument, or "" for none (the Dockerfiles' own default)."""
    given = os.environ.get("IMAGE_TEST_PIP_INDEX_URL")
    if given == "none":
        return ""
    if given:
        return given
    # the first time, it downloads every wheel the locks name: minutes
    out = run(
        ["bash", str(ROOT / "scripts" / "setup" / "pip-mirror.sh"), "start"], timeout=1800
    ).stdout
    return out.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def canaries() -> dict[str, str]:
    """Run-time secrets of the sandbox: unique values to look for in images and files."""
    return {
        "JUPYTER_TOKEN": f"canary-jupyter-{secrets.token_hex(16)}",
        "GIT_TOKEN": f"canary-git-{secrets.token_hex(16)}",
        "GIT_SSH_KEY": f"canary-ssh-key-{secrets.token_hex(16)}",
    }


@pytest.fixture(scope="session")
def course_repo(workdir: Path) -> Path:
    """A bare repository with one commit, as the sandbox's GIT_REPO_URL."""
    work = workdir / "course-work"
    bare = workdir / f"{COURSE_REPO}.git"
    work.mkdir()
    (work / "README.md").write_text("# Course notebooks\n\nCloned by the sandbox at start.\n")
    (work / "welcome.py").write_text("print('hello from the course repository')\n")
    ident = {
        "GIT_AUTHOR_NAME": "Teacher",
        "GIT_AUTHOR_EMAIL": "teacher@example.com",
        "GIT_COMMITTER_NAME": "Teacher",
        "GIT_COMMITTER_EMAIL": "teacher@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    run(["git", "init", "-q", "-b", "main", str(work)], timeout=30, env=ident)
    run(["git", "-C", str(work), "add", "."], timeout=30, env=ident)
    run(["git", "-C", str(work), "commit", "-q", "-m", "Week notebooks"], timeout=30, env=ident)
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], timeout=30, env=ident)
    run(["git", "--git-dir", str(bare), "update-server-info"], timeout=30, env=ident)  # dumb http
    # readable by the container's user (the mount is read-only)
    for path in [workdir, bare, *bare.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return bare


# --------------------------------------------------------------------------------- builds


class Builds:
    """The stack's images, built in the background; `get` waits for one and says how it goes."""

    def __init__(self, builder: Builder, say: Callable[[str], None], report: Report):
        self.builder = builder
        self.say = say
        self.report = report
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=builder.jobs)
        self.futures: dict[str, concurrent.futures.Future[BuiltImage]] = {}

    def submit(self, spec: ImageSpec, base: str) -> None:
        self.futures[spec.role.name] = self.pool.submit(self.builder.build, spec, base)

    def drain(self) -> None:
        while not self.builder.messages.empty():
            self.say(self.builder.messages.get_nowait())

    def get(self, role: str) -> BuiltImage:
        future = self.futures.get(role)
        if future is None:
            pytest.skip(f"the stack builds no {role} image")
        beat = time.monotonic()
        while True:
            self.drain()
            try:
                built = future.result(timeout=2)
                self.drain()
                self.report.builds[role] = built
                return built
            except concurrent.futures.TimeoutError:
                pass
            except Exception as exc:
                self.drain()
                self.report.build_errors[role] = str(exc)
                raise
            if time.monotonic() - beat >= 60:
                beat = time.monotonic()
                running = [
                    f"{r} {time.monotonic() - t0:.0f} s, {self.builder.current_step(r)}"
                    for r, t0 in list(self.builder.started.items())
                ]
                self.say("building: " + ("; ".join(running) or "tidying up"))

    def close(self) -> None:
        self.builder.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.drain()


@pytest.fixture(scope="session")
def builds(
    stack: dict[str, ImageSpec],
    pip_index_url: str,
    workdir: Path,
    say: Callable[[str], None],
    report: Report,
) -> Iterator[Builds]:
    for standin in sorted({spec.role.standin for spec in stack.values()}):
        check_base(standin)
    builder = Builder(
        pip_index_url,
        workdir,
        jobs=int(os.environ.get("IMAGE_TEST_BUILD_JOBS", "2")),
        rebuild=os.environ.get("IMAGE_TEST_REBUILD") == "1",
        prune=os.environ.get("IMAGE_TEST_PRUNE", "1") != "0",
    )
    result = Builds(builder, say, report)
    source = pip_index_url or "the index"
    say(f"building {len(stack)} images, {builder.jobs} at a time, pip from {source}")
    # the longest first
    for role in ("sandbox", "api", "streamlit"):
        if role in stack:
            result.submit(stack[role], stack[role].role.standin)
    try:
        yield result
    finally:
        result.close()


# --------------------------------------------------------------------------------- containers


def stack_env(
    spec: ImageSpec, canaries: dict[str, str], say: Callable[[str], None], report: Report
) -> dict[str, str]:
    """The container's env as the stack gives it; Terraform expressions (secrets) replaced."""
    assert spec.container is not None
    env: dict[str, str] = {}
    for item in spec.container.env:
        name, _, value = item.partition("=")
        if "${" not in value:
            env[name] = value
        elif name in canaries:
            env[name] = canaries[name]
        elif name == "DATABASE_URL":
            note = (
                f"{spec.container.name}: DATABASE_URL (the stack's PostgreSQL) left out, so the "
                "API stores predictions in SQLite here; test_week.py runs it on PostgreSQL"
            )
            say(note)
            report.notes.append(note)
        else:
            raise ImageTestError(
                f"{spec.container.name}: env {name} is a Terraform expression ({value}) the image "
                "test has no stand-in for: add one in conftest.stack_env"
            )
    return env


@dataclass
class Running:
    network: str
    containers: dict[str, Container] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    health: dict[str, HealthWatch] = field(default_factory=dict)


@pytest.fixture(scope="session")
def network(run_id: str, say: Callable[[str], None]) -> Iterator[str]:
    name = f"{NAME_PREFIX}-{run_id}"
    docker("network", "create", "--driver", "bridge", *labels(run_id), name)
    say(f"network {name} created")
    try:
        yield name
    finally:
        removed = remove_labelled(run_id)
        say("removed " + (", ".join(removed) if removed else "nothing (already clean)"))


@pytest.fixture(scope="session")
def running(
    builds: Builds,
    stack: dict[str, ImageSpec],
    network: str,
    run_id: str,
    canaries: dict[str, str],
    course_repo: Path,
    say: Callable[[str], None],
    report: Report,
) -> Iterator[Running]:
    """Every built image running as the stack runs it (env, memory, alias, volumes), each port
    published on a free 127.0.0.1 port. An image that failed to build is an error for its own
    tests only."""
    state = Running(network)
    built: dict[str, BuiltImage] = {}
    for role in ("sandbox", "api", "streamlit"):
        if role in stack:
            try:
                built[role] = builds.get(role)
            except Exception as exc:  # reported by the role's tests
                state.errors[role] = exc
    try:
        for role in START_ORDER:
            if role not in built:
                continue
            spec = stack[role]
            try:
                if spec.container is None:
                    raise ImageTestError(f"the stack runs no container from {spec.tag}")
                env = stack_env(spec, canaries, say, report)
                mounts: list[str] = []
                for _ref, path in spec.container.volumes:
                    volume = f"{NAME_PREFIX}-{run_id}-{role}-{len(mounts)}"
                    docker("volume", "create", *labels(run_id), volume)
                    mounts.append(f"type=volume,source={volume},target={path}")
                before_start = None
                if role == "sandbox":
                    before_start = functools.partial(
                        _give_repo_to_image_user, course_repo, spec.tag
                    )
                    env["GIT_REPO_URL"] = f"file://{COURSE_REPO_MOUNT}"
                    mounts.append(
                        f"type=bind,source={course_repo},target={COURSE_REPO_MOUNT},readonly"
                    )
                t0 = time.monotonic()
                container = start_container(
                    role=role,
                    image=spec.tag,
                    name=f"{NAME_PREFIX}-{run_id}-{role}",
                    network=network,
                    aliases=spec.container.aliases,
                    env=env,
                    internal_port=spec.container.internal_port,
                    memory_mib=spec.container.memory_mib,
                    mounts=mounts,
                    run_id=run_id,
                    before_start=before_start,
                )
                state.health[role] = HealthWatch(container, timeout=HEALTHY_TIMEOUT_S)
                say(
                    f"{container.name} started in {time.monotonic() - t0:.0f} s on {container.url} "
                    f"(alias {', '.join(spec.container.aliases)}, "
                    f"memory {spec.container.memory_mib} MiB)"
                )
                state.containers[role] = container
            except Exception as exc:
                state.errors[role] = exc
        yield state
    finally:
        for watch in state.health.values():
            watch.stop()
        for container in state.containers.values():
            if _failed_reports:
                say(f"{container.name} last log lines:\n{container.logs(15)}")
            run(["docker", "rm", "-f", "-v", container.name], timeout=120, check=False)


GIT_SERVER = r"""
import base64, http.server, os
pair = f"x-access-token:{os.environ['EXPECTED_TOKEN']}".encode()
want = "Basic " + base64.b64encode(pair).decode()


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory="/srv/git", **kwargs)

    def send_head(self):
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="course"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().send_head()


http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
"""


@dataclass
class GitServer:
    container: str
    url: str  # of the course repository, as the sandbox sees it

    def log(self) -> str:
        done = run(["docker", "logs", self.container], timeout=60, check=False)
        return done.stdout + done.stderr


@pytest.fixture(scope="session")
def git_server(
    running: Running, run_id: str, course_repo: Path, canaries: dict[str, str]
) -> Iterator[GitServer]:
    """The course repository over http with Basic auth (user x-access-token, password the
    GIT_TOKEN canary), as a hosted repository asks for a token: dumb-http git from a Python
    server in the Python stand-in base, on the private network as `git`."""
    name = f"{NAME_PREFIX}-{run_id}-git"
    cmd = ["docker", "run", "-d", "--name", name, "--network", running.network, *labels(run_id)]
    cmd += ["--network-alias", "git", "-e", "EXPECTED_TOKEN", "--user", "65534:65534"]
    cmd += [
        "--mount",
        f"type=bind,source={course_repo},target=/srv/git/{course_repo.name},readonly",
    ]
    cmd += [PYTHON_STANDIN, "python3", "-u", "-c", GIT_SERVER]
    run(cmd, timeout=300, env={"EXPECTED_TOKEN": canaries["GIT_TOKEN"]})
    try:
        yield GitServer(container=name, url=f"http://git:8080/{course_repo.name}")
    finally:
        run(["docker", "rm", "-f", name], timeout=120, check=False)


def _give_repo_to_image_user(repo: Path, image: str, container: str) -> None:
    """The clone is made by the image's user: git refuses a repository another user owns
    ("dubious ownership"), so the mounted bare repository belongs to that user. A test-only
    matter: the stack clones over https."""
    data = inspect("image", image)
    user = (data or {}).get("Config", {}).get("User") or "root"
    uid, gid = user_ids(container, user)
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


_failed_reports: list[pytest.TestReport] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _failed_reports.append(report)


def _ready(running: Running, role: str, say: Callable[[str], None]) -> Container:
    if role in running.errors:
        raise running.errors[role]
    container = running.containers.get(role)
    if container is None:
        pytest.skip(f"no {role} container (the stack has no {role} image)")
    if container.ready:
        return container

    def answers() -> bool:
        state = container.state()
        if not state.get("Running"):
            raise ImageTestError(
                f"{container.name} stopped (exit {state.get('ExitCode')}, OOMKilled "
                f"{state.get('OOMKilled')}); last log lines:\n{container.logs()}"
            )
        import httpx

        with httpx.Client(trust_env=False, timeout=5) as client:
            return client.get(container.url + READY_PATH[role]).status_code == 200

    t0 = time.monotonic()
    wait_until(
        f"{container.name} answering {READY_PATH[role]}",
        answers,
        timeout=READY_TIMEOUT_S,
        on_timeout=container.logs,
    )
    say(
        f"{container.name} answers on {container.url}{READY_PATH[role]} "
        f"({time.monotonic() - container.started_at:.0f} s after start, "
        f"waited {time.monotonic() - t0:.0f} s)"
    )
    container.ready = True
    return container


@pytest.fixture(scope="session")
def sandbox(running: Running, say: Callable[[str], None]) -> Container:
    return _ready(running, "sandbox", say)


@pytest.fixture(scope="session")
def api(running: Running, say: Callable[[str], None]) -> Container:
    return _ready(running, "api", say)


@pytest.fixture(scope="session")
def streamlit(running: Running, say: Callable[[str], None]) -> Container:
    return _ready(running, "streamlit", say)


@pytest.fixture(scope="session")
def container_of(running: Running, say: Callable[[str], None]) -> Callable[[str], Container]:
    return lambda role: _ready(running, role, say)


@pytest.fixture(scope="session")
def host_tools() -> None:
    for tool in ("curl", "bash"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            pytest.fail(f"{tool} is needed on the host for lambdas-src/api/test/test_api.sh")

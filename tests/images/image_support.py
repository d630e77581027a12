"""Helpers of the image tests: read the synthesised local stack, build its images on the local
stand-in bases, run them on a private network, and look inside images for secrets.

Everything goes through the `docker` CLI (no SDK in the test venv). Only loopback is ever
contacted: builds use `--network host` to reach the locks' wheels on loopback and Debian's apt,
containers run on a throw-away bridge and publish their ports on 127.0.0.1 only.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import queue
import re
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
STACK = "local"

# Every container, network and volume a run makes carries these labels. Images get none: a
# `--label` is one more build step, and on vfs every step copies the whole image (~40 s for the
# sandbox); the tags the tests built are listed in BUILT_TAGS instead, to remove superseded ones.
RUN_LABEL = "week.image-test.run"
OWNER_LABEL = "week.image-test.owner-pid"
BUILT_TAGS = (
    Path(os.environ.get("IMAGE_TEST_STATE_DIR", "/var/cache/week-image-test")) / "built-tags"
)

# Containers, networks and volumes of a run are named <prefix>-<run id>-...; on a machine shared
# with other people's runs, give yours a prefix of your own.
NAME_PREFIX = os.environ.get("IMAGE_TEST_NAME_PREFIX", "week-it")

COURSE_REPO = "course-notebooks"  # the bare repository the sandbox clones
DEBIAN_STANDIN = "week-local/debian:bookworm"
PYTHON_STANDIN = "week-local/python:3.11-slim-bookworm"
# TP4: the course keeps the image Heroku runs under 500 MB, the whole image (base included), as
# `docker image inspect` counts it: uncompressed, so stricter than what the registry stores
HEROKU_IMAGE_LIMIT_BYTES = 500 * 10**6


def heroku_size_problem(tag: str, size_bytes: int, base: str, base_size_bytes: int) -> str | None:
    """Why an image is too big for TP4's Heroku limit, or None when it fits."""
    if size_bytes <= HEROKU_IMAGE_LIMIT_BYTES:
        return None
    return (
        f"{tag} is {size_bytes / 1e6:.0f} MB whole, over Heroku's "
        f"{HEROKU_IMAGE_LIMIT_BYTES / 1e6:.0f} MB (TP4), of which {base_size_bytes / 1e6:.0f} MB "
        f"are its base {base}"
    )


@dataclass(frozen=True)
class Role:
    """One image of the stack: how to recognise it and what stands in for its base here."""

    name: str
    repository: str  # image name without the tag, as the stack names it
    standin: str
    # Prefixes the Dockerfile's real default BASE_IMAGE may have for this stand-in to be fair.
    real_base_prefixes: tuple[str, ...]


ROLES: dict[str, Role] = {
    "sandbox": Role("sandbox", "week-sandbox", DEBIAN_STANDIN, ("ubuntu:", "debian:")),
    "api": Role("api", "week-api", PYTHON_STANDIN, ("python:3.11-",)),
    "streamlit": Role("streamlit", "week-streamlit", PYTHON_STANDIN, ("python:3.11-",)),
}


class ImageTestError(AssertionError):
    """A failure with a message meant for the test report."""


# --------------------------------------------------------------------------------- processes


def run(
    cmd: Sequence[str],
    *,
    timeout: float,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs a command, text in and out; on failure the error names the command and its output."""
    full_env = None if env is None else {**os.environ, **env}
    try:
        done = subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            input=input_text,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ImageTestError(f"`{short(cmd)}` did not finish within {timeout:g} s") from exc
    if check and done.returncode != 0:
        raise ImageTestError(
            f"`{short(cmd)}` exited {done.returncode}:\n{tail(done.stdout + done.stderr, 30)}"
        )
    return done


def classroom_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`npm run classroom -- ARGS` (the teacher's commands) from this checkout, with ENV added
    to the environment; the caller judges the exit status."""
    script = [str(ROOT / "scripts" / "ts-cache.js"), str(ROOT / "scripts" / "classroom.ts")]
    return subprocess.run(
        ["node", "-r", *script, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def docker(*args: str, timeout: float = 60, check: bool = True, **kw: Any) -> str:
    return run(["docker", *args], timeout=timeout, check=check, **kw).stdout.strip()


def short(cmd: Sequence[str], width: int = 160) -> str:
    text = " ".join(cmd)
    return text if len(text) <= width else text[: width - 3] + "..."


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def inspect(kind: str, name: str) -> dict[str, Any] | None:
    """`docker <kind> inspect NAME` as a dict, or None when it does not exist."""
    done = run(["docker", kind, "inspect", name], timeout=60, check=False)
    if done.returncode != 0:
        return None
    data = json.loads(done.stdout)
    return data[0] if data else None


# --------------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class ContainerSpec:
    resource: str
    name: str
    aliases: tuple[str, ...]
    env: tuple[str, ...]
    internal_port: int
    publish_ip: str
    memory_mib: int | None
    healthcheck_test: tuple[str, ...]
    volumes: tuple[tuple[str, str], ...]  # (volume reference, container path)


@dataclass(frozen=True)
class ImageSpec:
    role: Role
    resource: str
    tag: str  # e.g. week-api:5919ed195648
    context: Path
    dockerfile: Path
    build_args: Mapping[str, str]
    container: ContainerSpec | None


def load_stack(stack_dir: Path) -> dict[str, ImageSpec]:
    """The built images of the synthesised stack and the containers that run them, by role."""
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    resources = doc.get("resource", {})
    containers: dict[str, ContainerSpec] = {}
    for rid, c in resources.get("docker_container", {}).items():
        ref = re.fullmatch(r"\$\{docker_image\.([^.}]+)\.image_id\}", str(c.get("image", "")))
        if ref is None:
            continue
        ports = c.get("ports") or []
        if len(ports) != 1:
            raise ImageTestError(f"{rid}: expected one published port, got {ports!r}")
        containers[ref.group(1)] = ContainerSpec(
            resource=rid,
            name=c["name"],
            aliases=tuple(a for n in c.get("networks_advanced", []) for a in n.get("aliases", [])),
            env=tuple(c.get("env") or ()),
            internal_port=int(ports[0]["internal"]),
            publish_ip=str(ports[0].get("ip", "0.0.0.0")),
            memory_mib=c.get("memory"),
            healthcheck_test=tuple((c.get("healthcheck") or {}).get("test") or ()),
            volumes=tuple(
                (v["volume_name"], v["container_path"])
                for v in c.get("volumes") or ()
                if "volume_name" in v
            ),
        )
    by_repo = {r.repository: r for r in ROLES.values()}
    images: dict[str, ImageSpec] = {}
    for rid, img in resources.get("docker_image", {}).items():
        build = img.get("build")
        if not build:
            continue
        tag = img["name"]
        role = by_repo.get(tag.split(":", 1)[0])
        if role is None:
            raise ImageTestError(
                f"the stack builds {tag} ({rid}), which the image tests do not know: "
                f"add it to ROLES in {Path(__file__).name}"
            )
        context = (stack_dir / build["context"]).resolve()
        args = build.get("build_args") or build.get("build_arg") or {}
        images[role.name] = ImageSpec(
            role=role,
            resource=rid,
            tag=tag,
            context=context,
            dockerfile=context / build.get("dockerfile", "Dockerfile"),
            build_args=dict(args),
            container=containers.get(rid),
        )
    return images


def synth(outdir: Path) -> Path:
    """`npm run synth` into OUTDIR (not the shared cdktf.out); returns the local stack's folder."""
    run(
        ["npm", "run", "--silent", "synth"],
        timeout=600,
        env={"CDKTF_OUTDIR": str(outdir)},
        cwd=ROOT,
    )
    stack_dir = outdir / "stacks" / STACK
    if not (stack_dir / "cdk.tf.json").is_file():
        raise ImageTestError(f"npm run synth wrote no {stack_dir}/cdk.tf.json")
    return stack_dir


# --------------------------------------------------------------------------------- Dockerfiles


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def default_base_image(text: str) -> tuple[str | None, list[str]]:
    """The default of `ARG BASE_IMAGE` before the first FROM, and every FROM's image."""
    default: str | None = None
    froms: list[str] = []
    for word, rest in dockerfile_instructions(text):
        if word == "ARG" and not froms:
            name, eq, value = rest.partition("=")
            if name.strip() == "BASE_IMAGE":
                default = value.strip().strip('"') if eq else ""
        elif word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            froms.append(parts[0] if parts else "")
    return default, froms


def stage_names(text: str) -> set[str]:
    names = set()
    for word, rest in dockerfile_instructions(text):
        if word == "FROM":
            parts = rest.split()
            if len(parts) >= 3 and parts[-2].upper() == "AS":
                names.add(parts[-1].lower())
    return names


# --------------------------------------------------------------------------------- images


@dataclass
class BuiltImage:
    spec: ImageSpec
    base: str  # the stand-in it was built on
    image_id: str
    reused: bool
    build_seconds: float | None  # None when reused
    size_bytes: int
    base_size_bytes: int
    log_path: Path | None = None
    steps: int = 0  # Dockerfile steps the build ran, and how many came from the layer cache
    cached_steps: int = 0

    @property
    def above_base_mb(self) -> float:
        return (self.size_bytes - self.base_size_bytes) / 1e6

    @property
    def how(self) -> str:
        """'reused', '402 s cold', or '35 s, 12/19 cached'."""
        if self.build_seconds is None:
            return "reused"
        if self.cached_steps == 0:
            return f"{self.build_seconds:.0f} s cold"
        return f"{self.build_seconds:.0f} s, {self.cached_steps}/{self.steps} cached"


def layers(image: str) -> list[str]:
    data = inspect("image", image)
    return list(data["RootFS"]["Layers"]) if data else []


def built_on(image: str, base: str) -> bool:
    """Was IMAGE built FROM BASE (BASE's layers are the first of IMAGE's)?"""
    mine, theirs = layers(image), layers(base)
    return bool(mine) and bool(theirs) and mine[: len(theirs)] == theirs


def root_mode(image: str) -> str:
    """Octal mode of / in IMAGE."""
    out = docker(
        *("run", "--rm", "--network", "none", "--user", "0", "--entrypoint", "stat"),
        *(image, "-c", "%a", "/"),
        timeout=180,
    )
    return out.splitlines()[-1].strip()


def check_base(standin: str) -> None:
    """The stand-in exists and its / is 755, as in the real bases (scripts/setup/docker-bases.sh
    recipes before 3 left it 0700: a non-root USER could then run nothing in an image on it)."""
    if inspect("image", standin) is None:
        raise ImageTestError(
            f"stand-in base {standin} is missing: run scripts/setup/docker-bases.sh"
        )
    mode = root_mode(standin)
    if mode != "755":
        raise ImageTestError(
            f"stand-in base {standin} has / mode {mode}, not 755: no non-root USER can run in an "
            "image built on it; rebuild it with scripts/setup/docker-bases.sh (recipe 3 or later)"
        )


def index_build_args(pip_index_url: str) -> dict[str, str]:
    """The PIP_INDEX_URL build argument when a URL is given; none otherwise."""
    return {"PIP_INDEX_URL": pip_index_url} if pip_index_url else {}


class Builder:
    """Builds the stack's images (a few at a time, in threads) and reports progress through a
    queue the main thread drains, so that output never comes from two threads at once."""

    def __init__(self, pip_index_url: str, log_dir: Path, *, jobs: int, rebuild: bool, prune: bool):
        self.pip_index_url = pip_index_url
        self.log_dir = log_dir
        self.jobs = max(1, jobs)
        self.rebuild = rebuild
        self.prune = prune
        self.messages: queue.Queue[str] = queue.Queue()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self.started: dict[str, float] = {}
        self.logs: dict[str, Path] = {}

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            for p in self._procs:
                if p.poll() is None:
                    p.terminate()

    def build(self, spec: ImageSpec, base: str) -> BuiltImage:
        tag = spec.tag
        base_data = inspect("image", base)
        if base_data is None:
            raise ImageTestError(f"base {base} is missing")
        if not self.rebuild and inspect("image", tag) is not None and built_on(tag, base):
            self.messages.put(f"{tag}: already built on {base}, reused")
            return self._result(spec, base, base_data, reused=True, seconds=None, log=None)
        if self._cancelled.is_set():
            raise ImageTestError("cancelled")
        previous = inspect("image", tag)  # same tag, other base or --no-cache: replaced below
        args = {**spec.build_args, "BASE_IMAGE": base, **index_build_args(self.pip_index_url)}
        cmd = ["docker", "build", "--network", "host", "--rm", "--force-rm"]
        if self.rebuild:
            cmd.append("--no-cache")
        for k, v in args.items():
            cmd += ["--build-arg", f"{k}={v}"]
        cmd += [
            "-t",
            tag,
            "-f",
            str(spec.dockerfile),
            str(spec.context),
        ]
        log = self.log_dir / f"build-{spec.role.name}.log"
        self.logs[spec.role.name] = log
        self.messages.put(
            f"{tag}: build started (FROM {base}{', --no-cache' if self.rebuild else ''}; log {log})"
        )
        t0 = time.monotonic()
        self.started[spec.role.name] = t0
        # The legacy builder, as the Terraform docker provider uses; no BuildKit here (no buildx).
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "DOCKER_BUILDKIT": "0"},
            )
            with self._lock:
                self._procs.append(proc)
            try:
                rc = proc.wait(timeout=45 * 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise ImageTestError(
                    f"{tag}: build did not finish within 45 min; log {log}"
                ) from None
        seconds = time.monotonic() - t0
        del self.started[spec.role.name]
        if rc != 0:
            raise ImageTestError(
                f"{tag}: docker build failed (exit {rc}) after {seconds:.0f} s; "
                f"last lines of {log}:\n{tail(log.read_text(errors='replace'), 40)}"
            )
        self.messages.put(f"{tag}: built in {seconds:.0f} s")
        if self.prune:
            self._prune_superseded(spec)
            if previous is not None:  # now untagged; never forced (a container may use it)
                run(["docker", "rmi", previous["Id"]], timeout=300, check=False)
        return self._result(spec, base, base_data, reused=False, seconds=seconds, log=log)

    def current_step(self, role: str) -> str:
        log = self.logs.get(role)
        if log is None or not log.exists():
            return ""
        steps = re.findall(r"^Step (\d+/\d+) :", log.read_text(errors="replace"), re.M)
        return f"step {steps[-1]}" if steps else "starting"

    def _result(
        self,
        spec: ImageSpec,
        base: str,
        base_data: dict[str, Any],
        *,
        reused: bool,
        seconds: float | None,
        log: Path | None,
    ) -> BuiltImage:
        data = inspect("image", spec.tag)
        if data is None:
            raise ImageTestError(f"{spec.tag} is missing after its build")
        text = log.read_text(errors="replace") if log is not None else ""
        return BuiltImage(
            steps=len(re.findall(r"^Step \d+/\d+ :", text, re.M)),
            cached_steps=text.count("---> Using cache"),
            spec=spec,
            base=base,
            image_id=data["Id"],
            reused=reused,
            build_seconds=seconds,
            size_bytes=int(data["Size"]),
            base_size_bytes=int(base_data["Size"]),
            log_path=log,
        )

    def _prune_superseded(self, spec: ImageSpec) -> None:
        """Records SPEC's tag as built by the tests, and removes the images of this repository
        that earlier runs built under another tag (vfs keeps a full copy per layer). Never
        forced: an image a container uses stays (and stays listed)."""
        try:
            BUILT_TAGS.parent.mkdir(parents=True, exist_ok=True)
            with BUILT_TAGS.open("a+") as state:
                fcntl.flock(state, fcntl.LOCK_EX)
                state.seek(0)
                tags = {line.strip() for line in state if line.strip()}
                keep = {spec.tag}
                for ref in sorted(tags - keep):
                    if not ref.startswith(spec.role.repository + ":"):
                        keep.add(ref)
                    elif inspect("image", ref) is None:
                        continue
                    elif run(["docker", "rmi", ref], timeout=300, check=False).returncode == 0:
                        self.messages.put(f"removed superseded test image {ref}")
                    else:
                        keep.add(ref)
                state.seek(0)
                state.truncate()
                state.write("".join(f"{ref}\n" for ref in sorted(keep)))
        except OSError as exc:
            self.messages.put(f"not pruning superseded test images ({BUILT_TAGS}: {exc})")


# --------------------------------------------------------------------------------- containers


@dataclass
class Container:
    role: str
    name: str
    image: str
    host_port: int
    internal_port: int
    env: dict[str, str]
    started_at: float = field(default_factory=time.monotonic)
    ready: bool = False  # answered on its port once

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    def exec(
        self,
        *args: str,
        user: str | None = None,
        timeout: float = 120,
        check: bool = True,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`docker exec`; ENV is added to the container's own (values passed through the
        client's environment, not on its command line)."""
        cmd = ["docker", "exec"]
        if input_text is not None:
            cmd.append("-i")
        if user is not None:
            cmd += ["--user", user]
        for key in env or {}:
            cmd += ["-e", key]
        return run(
            [*cmd, self.name, *args], timeout=timeout, check=check, input_text=input_text, env=env
        )

    def python(self, script: str, *args: str, timeout: float = 120) -> Any:
        """Runs SCRIPT with the container's python (stdin), returns its last stdout line as JSON."""
        done = self.exec("python", "-", *args, input_text=script, timeout=timeout)
        lines = done.stdout.strip().splitlines()
        if not lines:
            raise ImageTestError(
                f"{self.name}: the script printed nothing; stderr:\n{tail(done.stderr, 20)}"
            )
        return json.loads(lines[-1])

    def state(self) -> dict[str, Any]:
        data = inspect("container", self.name)
        if data is None:
            raise ImageTestError(f"container {self.name} is gone")
        return dict(data["State"])

    def logs(self, lines: int = 40) -> str:
        done = run(["docker", "logs", "--tail", str(lines), self.name], timeout=60, check=False)
        return tail(done.stdout + done.stderr, lines)


def labels(run_id: str) -> list[str]:
    return ["--label", f"{RUN_LABEL}={run_id}", "--label", f"{OWNER_LABEL}={os.getpid()}"]


def start_container(
    *,
    role: str,
    image: str,
    name: str,
    network: str,
    aliases: Iterable[str],
    env: Mapping[str, str],
    internal_port: int,
    memory_mib: int | None,
    mounts: Iterable[str],
    run_id: str,
    before_start: Callable[[str], None] | None = None,
) -> Container:
    """`docker create` + `docker start`, the port published on a free loopback port;
    BEFORE_START gets the created container's name. Env values go through the client's
    environment (`-e NAME`), never on a command line."""
    cmd = ["docker", "create", "--name", name, "--network", network, *labels(run_id)]
    for alias in aliases:
        cmd += ["--network-alias", alias]
    if memory_mib:
        cmd += ["--memory", f"{memory_mib}m"]
    cmd += ["-p", f"127.0.0.1::{internal_port}"]
    for mount in mounts:
        cmd += ["--mount", mount]
    for key in env:
        cmd += ["-e", key]
    cmd.append(image)
    run(cmd, timeout=600, env=dict(env))
    if before_start is not None:
        before_start(name)
    docker("start", name, timeout=300)
    started_at = time.monotonic()
    published = docker("port", name, f"{internal_port}/tcp")
    match = re.search(r"127\.0\.0\.1:(\d+)", published)
    if match is None:
        raise ImageTestError(
            f"{name}: port {internal_port} is not published on 127.0.0.1: {published!r}"
        )
    return Container(
        role=role,
        name=name,
        image=image,
        host_port=int(match.group(1)),
        internal_port=internal_port,
        env=dict(env),
        started_at=started_at,
    )


def user_ids(container: str, user: str) -> tuple[int, int]:
    """uid and gid of USER (a name or a number, maybe with a group) in a created container,
    read from its /etc/passwd without running anything in it."""
    name = user.split(":", 1)[0]
    if name.isdigit():
        return int(name), int(name)
    raw = subprocess.run(
        ["docker", "cp", f"{container}:/etc/passwd", "-"],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        member = tar.extractfile("passwd")
        text = member.read().decode() if member is not None else ""
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > 3 and fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise ImageTestError(f"{container}: no user {name!r} in /etc/passwd")


class HealthWatch:
    """Polls a container's Docker health status from its start, in a thread, so that the time
    to healthy is measured whatever the order the tests run in."""

    def __init__(self, container: Container, timeout: float, interval: float = 1.0):
        self.container = container
        self.timeout = timeout
        self.interval = interval
        self.status = "starting"
        self.healthy_after: float | None = None
        self.last: dict[str, Any] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name=f"health {container.name}")
        self.thread.daemon = True
        self.thread.start()

    def _watch(self) -> None:
        deadline = self.container.started_at + self.timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            data = inspect("container", self.container.name)
            state = (data or {}).get("State") or {}
            self.last = state.get("Health") or {}
            status = self.last.get("Status")
            if not state.get("Running"):
                self.status = "stopped"
                return
            if status in ("healthy", "unhealthy"):
                self.status = status
                if status == "healthy":
                    self.healthy_after = time.monotonic() - self.container.started_at
                return
            self._stop.wait(self.interval)
        if not self._stop.is_set():
            self.status = "timeout"

    def result(self) -> str:
        self.thread.join(max(0.0, self.container.started_at + self.timeout + 30 - time.monotonic()))
        return self.status

    def stop(self) -> None:
        self._stop.set()


def remove_labelled(run_id: str | None = None, *, owner_dead: bool = False) -> list[str]:
    """Removes containers, then networks and volumes, of one run (or of runs whose owning
    process is gone). Returns what it removed."""
    removed: list[str] = []

    def wanted(label_value: Mapping[str, str]) -> bool:
        if run_id is not None:
            return label_value.get(RUN_LABEL) == run_id
        if owner_dead:
            pid = label_value.get(OWNER_LABEL, "")
            return pid.isdigit() and not Path(f"/proc/{pid}").exists()
        return False

    for kind, ls, fmt in (
        ("container", ["ps", "-a"], "{{.ID}}\t{{.Names}}\t{{.Labels}}"),
        ("network", ["network", "ls"], "{{.ID}}\t{{.Name}}\t{{.Labels}}"),
        ("volume", ["volume", "ls"], "{{.Name}}\t{{.Name}}\t{{.Labels}}"),
    ):
        out = docker(*ls, "--filter", f"label={RUN_LABEL}", "--format", fmt, check=False)
        for line in out.splitlines():
            ident, name, raw = [*line.split("\t"), "", ""][:3]
            lab = dict(kv.split("=", 1) for kv in raw.split(",") if "=" in kv)
            if not wanted(lab):
                continue
            rm = {
                "container": ["rm", "-f", "-v"],
                "network": ["network", "rm"],
                "volume": ["volume", "rm", "-f"],
            }[kind]
            if run(["docker", *rm, ident], timeout=120, check=False).returncode == 0:
                removed.append(f"{kind} {name}")
    return removed


def wait_until(
    what: str,
    probe: Callable[[], Any],
    *,
    timeout: float,
    interval: float = 1.0,
    on_timeout: Callable[[], str] = lambda: "",
) -> Any:
    """Calls PROBE until it returns a truthy value; raises after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except ImageTestError:
            raise
        except Exception as exc:  # retried until the deadline; the last is reported
            last = exc
        time.sleep(interval)
    extra = on_timeout()
    raise ImageTestError(
        f"{what}: not within {timeout:g} s"
        + (f" (last error: {last})" if last else "")
        + (f"\n{extra}" if extra else "")
    )


# --------------------------------------------------------------------------------- secrets


@dataclass
class LayerScan:
    hits: dict[str, list[str]]  # needle -> ["<layer>:<path>", ...]
    suspicious_files: list[str]
    layers: int
    bytes_scanned: int


SUSPICIOUS_NAMES = {".git-credentials", ".netrc", "database.env", ".pgpass"}


def scan_image_layers(image: str, needles: Mapping[str, str], *, timeout: float = 900) -> LayerScan:
    """Streams `docker save IMAGE` and searches every file of every layer tar for each needle
    (name -> value); also lists files whose names are credential stores."""
    encoded = {name: value.encode() for name, value in needles.items() if value}
    overlap = max((len(v) for v in encoded.values()), default=1)
    hits: dict[str, list[str]] = {name: [] for name in encoded}
    suspicious: list[str] = []
    nlayers = 0
    scanned = 0
    proc = subprocess.Popen(
        ["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as outer:
            for member in outer:
                f = outer.extractfile(member) if member.isfile() else None
                if f is None:
                    continue
                if member.name.endswith("layer.tar"):
                    nlayers += 1
                    layer = member.name.split("/")[0][:12]
                    with tarfile.open(fileobj=f, mode="r|") as inner:
                        for entry in inner:
                            if Path(entry.name).name in SUSPICIOUS_NAMES:
                                suspicious.append(f"{layer}:/{entry.name}")
                            ef = inner.extractfile(entry) if entry.isfile() else None
                            if ef is not None:
                                scanned += _scan_stream(
                                    ef, encoded, overlap, hits, f"{layer}:/{entry.name}"
                                )
                else:  # the image config and manifest: history and Env live there
                    scanned += _scan_stream(f, encoded, overlap, hits, member.name)
    finally:
        timer.cancel()
        proc.stdout.close() if proc.stdout else None
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if rc != 0:
        raise ImageTestError(f"docker save {image} failed (exit {rc}): {tail(err, 5)}")
    return LayerScan(
        hits={k: v for k, v in hits.items()},
        suspicious_files=suspicious,
        layers=nlayers,
        bytes_scanned=scanned,
    )


def _scan_stream(
    stream: IO[bytes],
    needles: Mapping[str, bytes],
    overlap: int,
    hits: dict[str, list[str]],
    where: str,
) -> int:
    carry = b""
    total = 0
    found: set[str] = set()
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        window = carry + chunk
        for name, needle in needles.items():
            if name not in found and needle in window:
                found.add(name)
                hits[name].append(where)
        carry = window[-overlap:]
    return total

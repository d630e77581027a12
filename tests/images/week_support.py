"""The whole local week as the synthesised stack describes it: its four `docker_container`
resources read from `cdk.tf.json`, their Terraform expressions resolved by real Terraform (no
provider needed: locals, variables, functions), and the containers made through the Docker
Engine API with the same fields the Docker provider sends (image, env, hostname, healthcheck in
exec form, memory, restart policy, log options, network aliases, volumes, uploaded files).

What the tests swap, and only that: image references (the stand-in PostgreSQL, the images the
image tests built from the synthesised contexts), the names of containers, network and volumes
(prefixed by the run, so that runs and the real week never meet), and host ports (a free
loopback port instead of 5432/8000/8080/8501, on the host IP the stack gives).
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import secrets
import shutil
import socket
import string
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from image_support import OWNER_LABEL, RUN_LABEL, ImageTestError, run, tail
from tf_expressions import Evaluator

POSTGRES_STANDIN = "week-local/postgres-standin:15-bookworm"
POSTGRES_STANDIN_NEXT = "week-local/postgres-standin:15-bookworm-next"

# resource attributes the stack's expressions refer to, and that the run gives values to
REF = re.compile(
    r"\b(random_password|docker_container|docker_volume|docker_network|docker_image)"
    r"\.([A-Za-z0-9_-]+)\.([a-z_]+)\b"
)
DURATION = re.compile(r"^(\d+)(ms|s|m|h)$")


def nanoseconds(duration: str) -> int:
    m = DURATION.match(duration)
    if m is None:
        raise ImageTestError(f"healthcheck duration {duration!r} is not understood")
    unit = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}[m.group(2)]
    return int(m.group(1)) * unit


# --------------------------------------------------------------------------------- the stack


@dataclass
class WeekContainer:
    resource: str  # docker_container.<id>
    alias: str
    raw: dict[str, Any]  # the resource as synthesised (unresolved)
    image_resource: str  # docker_image.<id>
    image_name: str  # the stack's image name (postgres:17.6-bookworm, week-api:<tag>)
    built: bool  # the stack builds it
    depends_on: list[str]  # aliases
    env: list[str] = field(default_factory=list)  # resolved by Terraform

    @property
    def volumes(self) -> list[tuple[str, str]]:
        """(docker_volume id, container path)."""
        out = []
        for v in self.raw.get("volumes") or []:
            m = REF.fullmatch(str(v.get("volume_name", "")).strip("${}"))
            if m is None or m.group(1) != "docker_volume":
                raise ImageTestError(f"{self.resource}: volume {v} is not a docker_volume")
            out.append((m.group(2), v["container_path"]))
        return out


@dataclass
class WeekStack:
    doc: dict[str, Any]
    containers: dict[str, WeekContainer]  # by alias, in start order (dependencies first)
    volumes: dict[str, str]  # docker_volume id -> the stack's volume name

    def output(self, name: str) -> Any:
        return self.doc["output"][name]["value"]


def load_containers(doc: dict[str, Any]) -> dict[str, WeekContainer]:
    """Every docker_container of a synthesised document by resource id, dependencies first;
    `depends_on` holds resource ids (a class has one `sandbox` alias per student)."""
    res = doc.get("resource", {})
    images = res.get("docker_image", {})
    by_id: dict[str, WeekContainer] = {}
    for rid, c in res.get("docker_container", {}).items():
        m = re.fullmatch(r"\$\{docker_image\.([^.}]+)\.image_id\}", str(c.get("image", "")))
        if m is None:
            raise ImageTestError(
                f"docker_container.{rid}: image {c.get('image')!r} is no docker_image"
            )
        img = images[m.group(1)]
        aliases = [a for n in c.get("networks_advanced", []) for a in n.get("aliases", [])]
        by_id[rid] = WeekContainer(
            resource=f"docker_container.{rid}",
            alias=aliases[0] if aliases else "",
            raw=c,
            image_resource=m.group(1),
            image_name=img["name"],
            built="build" in img,
            depends_on=[
                d.removeprefix("docker_container.")
                for d in c.get("depends_on") or []
                if d.removeprefix("docker_container.") in res.get("docker_container", {})
            ],
        )
    ordered: dict[str, WeekContainer] = {}
    pending = dict(by_id)
    while pending:
        ready = [r for r, wc in pending.items() if all(d in ordered for d in wc.depends_on)]
        if not ready:
            raise ImageTestError(f"the containers' depends_on form a cycle: {sorted(pending)}")
        for r in ready:
            ordered[r] = pending.pop(r)
    return ordered


def load_week(stack_dir: Path) -> WeekStack:
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    by_id = load_containers(doc)
    containers: dict[str, WeekContainer] = {}
    for wc in by_id.values():
        wc.depends_on = [by_id[d].alias for d in wc.depends_on]
        containers[wc.alias] = wc
    volumes = {
        vid: v["name"] for vid, v in doc.get("resource", {}).get("docker_volume", {}).items()
    }
    return WeekStack(doc=doc, containers=containers, volumes=volumes)


# --------------------------------------------------------------------------------- Terraform


def terraform_path() -> str | None:
    return shutil.which("terraform")


def random_password(length: int) -> str:
    """What random_password gives with special = false: letters and digits."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def stack_refs(week: WeekStack, names: dict[str, str]) -> dict[str, str]:
    """The values this run gives to the resource attributes the stack's expressions use: NAMES
    (containers, volumes, network, images), and each random_password's result, drawn as the
    provider draws it."""
    refs = dict(names)
    for rid, spec in week.doc.get("resource", {}).get("random_password", {}).items():
        refs[f"random_password.{rid}.result"] = random_password(int(spec.get("length", 32)))
    return refs


def _eval_folder(workdir: Path, database_env: str) -> Path:
    """cdktf.out/stacks/local under a fresh root, database.env three folders up: where
    path.module finds it, as for the stack."""
    root = workdir / "terraform-eval"
    stack_dir = root / "cdktf.out" / "stacks" / "local"
    stack_dir.mkdir(parents=True, exist_ok=True)
    env_file = root / "database.env"
    env_file.write_text(database_env)
    env_file.chmod(0o600)
    return stack_dir


def resolve_with_terraform(
    week: WeekStack,
    workdir: Path,
    *,
    refs: dict[str, str],
    database_env: str,
    variables: dict[str, str],
    expressions: dict[str, Any],
) -> dict[str, Any]:
    """Evaluates EXPRESSIONS (JSON values holding Terraform templates) with the stack's locals and
    variables by `terraform apply` of a configuration without providers; resource attributes
    (REFS) become locals."""
    stack_dir = _eval_folder(workdir, database_env)
    synthetic: dict[str, str] = {}

    def local_for(m: re.Match[str]) -> str:
        key = m.group(0)
        if key not in refs:
            raise ImageTestError(f"no value for {key}, which the stack's expressions use")
        lname = "week_eval_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
        synthetic[lname] = refs[key]
        return f"local.{lname}"

    body = {
        "locals": week.doc.get("locals", {}),
        "output": {k: {"value": v, "sensitive": True} for k, v in expressions.items()},
    }
    if week.doc.get("variable"):  # an empty block is not valid Terraform JSON
        body["variable"] = week.doc["variable"]
    config = json.loads(REF.sub(local_for, json.dumps(body)))
    config["locals"].update(synthetic)
    (stack_dir / "main.tf.json").write_text(json.dumps(config, indent=1))
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}
    tf = terraform_path() or "terraform"
    run([tf, "init", "-input=false", "-no-color"], timeout=120, env=env, cwd=stack_dir)
    var_args = [a for k, v in variables.items() for a in ("-var", f"{k}={v}")]
    run(
        [tf, "apply", "-auto-approve", "-input=false", "-no-color", *var_args],
        timeout=180,
        env=env,
        cwd=stack_dir,
    )
    out = json.loads(run([tf, "output", "-json"], timeout=60, env=env, cwd=stack_dir).stdout)
    return {k: v["value"] for k, v in out.items()}


def resolve_in_python(
    week: WeekStack,
    workdir: Path,
    *,
    refs: dict[str, str],
    database_env: str,
    variables: dict[str, str],
    expressions: dict[str, Any],
) -> dict[str, Any]:
    """The same as resolve_with_terraform, by tf_expressions.Evaluator (no Terraform needed)."""
    stack_dir = _eval_folder(workdir, database_env)
    given = {
        name: variables.get(name, spec.get("default"))
        for name, spec in week.doc.get("variable", {}).items()
    }
    evaluator = Evaluator(week.doc.get("locals", {}), given, stack_dir, refs)
    return {k: evaluator.value(v) for k, v in expressions.items()}


# --------------------------------------------------------------------------------- the engine


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def engine(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 120,
    ok: tuple[int, ...] = (200, 201, 204, 304),
) -> Any:
    """One call to the Docker Engine API on its local socket (as the Docker provider makes)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        raise ImageTestError(f"DOCKER_HOST must be a unix socket for the week tests, got {host!r}")
    conn = _UnixConnection(host.removeprefix("unix://"), timeout)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    try:
        conn.request(method, path, body=data, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        payload = resp.read()
    finally:
        conn.close()
    if resp.status not in ok:
        # the body may echo the request: never the request itself, only the engine's message
        message = payload.decode(errors="replace")[:500]
        raise ImageTestError(
            f"docker engine {method} {path.split('?')[0]}: {resp.status} {message}"
        )
    return json.loads(payload) if payload.strip() else None


def create_container(
    wc: WeekContainer,
    *,
    name: str,
    image: str,
    network: str,
    volumes: dict[str, str],  # docker_volume id -> this run's volume
    run_id: str,
) -> None:
    """The container as the Docker provider creates it from WC's resource (env already resolved),
    ports published on free ports of the same host IP; files uploaded before the start."""
    c = wc.raw
    h = c.get("healthcheck") or {}
    ports = c.get("ports") or []
    body: dict[str, Any] = {
        "Image": image,
        "Hostname": c.get("hostname"),
        "Env": wc.env,
        "Labels": {
            **{str(lb["label"]): str(lb["value"]) for lb in c.get("labels") or []},
            RUN_LABEL: run_id,
            OWNER_LABEL: str(os.getpid()),
        },
        "ExposedPorts": {f"{p['internal']}/{p.get('protocol', 'tcp')}": {} for p in ports},
        "Healthcheck": {
            "Test": h["test"],
            "Interval": nanoseconds(h.get("interval", "0s")),
            "Timeout": nanoseconds(h.get("timeout", "0s")),
            "Retries": int(h.get("retries", 0)),
            "StartPeriod": nanoseconds(h.get("start_period", "0s")),
        },
        "HostConfig": {
            "Memory": int(c["memory"]) * 1024 * 1024,
            "RestartPolicy": {"Name": c.get("restart", "no")},
            "LogConfig": {
                "Type": c.get("log_driver", "json-file"),
                "Config": c.get("log_opts", {}),
            },
            "PortBindings": {
                f"{p['internal']}/{p.get('protocol', 'tcp')}": [
                    {"HostIp": p.get("ip", "0.0.0.0"), "HostPort": ""}
                ]
                for p in ports
            },
            "Mounts": [
                {"Type": "volume", "Source": volumes[vid], "Target": target}
                for vid, target in wc.volumes
            ],
            "NetworkMode": network,
        },
        "NetworkingConfig": {
            "EndpointsConfig": {network: {"Aliases": [wc.alias] if wc.alias else []}}
        },
    }
    if c.get("command"):
        body["Cmd"] = list(c["command"])
    if c.get("cpus"):
        body["HostConfig"]["NanoCpus"] = int(float(c["cpus"]) * 1e9)
    engine("POST", f"/containers/create?name={quote(name)}", body, timeout=300)
    uploads = c.get("upload") or []
    if uploads:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for u in uploads:
                data = str(u["content"]).encode()
                info = tarfile.TarInfo(str(u["file"]).lstrip("/"))
                info.size = len(data)
                info.mode = 0o755 if u.get("executable") else 0o644
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        engine(
            "PUT",
            f"/containers/{quote(name)}/archive?path=/",
            raw=buf.getvalue(),
            content_type="application/x-tar",
        )


def start_container(name: str) -> None:
    engine("POST", f"/containers/{quote(name)}/start", timeout=300)


def container_state(name: str) -> dict[str, Any]:
    data = engine("GET", f"/containers/{quote(name)}/json", ok=(200,))
    return dict(data["State"])


def host_port(name: str, internal: int) -> int:
    data = engine("GET", f"/containers/{quote(name)}/json", ok=(200,))
    bindings = data["NetworkSettings"]["Ports"].get(f"{internal}/tcp") or []
    for b in bindings:
        if b.get("HostIp") == "127.0.0.1":
            return int(b["HostPort"])
    raise ImageTestError(f"{name}: port {internal} not published on 127.0.0.1: {bindings}")


def wait_healthy(name: str, timeout: float) -> float:
    """Seconds until Docker says healthy; raises with the last probe's output otherwise."""
    t0 = time.monotonic()
    last: dict[str, Any] = {}
    while time.monotonic() - t0 < timeout:
        state = container_state(name)
        last = state.get("Health") or {}
        if not state.get("Running"):
            done = run(["docker", "logs", "--tail", "30", name], timeout=60, check=False)
            logs = tail(done.stdout + done.stderr, 30)
            raise ImageTestError(f"{name} stopped (exit {state.get('ExitCode')}):\n{logs}")
        if last.get("Status") == "healthy":
            return time.monotonic() - t0
        time.sleep(1)
    probes = "; ".join(str(p.get("Output", "")).strip()[:200] for p in last.get("Log", [])[-2:])
    raise ImageTestError(f"{name}: not healthy within {timeout:g} s (last probes: {probes})")


def remove_container(name: str) -> None:
    engine("DELETE", f"/containers/{quote(name)}?force=true", ok=(200, 204, 404), timeout=120)

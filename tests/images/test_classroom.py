"""The classroom stack for a roster of three, started as its synthesised JSON describes it (the
week test's machinery: real Terraform resolves the expressions, the Engine API creates the
containers with the provider's fields) with the stand-in images, and used as a class uses it:
each student's Jupyter answers through the TLS proxy with their token (kernels' websockets
too); a wrong token and another student's token are refused; a student's database and
workspace are out of reach of another student's containers; removing a student from the roster
and re-running removes only theirs (volumes kept); killing one student's containers leaves the
others healthy; teardown leaves nothing of the course.

What the run swaps, and only that: image references (the sandbox built by the image tests, the
PostgreSQL and nginx stand-ins) and the proxy's host port (a free loopback port). Names are the
stack's own: the course is unique to the run (`it-<hex>`), so the proxy's routes, which name
containers, are tested as synthesised.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from image_support import (
    DEBIAN_STANDIN,
    ROOT,
    ImageTestError,
    docker,
    inspect,
    labels,
    run,
)
from week_support import (
    POSTGRES_STANDIN,
    WeekContainer,
    WeekStack,
    create_container,
    host_port,
    load_containers,
    remove_container,
    resolve_with_terraform,
    stack_refs,
    start_container,
    terraform_path,
    wait_healthy,
)

if TYPE_CHECKING:
    from conftest import Builds

NGINX_STANDIN = "week-local/nginx-standin:1.22-bookworm"
HEALTHY_TIMEOUT_S = 240
STUDENTS = ("ana", "ben", "cleo")


def build_nginx_standin(say: Callable[[str], None]) -> None:
    if inspect("image", NGINX_STANDIN) is not None:
        return
    if inspect("image", DEBIAN_STANDIN) is None:
        raise ImageTestError(f"{DEBIAN_STANDIN} is missing: run scripts/docker-bases.sh")
    say(f"building {NGINX_STANDIN} (Debian's nginx, scripts/nginx-standin) ...")
    run(
        ["docker", "build", "--network", "host", "-t", NGINX_STANDIN, "scripts/nginx-standin"],
        timeout=600,
        cwd=ROOT,
    )


def write_roster(path: Path, ids: tuple[str, ...]) -> None:
    lines = ["id,name,email", *(f"{i},Student {i.title()},{i}@example.com" for i in ids)]
    path.write_text("\n".join(lines) + "\n")


def synth_class(workdir: Path, config: Path, out: Path) -> dict[str, Any]:
    run(
        ["npm", "run", "--silent", "synth"],
        timeout=600,
        env={"CDKTF_OUTDIR": str(out), "WEEK_CONFIG": str(config)},
        cwd=ROOT,
    )
    doc: dict[str, Any] = json.loads((out / "stacks" / "classroom" / "cdk.tf.json").read_text())
    return doc


@dataclass
class Klass:
    course: str
    doc: dict[str, Any]
    containers: dict[str, WeekContainer]  # by resource id, dependencies first
    images: dict[str, str]  # docker_image id -> image this run uses
    state: Path  # ROOT/state/classroom/<course>
    run_id: str
    workdir: Path
    config: Path
    roster: Path
    say: Callable[[str], None]
    proxy_port: int = 0

    def name(self, student: str, service: str) -> str:
        return f"{self.course}-{student}-{service}"

    def token(self, student: str) -> str:
        return (self.state / student / "jupyter_token").read_text().strip()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.proxy_port}{path}"

    def tls(self) -> ssl.SSLContext:
        """Trusts the proxy's self-signed certificate only (and checks its name)."""
        context = ssl.create_default_context(cafile=str(self.state / "tls" / "cert.pem"))
        return context


def resolve(k: Klass, doc: dict[str, Any], containers: dict[str, WeekContainer]) -> None:
    """Resolves every container's env and uploads with real Terraform; the class's secret
    files are where path.module finds them (three folders up from the stack)."""
    refs = {f"{wc.resource}.name": wc.raw["name"] for wc in containers.values()}
    res = doc["resource"]
    refs |= {f"docker_volume.{vid}.name": v["name"] for vid, v in res["docker_volume"].items()}
    refs |= {f"docker_network.{nid}.name": n["name"] for nid, n in res["docker_network"].items()}
    refs |= {f"docker_image.{iid}.image_id": k.images[iid] for iid in res["docker_image"]}
    week = WeekStack(doc=doc, containers={}, volumes={})
    eval_root = k.workdir / "terraform-eval"
    target = eval_root / "state" / "classroom" / k.course
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(k.state, target)
    expressions = {f"env_{rid}": wc.raw.get("env") or [] for rid, wc in containers.items()}
    expressions |= {f"upload_{rid}": wc.raw.get("upload") or [] for rid, wc in containers.items()}
    resolved = resolve_with_terraform(
        week,
        k.workdir,
        refs=stack_refs(week, refs),
        database_env="",
        variables={},
        expressions=expressions,
    )
    for rid, wc in containers.items():
        wc.env = [str(e) for e in resolved[f"env_{rid}"]]
        wc.raw = {**wc.raw, "upload": resolved[f"upload_{rid}"]}


def network_of(wc: WeekContainer) -> list[str]:
    """The stack's network names of a container (resolved from the network resources)."""
    return [str(n["name"]) for n in wc.raw.get("networks_advanced", [])]


def launch(k: Klass, wc: WeekContainer, networks: dict[str, str]) -> None:
    """Creates and starts one container as the provider does; the proxy joins every network."""
    nets = [networks[n] for n in network_of(wc)]
    volumes = {vid: v["name"] for vid, v in k.doc["resource"].get("docker_volume", {}).items()}
    image = k.images[wc.image_resource]
    create_container(
        wc, name=wc.raw["name"], image=image, network=nets[0], volumes=volumes, run_id=k.run_id
    )
    for other in nets[1:]:
        docker("network", "connect", other, wc.raw["name"])
    start_container(wc.raw["name"])


def network_names(doc: dict[str, Any]) -> dict[str, str]:
    """`${docker_network.<id>.name}` -> the network's name."""
    return {
        f"${{docker_network.{nid}.name}}": n["name"]
        for nid, n in doc["resource"]["docker_network"].items()
    }


def create_networks_and_volumes(
    k: Klass, doc: dict[str, Any], only: set[str] | None = None
) -> None:
    for kind in ("docker_network", "docker_volume"):
        for rid, r in doc["resource"].get(kind, {}).items():
            if only is not None and rid not in only:
                continue
            lbl = [
                a for lb in r.get("labels", []) for a in ("--label", f"{lb['label']}={lb['value']}")
            ]
            if kind == "docker_network":
                docker(
                    "network", "create", "--driver", "bridge", *lbl, *labels(k.run_id), r["name"]
                )
            else:
                docker("volume", "create", *lbl, *labels(k.run_id), r["name"])


def course_objects(course: str) -> dict[str, list[str]]:
    """Containers, networks and volumes labelled with the course."""
    flt = ["--filter", f"label=course={course}"]
    found = {
        "containers": docker("ps", "-a", *flt, "--format", "{{.Names}}"),
        "networks": docker("network", "ls", *flt, "--format", "{{.Name}}"),
        "volumes": docker("volume", "ls", *flt, "--format", "{{.Name}}"),
    }
    return {kind: sorted(n for n in text.splitlines() if n.strip()) for kind, text in found.items()}


def teardown(course: str) -> None:
    objs = course_objects(course)
    for c in objs["containers"]:
        remove_container(c)
    for n in objs["networks"]:
        run(["docker", "network", "rm", n], timeout=120, check=False)
    for v in objs["volumes"]:
        run(["docker", "volume", "rm", "-f", v], timeout=120, check=False)


@pytest.fixture(scope="module")
def klass(
    builds: Builds, run_id: str, workdir: Path, say: Callable[[str], None]
) -> Iterator[Klass]:
    if terraform_path() is None:
        pytest.skip("no terraform on the PATH: the classroom stack's expressions need it")
    if inspect("image", POSTGRES_STANDIN) is None:
        raise ImageTestError(f"{POSTGRES_STANDIN} is missing: run scripts/docker-bases.sh")
    build_nginx_standin(say)
    course = f"it-{secrets.token_hex(4)}"
    here = workdir / "classroom"
    here.mkdir(exist_ok=True)
    roster = here / "roster.csv"
    write_roster(roster, STUDENTS)
    config = here / "week.config.json"
    config.write_text(json.dumps({"classroom": {"roster": str(roster), "course": course}}))
    state = ROOT / "state" / "classroom" / course
    try:
        t0 = time.monotonic()
        doc = synth_class(workdir, config, here / "cdktf.out")
        say(f"classroom synth ({len(STUDENTS)} students) in {time.monotonic() - t0:.0f} s")
        containers = load_containers(doc)
        sandbox = builds.get("sandbox")
        images: dict[str, str] = {}
        for iid, img in doc["resource"]["docker_image"].items():
            if "build" in img:
                assert img["name"] == sandbox.spec.tag, (img["name"], sandbox.spec.tag)
                images[iid] = sandbox.spec.tag
            elif img["name"].startswith("postgres:"):
                images[iid] = POSTGRES_STANDIN
            elif img["name"].startswith("nginx:"):
                images[iid] = NGINX_STANDIN
            else:
                raise ImageTestError(
                    f"the classroom stack uses {img['name']}, which has no stand-in"
                )
        k = Klass(course, doc, containers, images, state, run_id, workdir, config, roster, say)
        resolve(k, doc, containers)
        create_networks_and_volumes(k, doc)
        networks = network_names(doc)
        t0 = time.monotonic()
        # as Terraform does: everything at once, a container after those it depends on are healthy
        started: set[str] = set()
        for wc in containers.values():
            for dep in wc.depends_on:
                if dep not in started:
                    wait_healthy(containers[dep].raw["name"], HEALTHY_TIMEOUT_S)
                    started.add(dep)
            launch(k, wc, networks)
        for wc in containers.values():
            wait_healthy(wc.raw["name"], HEALTHY_TIMEOUT_S)
        took = time.monotonic() - t0
        say(f"class of {len(STUDENTS)} healthy behind the proxy {took:.0f} s after the first start")
        names = [wc.raw["name"] for wc in containers.values()]
        usage = docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *names)
        say("memory just after start: " + "; ".join(usage.strip().splitlines()))
        k.proxy_port = host_port(f"{course}-proxy", 8443)
        yield k
    finally:
        teardown(course)
        left = course_objects(course)
        shutil.rmtree(state, ignore_errors=True)
        if any(left.values()):
            raise ImageTestError(f"teardown left {left}")


@pytest.fixture(scope="module")
def client(klass: Klass) -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=30, verify=klass.tls()) as c:
        yield c


def status(k: Klass, student: str, token: str | None) -> int:
    """A request of its own, without the cookies of earlier answers (a browser with no session)."""
    headers = {} if token is None else {"Authorization": f"token {token}"}
    with httpx.Client(trust_env=False, timeout=30, verify=k.tls()) as fresh:
        return fresh.get(k.url(f"/{student}/api/contents"), headers=headers).status_code


# --------------------------------------------------------------------------------- the tests


def test_each_student_reaches_their_jupyter_through_the_proxy_over_tls_with_their_token(
    klass: Klass, client: httpx.Client
) -> None:
    for student in STUDENTS:
        response = client.get(
            klass.url(f"/{student}/api/status"),
            headers={"Authorization": f"token {klass.token(student)}"},
        )
        assert response.status_code == 200, (student, response.text[:200])
        assert "last_activity" in response.json()
    # only TLS: the port speaks no plain HTTP
    plain = httpx.get(f"http://127.0.0.1:{klass.proxy_port}/ana/api/status", trust_env=False)
    assert plain.status_code == 400


def test_the_proxy_certificate_is_checked_by_name(klass: Klass) -> None:
    address = ("127.0.0.1", klass.proxy_port)
    with (
        socket.create_connection(address, timeout=10) as raw,
        klass.tls().wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with (
        socket.create_connection(address, timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        klass.tls().wrap_socket(raw, server_hostname="elsewhere.example.org")


def test_a_wrong_token_and_another_students_token_are_refused(
    klass: Klass, client: httpx.Client
) -> None:
    assert status(klass, "ana", klass.token("ana")) == 200
    assert status(klass, "ana", None) == 403
    assert status(klass, "ana", "not-" + klass.token("ana")) == 403
    assert status(klass, "ana", klass.token("ben")) == 403
    assert status(klass, "ben", klass.token("ana")) == 403
    assert client.get(klass.url("/")).status_code == 404
    assert client.get(klass.url("/nobody/api/status")).status_code == 404


def test_kernels_websockets_pass_the_proxy(klass: Klass, client: httpx.Client) -> None:
    token = klass.token("ben")
    auth = {"Authorization": f"token {token}"}
    kernel = client.post(klass.url("/ben/api/kernels"), headers=auth, json={})
    assert kernel.status_code == 201, kernel.text[:200]
    kid = kernel.json()["id"]
    try:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        request = (
            f"GET /ben/api/kernels/{kid}/channels HTTP/1.1\r\n"
            f"Host: localhost:{klass.proxy_port}\r\n"
            f"Origin: https://localhost:{klass.proxy_port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: token {token}\r\n\r\n"
        )
        with (
            socket.create_connection(("127.0.0.1", klass.proxy_port), timeout=20) as raw,
            klass.tls().wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(request.encode())
            head = tls.recv(4096).decode(errors="replace")
        assert head.startswith("HTTP/1.1 101"), head[:300]
    finally:
        client.delete(klass.url(f"/ben/api/kernels/{kid}"), headers=auth)


def reach(k: Klass, source: str, host: str, port: int) -> bool:
    """Whether a TCP connection from SOURCE's container to HOST:PORT succeeds (3 s)."""
    script = (
        "import socket,sys\n"
        "try:\n"
        f"    socket.create_connection(({host!r}, {port}), timeout=3).close(); print('open')\n"
        "except OSError as e:\n"
        "    print('closed', e)\n"
    )
    out = docker("exec", source, "python", "-c", script, timeout=30)
    return out.strip().startswith("open")


def ip_of(container: str) -> str:
    data = inspect("container", container)
    assert data is not None
    return str(next(iter(data["NetworkSettings"]["Networks"].values()))["IPAddress"])


def test_a_students_database_and_workspace_are_out_of_reach_of_another_student(
    klass: Klass,
) -> None:
    ana_db, ana_nb = klass.name("ana", "database"), klass.name("ana", "sandbox")
    ben_nb = klass.name("ben", "sandbox")
    # their own: by the service's name on their network
    assert reach(klass, ben_nb, "database", 5432)
    assert reach(klass, ana_nb, "database", 5432)
    # another's: neither by name nor by address
    assert not reach(klass, ben_nb, ana_db, 5432)
    assert not reach(klass, ben_nb, ip_of(ana_db), 5432)
    assert not reach(klass, ben_nb, ip_of(ana_nb), 8000)
    # workspaces: each sandbox mounts its own volume only
    docker("exec", ana_nb, "sh", "-c", "echo ana-only > $WORKSPACE/secret-notes.txt")
    listing = docker("exec", ben_nb, "sh", "-c", "ls -A $WORKSPACE")
    assert "secret-notes.txt" not in listing
    mounts = {
        m["Name"] for m in (inspect("container", ben_nb) or {}).get("Mounts", []) if m.get("Name")
    }
    assert mounts == {f"{klass.course}-ben-workspace-data"}


def test_removing_a_student_and_re_running_removes_only_theirs(
    klass: Klass, client: httpx.Client
) -> None:
    before_doc = klass.doc
    ids_before = {
        n: (inspect("container", n) or {}).get("Id")
        for n in (wc.raw["name"] for wc in klass.containers.values())
    }
    write_roster(klass.roster, ("ana", "ben"))
    after_doc = synth_class(klass.workdir, klass.config, klass.workdir / "classroom" / "cdktf.out")
    # what Terraform would do: destroy what left the configuration, replace what changed
    gone: dict[str, list[str]] = {}
    changed: list[str] = []
    for kind in ("docker_container", "docker_network", "docker_volume"):
        b, a = before_doc["resource"].get(kind, {}), after_doc["resource"].get(kind, {})
        gone[kind] = sorted(b[r]["name"] for r in b if r not in a)
        changed += [
            r
            for r in b
            if r in a and json.dumps(b[r], sort_keys=True) != json.dumps(a[r], sort_keys=True)
        ]
    assert gone["docker_container"] == [klass.name("cleo", s) for s in ("database", "sandbox")]
    assert gone["docker_network"] == [f"{klass.course}-cleo"]
    assert gone["docker_volume"] == []  # protectVolume: cleo's volumes stay
    assert changed == [
        r for r in after_doc["resource"]["docker_container"] if r.startswith("proxy_")
    ]
    for name in gone["docker_container"]:
        remove_container(name)
    proxy = next(
        wc for wc in load_containers(after_doc).values() if wc.raw["name"].endswith("-proxy")
    )
    resolve(klass, after_doc, {proxy.resource.split(".", 1)[1]: proxy})
    remove_container(proxy.raw["name"])  # replaced: its routes changed
    for name in gone["docker_network"]:
        docker("network", "rm", name)
    klass.doc = after_doc
    launch(klass, proxy, network_names(after_doc))
    wait_healthy(proxy.raw["name"], HEALTHY_TIMEOUT_S)
    klass.proxy_port = host_port(proxy.raw["name"], 8443)
    left = course_objects(klass.course)
    assert not any("cleo" in c for c in left["containers"])
    assert f"{klass.course}-cleo" not in left["networks"]
    assert {f"{klass.course}-cleo-database-data", f"{klass.course}-cleo-workspace-data"} <= set(
        left["volumes"]
    )
    for student in ("ana", "ben"):
        for service in ("database", "sandbox"):
            name = klass.name(student, service)
            assert (inspect("container", name) or {}).get("Id") == ids_before[name], name
        assert status(klass, student, klass.token(student)) == 200
    assert client.get(klass.url("/cleo/api/status")).status_code == 404


def test_killing_one_students_containers_leaves_the_others_healthy(
    klass: Klass, client: httpx.Client
) -> None:
    for service in ("sandbox", "database"):
        docker("kill", klass.name("ana", service))
    assert client.get(klass.url("/ana/api/status")).status_code in (502, 504)
    time.sleep(16)  # more than a healthcheck interval of the others
    for name in (
        klass.name("ben", "sandbox"),
        klass.name("ben", "database"),
        f"{klass.course}-proxy",
    ):
        state = (inspect("container", name) or {})["State"]
        assert state["Running"] and state["Health"]["Status"] == "healthy", name
    assert status(klass, "ben", klass.token("ben")) == 200


def test_every_container_volume_and_network_carries_the_course_and_student_labels(
    klass: Klass,
) -> None:
    for c in course_objects(klass.course)["containers"]:
        data = inspect("container", c) or {}
        got = data["Config"]["Labels"]
        assert got["course"] == klass.course
        assert c.endswith("-proxy") or c.startswith(f"{klass.course}-{got['student']}-")
        assert data["HostConfig"]["Memory"] > 0 and data["HostConfig"]["NanoCpus"] > 0
        if not c.endswith("-proxy"):
            assert data["HostConfig"]["PortBindings"] in ({}, None), c
    for kind in ("network", "volume"):
        for name in course_objects(klass.course)[f"{kind}s"]:
            got = (inspect(kind, name) or {})["Labels"]
            assert got["course"] == klass.course and name.startswith(
                f"{klass.course}-{got['student']}"
            )

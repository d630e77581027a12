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
import csv
import io
import json
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from classroom_support import (
    HEALTHY_TIMEOUT_S,
    Klass,
    course_objects,
    launch,
    launch_class,
    load_containers,
    network_names,
    prepare_class,
    resolve,
    synth_class,
    teardown,
    write_roster,
)
from image_support import ROOT, ImageTestError, classroom_cli, docker, inspect
from week_support import host_port, remove_container, terraform_path, wait_healthy

if TYPE_CHECKING:
    from conftest import Builds

STUDENTS = ("ana", "ben", "cleo")


@pytest.fixture(scope="module")
def klass(
    builds: Builds, run_id: str, workdir: Path, say: Callable[[str], None]
) -> Iterator[Klass]:
    if terraform_path() is None:
        pytest.skip("no terraform on the PATH: the classroom stack's expressions need it")
    course = f"it-{secrets.token_hex(4)}"

    def built(name: str) -> str:
        sandbox = builds.get("sandbox")
        assert name == sandbox.spec.tag, (name, sandbox.spec.tag)
        return sandbox.spec.tag

    try:
        t0 = time.monotonic()
        k = prepare_class(
            workdir=workdir,
            run_id=run_id,
            course=course,
            students=STUDENTS,
            services=["sandbox", "database"],
            built=built,
            say=say,
        )
        say(f"classroom synth and resolution in {time.monotonic() - t0:.0f} s")
        t0 = time.monotonic()
        launch_class(k)
        names = [wc.raw["name"] for wc in k.containers.values()]
        for name in names:
            wait_healthy(name, HEALTHY_TIMEOUT_S)
        took = time.monotonic() - t0
        say(f"class of {len(STUDENTS)} healthy behind the proxy {took:.0f} s after the first start")
        usage = docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *names)
        say("memory just after start: " + "; ".join(usage.strip().splitlines()))
        k.proxy_port = host_port(f"{course}-proxy", 8443)
        yield k
    finally:
        teardown(course)
        left = course_objects(course)
        shutil.rmtree(ROOT / "state" / "classroom" / course, ignore_errors=True)
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
        return fresh.get(k.url(f"/{student}/jupyter/api/contents"), headers=headers).status_code


# --------------------------------------------------------------------------------- the tests


def test_each_student_reaches_their_jupyter_through_the_proxy_over_tls_with_their_token(
    klass: Klass, client: httpx.Client
) -> None:
    for student in STUDENTS:
        response = client.get(
            klass.url(f"/{student}/jupyter/api/status"),
            headers={"Authorization": f"token {klass.token(student)}"},
        )
        assert response.status_code == 200, (student, response.text[:200])
        assert "last_activity" in response.json()
    # /<id>/ is the student's address: it leads to their Jupyter
    landing = client.get(klass.url("/ana/"))
    assert landing.status_code == 302 and landing.headers["location"].endswith("/ana/jupyter/")
    # only TLS: the port speaks no plain HTTP
    plain = httpx.get(
        f"http://127.0.0.1:{klass.proxy_port}/ana/jupyter/api/status", trust_env=False
    )
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
    assert client.get(klass.url("/nobody/jupyter/api/status")).status_code == 404


def teacher(klass: Klass, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`npm run classroom -- ARGS` as the teacher runs it on the class's server, with the
    class's configuration; only the proxy's port is this run's."""
    config = json.loads(klass.config.read_text())
    config["classroom"]["proxy"] = {"hostPort": klass.proxy_port}
    teachers_config = klass.config.with_name("week.config.teacher.json")
    teachers_config.write_text(json.dumps(config))
    return classroom_cli(*args, env={"WEEK_CONFIG": str(teachers_config)}, timeout=timeout)


def test_the_teachers_checks_run_across_the_class(klass: Klass) -> None:
    """`npm run classroom -- check TP1` and `check TP5` in roster mode, as the teacher runs them:
    each student's Jupyter behind the proxy (its self-signed certificate trusted, the token from
    the class's state), the tools by docker exec, the course's table in each database and a dump
    restored."""
    for tp, checks in (
        ("TP1", ("jupyter token", "tools and workspace")),
        ("TP5", ("table", "dump and restore")),
    ):
        done = teacher(klass, "check", tp, "--format", "csv", timeout=600)
        assert done.returncode == 0, done.stderr
        rows = list(csv.reader(io.StringIO(done.stdout)))
        assert rows[0] == ["student", "check", "status", "detail"]
        expected = [(s, c, "pass") for s in STUDENTS for c in checks]
        assert [(r[0], r[1], r[2]) for r in rows[1:]] == expected, rows


def test_the_teachers_status_says_the_class_is_ready(klass: Klass) -> None:
    """`npm run classroom -- status --wait 120`, as the teacher runs it after the deploy (which
    waits for no healthcheck): every student's containers healthy, their Jupyter's activity read
    through the proxy with their token, exit 0."""
    done = teacher(klass, "status", "--wait", "120", timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line.split("\t") for line in done.stdout.splitlines()]
    assert [line[0] for line in lines] == list(STUDENTS)
    for student, services, _memory, activity in lines:
        assert all(part.endswith(" healthy") for part in services.split(", ")), (student, services)
        assert activity.startswith("last activity"), (student, activity)
    ready = f"all {len(STUDENTS)} students ready (every container running and healthy)"
    assert done.stderr.strip().endswith(ready), done.stderr


def test_kernels_websockets_pass_the_proxy(klass: Klass, client: httpx.Client) -> None:
    token = klass.token("ben")
    auth = {"Authorization": f"token {token}"}
    kernel = client.post(klass.url("/ben/jupyter/api/kernels"), headers=auth, json={})
    assert kernel.status_code == 201, kernel.text[:200]
    kid = kernel.json()["id"]
    try:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        request = (
            f"GET /ben/jupyter/api/kernels/{kid}/channels HTTP/1.1\r\n"
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
        client.delete(klass.url(f"/ben/jupyter/api/kernels/{kid}"), headers=auth)


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
    after_doc = synth_class(klass.workdir, klass.config, klass.config.parent / "cdktf.out")
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
    assert client.get(klass.url("/cleo/jupyter/api/status")).status_code == 404


def test_killing_one_students_containers_leaves_the_others_healthy(
    klass: Klass, client: httpx.Client
) -> None:
    for service in ("sandbox", "database"):
        docker("kill", klass.name("ana", service))
    killed = time.monotonic()
    time.sleep(11)  # past the proxy's DNS cache (valid=10s): ana's names are looked up anew
    asked = time.monotonic()
    assert client.get(klass.url("/ana/jupyter/api/status")).status_code in (502, 504)
    assert time.monotonic() - asked < 10  # resolver_timeout 5s, not nginx's default 30 s
    time.sleep(max(0.0, 31 - (time.monotonic() - killed)))  # the others probed since (30 s)
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

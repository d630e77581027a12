"""The whole week, started as the synthesised local stack describes it (cdk.tf.json: image, env,
hostname, ports' host IP, volumes, aliases, healthcheck, memory, restart, logs, uploaded init SQL,
start order), and used as the course uses it: the API stores predictions in PostgreSQL reached as
`database` with the password of database.env, the course's table, dump and restore with the
stack's own commands, data kept across container replacement and an image upgrade, notebooks
kept across a sandbox replacement, the sandbox querying the database, Streamlit classifying
through the API, and the API riding out a database outage.

See week_support.py for what is swapped (image references, names, host ports) and how the
stack's Terraform expressions are resolved (real Terraform, no provider). Skipped, saying so,
without Terraform on the PATH.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from image_support import NAME_PREFIX, ImageTestError, docker, inspect, labels, run, wait_until
from week_support import (
    NO_TERRAFORM,
    POSTGRES_STANDIN,
    POSTGRES_STANDIN_NEXT,
    WeekContainer,
    WeekStack,
    container_state,
    create_container,
    host_port,
    load_week,
    remove_container,
    resolve_with_terraform,
    stack_refs,
    start_container,
    terraform_path,
    wait_healthy,
)

if TYPE_CHECKING:
    from conftest import Builds, Report

HEALTHY_TIMEOUT_S = 240
TEXT = "What a match, the keeper saved three penalties in the final"


@dataclass
class Week:
    stack: WeekStack
    run_id: str
    network: str
    volumes: dict[str, str]  # docker_volume id -> this run's volume
    images: dict[str, str]  # alias -> image the run uses
    names: dict[str, str]  # alias -> container name
    resolved: dict[str, Any]
    database_env: dict[str, str]
    jupyter_token: str
    workdir: Path
    say: Callable[[str], None]
    healthy_after: dict[str, float] = field(default_factory=dict)

    def container(self, alias: str) -> WeekContainer:
        return self.stack.containers[alias]

    def url(self, alias: str) -> str:
        internal = int(self.container(alias).raw["ports"][0]["internal"])
        return f"http://127.0.0.1:{host_port(self.names[alias], internal)}"

    def start(self, alias: str, image: str | None = None) -> float:
        wc = self.container(alias)
        create_container(
            wc,
            name=self.names[alias],
            image=image or self.images[alias],
            network=self.network,
            volumes=self.volumes,
            run_id=self.run_id,
        )
        start_container(self.names[alias])
        took = wait_healthy(self.names[alias], HEALTHY_TIMEOUT_S)
        self.healthy_after[alias] = took
        return took

    def replace(self, alias: str, image: str | None = None) -> float:
        remove_container(self.names[alias])
        return self.start(alias, image)

    def psql(self, sql: str) -> str:
        """A query in the database container, as the stack's psql_command does (socket, no -h)."""
        user, db = self.database_env["POSTGRES_USER"], self.database_env["POSTGRES_DB"]
        cmd = ["docker", "exec", self.names["database"], "psql", "-U", user, "-d", db]
        return run([*cmd, "-v", "ON_ERROR_STOP=1", "-Atc", sql], timeout=60).stdout.strip()

    def shell(self, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """A command of the stack's outputs, run as a user runs it: by a shell, in a folder."""
        return run(["sh", "-c", command], timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def week(
    stack_dir: Path,
    builds: Builds,
    run_id: str,
    workdir: Path,
    say: Callable[[str], None],
    report: Report,
) -> Iterator[Week]:
    if terraform_path() is None:
        pytest.skip(NO_TERRAFORM)
    for standin in (POSTGRES_STANDIN, POSTGRES_STANDIN_NEXT):
        if inspect("image", standin) is None:
            raise ImageTestError(f"{standin} is missing: run scripts/setup/docker-bases.sh")
    stack = load_week(stack_dir)
    assert set(stack.containers) == {"database", "api", "streamlit", "sandbox"}, list(
        stack.containers
    )
    prefix = f"{NAME_PREFIX}-{run_id}-week"
    images: dict[str, str] = {}
    for alias, wc in stack.containers.items():
        if wc.built:
            built = builds.get(alias)  # built from the synthesised context on the stand-in base
            assert built.spec.tag == wc.image_name
            images[alias] = built.spec.tag
        else:
            images[alias] = POSTGRES_STANDIN
    names = {alias: f"{prefix}-{alias}" for alias in stack.containers}
    volumes = {vid: f"{prefix}-{vname}" for vid, vname in stack.volumes.items()}
    network = prefix
    database_env = {
        "POSTGRES_USER": "course_admin",
        "POSTGRES_PASSWORD": secrets.token_hex(20),
        "POSTGRES_DB": "course_week",
    }
    token = f"week-jupyter-{secrets.token_hex(16)}"
    refs = {f"{wc.resource}.name": names[a] for a, wc in stack.containers.items()}
    refs |= {f"docker_volume.{vid}.name": v for vid, v in volumes.items()}
    refs |= {
        f"docker_network.{nid}.name": network
        for nid in stack.doc["resource"].get("docker_network", {})
    }
    refs |= {
        f"docker_image.{wc.image_resource}.image_id": images[a]
        for a, wc in stack.containers.items()
    }
    inputs = {
        "refs": stack_refs(stack, refs),
        "database_env": "".join(f"{k}={v}\n" for k, v in database_env.items()),
        "variables": {"jupyter_token": token, "git_token": ""},
        "expressions": {
            **{f"env_{a}": wc.raw.get("env") or [] for a, wc in stack.containers.items()},
            "dump": stack.output("database_dump_command"),
            "restore": stack.output("database_restore_command"),
            "password": stack.output("database_password"),
        },
    }
    t0 = time.monotonic()
    resolved = resolve_with_terraform(stack, workdir, **inputs)  # type: ignore[arg-type]
    say(f"the stack's expressions resolved by terraform in {time.monotonic() - t0:.0f} s")
    for alias, wc in stack.containers.items():
        wc.env = [str(e) for e in resolved[f"env_{alias}"]]
    w = Week(
        stack=stack,
        run_id=run_id,
        network=network,
        volumes=volumes,
        images=images,
        names=names,
        resolved=resolved,
        database_env=database_env,
        jupyter_token=token,
        workdir=workdir,
        say=say,
    )
    docker("network", "create", "--driver", "bridge", *labels(run_id), network)
    try:
        for v in volumes.values():
            docker("volume", "create", *labels(run_id), v)
        for alias in stack.containers:  # dependencies first, as Terraform creates them
            t1 = time.monotonic()
            took = w.start(alias)
            say(f"{names[alias]} ({images[alias]}) healthy {took:.0f} s after start")
            report.notes.append(f"week: {alias} healthy {time.monotonic() - t1:.0f} s after create")
        yield w
    finally:
        for alias in reversed(list(stack.containers)):
            remove_container(names[alias])
        run(["docker", "network", "rm", network], timeout=120, check=False)
        for v in volumes.values():
            run(["docker", "volume", "rm", "-f", v], timeout=120, check=False)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=30) as c:
        yield c


def predict(week: Week, client: httpx.Client, text: str) -> dict[str, object]:
    response = client.post(f"{week.url('api')}/predict", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


# --------------------------------------------------------------------------------- the tests


def test_the_four_containers_run_as_the_stack_describes_them(week: Week) -> None:
    for alias, wc in week.stack.containers.items():
        data = inspect("container", week.names[alias])
        assert data is not None
        assert data["State"]["Health"]["Status"] == "healthy"
        assert data["Config"]["Healthcheck"]["Test"] == wc.raw["healthcheck"]["test"]
        assert data["HostConfig"]["Memory"] == int(wc.raw["memory"]) * 1024 * 1024
        assert data["HostConfig"]["RestartPolicy"]["Name"] == wc.raw["restart"]
        assert data["Config"]["Hostname"] == alias
        aliases = data["NetworkSettings"]["Networks"][week.network]["Aliases"]
        assert alias in aliases
        for binding in data["HostConfig"]["PortBindings"].values():
            assert [b["HostIp"] for b in binding] == ["127.0.0.1"]
        names = {e.split("=", 1)[0] for e in data["Config"]["Env"]}
        assert {e.split("=", 1)[0] for e in wc.raw.get("env") or []} <= names


@pytest.mark.parametrize(
    ("database_env", "password"),
    [
        ("POSTGRES_USER=u1\nPOSTGRES_PASSWORD=p w+/@:%1\nPOSTGRES_DB=d1\n", "p w+/@:%1"),
        ("  POSTGRES_PASSWORD = spaced \r\nPOSTGRES_USER=x\n", "spaced"),
        ("POSTGRES_PASSWORD='a $b # c'\n", "a $b # c"),
        ("# no settings\n", None),
        ("", None),
    ],
    ids=[
        "all three, a password to encode",
        "spaces and CRLF",
        "single quotes",
        "comments only",
        "empty",
    ],
)
def test_terraform_reads_the_password_of_any_database_env(
    stack_dir: Path, tmp_path: Path, database_env: str, password: str | None
) -> None:
    """The stack's database_password output is the file's POSTGRES_PASSWORD, trimmed, or the
    generated random_password when the file has none."""
    if terraform_path() is None:
        pytest.skip(NO_TERRAFORM)
    stack = load_week(stack_dir)
    names = {f"{wc.resource}.name": f"c-{a}" for a, wc in stack.containers.items()}
    names |= {f"docker_volume.{v}.name": f"v-{n}" for v, n in stack.volumes.items()}
    names |= {f"docker_network.{n}.name": "n" for n in stack.doc["resource"]["docker_network"]}
    refs = stack_refs(stack, names)
    generated = {v for k, v in refs.items() if k.startswith("random_password.")}
    resolved = resolve_with_terraform(
        stack,
        tmp_path,
        refs=refs,
        database_env=database_env,
        variables={"jupyter_token": "", "git_token": "g"},
        expressions={"password": stack.output("database_password")},
    )
    if password is None:
        assert resolved["password"] in generated
    else:
        assert resolved["password"] == password


def test_the_database_takes_user_password_and_name_from_database_env(week: Week) -> None:
    env = week.database_env
    assert week.resolved["password"] == env["POSTGRES_PASSWORD"]
    cmd = ["docker", "exec", "-e", "PGPASSWORD", week.names["database"], "psql", "-h", "127.0.0.1"]
    cmd += ["-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"], "-Atc", "select current_user"]
    ok = run(cmd, timeout=60, env={"PGPASSWORD": env["POSTGRES_PASSWORD"]})
    assert ok.stdout.strip() == env["POSTGRES_USER"]
    wrong = run(cmd, timeout=60, env={"PGPASSWORD": "not-the-password"}, check=False)
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr


def test_the_courses_table_exists_from_the_init_sql(week: Week) -> None:
    columns = week.psql(
        "select count(*) from information_schema.columns where table_name = 'students'"
    )
    assert int(columns) >= 5
    assert int(week.psql("select count(*) from students")) == 5


def test_the_api_stores_predictions_in_postgresql_reached_as_database(
    week: Week, client: httpx.Client
) -> None:
    url_env = [e for e in week.container("api").env if e.startswith("DATABASE_URL=")]
    assert len(url_env) == 1 and "@database:5432/" in url_env[0]
    assert week.database_env["POSTGRES_PASSWORD"] in url_env[0]
    health = client.get(f"{week.url('api')}/health").json()
    assert health["status"] == "ok", health
    result = predict(week, client, TEXT)
    assert result["stored"] is True and isinstance(result["id"], int)
    stored = week.psql(f"select text, label from predictions where id = {result['id']}")
    assert stored == f"{TEXT}|{result['label']}"


def test_dump_then_restore_brings_back_a_row_deleted_in_between(
    week: Week, client: httpx.Client, tmp_path: Path
) -> None:
    kept = predict(week, client, "The dump must keep this prediction")
    dump = week.shell(str(week.resolved["dump"]), tmp_path)
    assert dump.returncode == 0
    assert (tmp_path / "week.dump").stat().st_size > 1000
    week.psql(f"delete from predictions where id = {kept['id']}")
    week.psql("delete from students where email = 'ada.lovelace@example.com'")
    assert week.psql(f"select count(*) from predictions where id = {kept['id']}") == "0"
    week.shell(str(week.resolved["restore"]), tmp_path)
    assert week.psql(f"select text from predictions where id = {kept['id']}") == (
        "The dump must keep this prediction"
    )
    assert (
        week.psql("select count(*) from students where email = 'ada.lovelace@example.com'") == "1"
    )


def test_data_survive_replacing_the_database_container_and_upgrading_its_image(
    week: Week, client: httpx.Client
) -> None:
    week.psql(
        "insert into students (first_name, last_name, email) "
        "values ('Barbara', 'Liskov', 'barbara.liskov@example.com')"
    )
    before = week.psql("select count(*) from predictions")
    took = week.replace("database")
    week.say(f"database container replaced, healthy after {took:.0f} s")
    assert week.psql("select last_name from students where email like 'barbara%'") == "Liskov"
    took = week.replace("database", POSTGRES_STANDIN_NEXT)
    week.say(f"database image upgraded to {POSTGRES_STANDIN_NEXT}, healthy after {took:.0f} s")
    data = inspect("container", week.names["database"])
    assert data is not None and data["Config"]["Image"] == POSTGRES_STANDIN_NEXT
    assert week.psql("select last_name from students where email like 'barbara%'") == "Liskov"
    assert week.psql("select count(*) from predictions") == before
    assert int(week.psql("select count(*) from students")) == 6  # the init SQL did not run again
    wait_until(
        "the API storing again after the database was replaced",
        lambda: predict(week, client, "after the upgrade")["stored"] is True,
        timeout=60,
        interval=2,
    )


def test_notebooks_survive_replacing_the_sandbox_container(
    week: Week, client: httpx.Client
) -> None:
    headers = {"Authorization": f"token {week.jupyter_token}"}
    notebook = {
        "type": "notebook",
        "format": "json",
        "content": {
            "cells": [
                {
                    "cell_type": "code",
                    "source": "print('TP1')",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
    }
    put = client.put(
        f"{week.url('sandbox')}/api/contents/week-test.ipynb", json=notebook, headers=headers
    )
    assert put.status_code in (200, 201), put.text
    took = week.replace("sandbox")
    week.say(f"sandbox container replaced, healthy after {took:.0f} s")
    got = client.get(f"{week.url('sandbox')}/api/contents/week-test.ipynb", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["content"]["cells"][0]["source"] == "print('TP1')"


# A query from inside the sandbox: psycopg when the sandbox has it, else PostgreSQL's protocol
# with SCRAM-SHA-256 by hand (the standard library only). Credentials come from the environment.
PG_QUERY = r"""
import base64, hashlib, hmac, json, os, socket, struct, sys
host, user, password, db = (os.environ[k] for k in ("PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE"))
sql = sys.argv[1]
try:
    import psycopg
except ImportError:
    psycopg = None
if psycopg is not None:
    with psycopg.connect(connect_timeout=10) as conn:
        rows = [[None if v is None else str(v) for v in r] for r in conn.execute(sql).fetchall()]
    print(json.dumps({"client": "psycopg", "rows": rows}))
    raise SystemExit(0)
s = socket.create_connection((host, 5432), timeout=10)
def send(kind, payload):
    s.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)
def exactly(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed")
        data += chunk
    return data
def recv():
    head = exactly(5)
    return head[:1], exactly(struct.unpack("!I", head[1:])[0] - 4)
params = b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
start = struct.pack("!I", 196608) + params
s.sendall(struct.pack("!I", len(start) + 4) + start)
kind, body = recv()
if kind != b"R" or struct.unpack("!I", body[:4])[0] != 10 or b"SCRAM-SHA-256" not in body:
    raise SystemExit(f"expected a SCRAM-SHA-256 request, got {kind!r} {body[:40]!r}")
bare = "n=,r=" + base64.b64encode(os.urandom(18)).decode()
first = ("n,," + bare).encode()
send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
kind, body = recv()
server_first = body[4:].decode()
attrs = dict(a.split("=", 1) for a in server_first.split(","))
salt, rounds = base64.b64decode(attrs["s"]), int(attrs["i"])
salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
without_proof = "c=biws,r=" + attrs["r"]
auth_message = f"{bare},{server_first},{without_proof}".encode()
signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
send(b"p", f"{without_proof},p={proof}".encode())
rows = []
for phase in ("login", "query"):
    if phase == "query":
        send(b"Q", sql.encode() + b"\0")
    while True:
        kind, body = recv()
        if kind == b"E":
            raise SystemExit("server error: " + body.decode(errors="replace"))
        if kind == b"D":
            n, pos, row = struct.unpack("!H", body[:2])[0], 2, []
            for _ in range(n):
                size = struct.unpack("!i", body[pos:pos + 4])[0]
                pos += 4
                row.append(None if size < 0 else body[pos:pos + size].decode())
                pos += max(size, 0)
            rows.append(row)
        if kind == b"Z":
            break
send(b"X", b"")
print(json.dumps({"client": "protocol", "rows": rows}))
"""


def test_the_sandbox_queries_the_database_by_its_name(week: Week) -> None:
    env = {
        "PGHOST": "database",
        "PGUSER": week.database_env["POSTGRES_USER"],
        "PGPASSWORD": week.database_env["POSTGRES_PASSWORD"],
        "PGDATABASE": week.database_env["POSTGRES_DB"],
    }
    cmd = ["docker", "exec", "-i", *[a for k in env for a in ("-e", k)], week.names["sandbox"]]
    done = run(
        [*cmd, "python", "-", "select last_name from students order by id limit 1"],
        timeout=60,
        env=env,
        input_text=PG_QUERY,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    week.say(f"the sandbox queried the database with {result['client']}")
    assert result["rows"] == [["Lovelace"]]


CLIENT_CALL = r"""
import json, sys
import classifier_client as cc
settings = cc.Settings.from_env()
p = cc.predict(settings, sys.argv[1])
print(json.dumps({"source": settings.source, "label": p.label}))
"""


def test_streamlit_classifies_a_text_through_the_api(week: Week, client: httpx.Client) -> None:
    text = f"Streamlit asks the API {secrets.token_hex(4)}"
    done = run(
        ["docker", "exec", "-i", week.names["streamlit"], "python", "-", text],
        timeout=120,
        input_text=CLIENT_CALL,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "http://api:" in (result["source"] or "")
    # the API classified and stored it: the Streamlit container's request reached the API
    assert week.psql(f"select label from predictions where text = '{text}'") == result["label"]
    assert client.get(f"{week.url('streamlit')}/_stcore/health").status_code == 200


def test_the_api_answers_while_the_database_is_down_and_stores_again_when_it_returns(
    week: Week, client: httpx.Client
) -> None:
    api = week.names["api"]
    started = container_state(api)["StartedAt"]
    docker("stop", week.names["database"], timeout=120)
    try:
        health = client.get(f"{week.url('api')}/health").json()
        assert health["status"] == "degraded", health
        answered = predict(week, client, "while the database is down")
        assert answered["stored"] is False and answered["label"]
    finally:
        docker("start", week.names["database"], timeout=120)
    wait_healthy(week.names["database"], HEALTHY_TIMEOUT_S)
    stored = wait_until(
        "the API storing again once the database is back",
        lambda: (lambda r: r if r["stored"] else None)(predict(week, client, "database is back")),
        timeout=60,
        interval=2,
    )
    assert (
        week.psql(f"select text from predictions where id = {stored['id']}") == "database is back"
    )
    state = container_state(api)
    assert state["StartedAt"] == started and state["Running"]
    assert (inspect("container", api) or {}).get("RestartCount") == 0
    assert client.get(f"{week.url('api')}/health").json()["status"] == "ok"


def test_no_secret_of_the_week_is_in_a_container_log(week: Week) -> None:
    needles = {
        "POSTGRES_PASSWORD": week.database_env["POSTGRES_PASSWORD"],
        "JUPYTER_TOKEN": week.jupyter_token,
    }
    for alias, name in week.names.items():
        logs = run(["docker", "logs", name], timeout=60, check=False)
        text = logs.stdout + logs.stderr
        leaked = [k for k, v in needles.items() if v in text]
        assert not leaked, f"{alias}'s log holds {leaked}"

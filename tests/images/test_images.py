"""The local stack's three images, built from the contexts `npm run synth` stages, run as the
stack runs them (on a private network, ports on 127.0.0.1), and checked from the host and from
inside: Jupyter behind its token, git identity and clone, requirements, non-root users, the API's
smoke test, Streamlit reaching the API, Docker healthchecks, and no secret in any image.

Run by scripts/test/image-test.sh (which prepares the bases, the mirror and the synth); skipped when
no Docker engine answers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from image_support import (
    COURSE_REPO,
    ROLES,
    ROOT,
    Container,
    ImageSpec,
    ImageTestError,
    classroom_cli,
    default_base_image,
    docker,
    heroku_size_problem,
    inspect,
    labels,
    run,
    scan_image_layers,
    stage_names,
    tail,
    wait_until,
)

if TYPE_CHECKING:
    from conftest import Builds, GitServer, Report, Running

ALL_ROLES = list(ROLES)
WORKLOADS = ["api", "streamlit"]
SAMPLE_TEXT = "The home team won the final after a tense match on Sunday."
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|API_KEY|PRIVATE_KEY", re.I)
# the course's set, as a student would import it: distribution -> module
COURSE_MODULES = {
    "numpy": "numpy",
    "pandas": "pandas",
    "scikit-learn": "sklearn",
    "matplotlib": "matplotlib",
    "notebook": "notebook",
    "seaborn": "seaborn",
}
HEALTH_PATH = {"api": "/health", "streamlit": "/_stcore/health"}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """Straight to 127.0.0.1: proxy settings of the environment are ignored."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        yield client


def image_env(tag: str) -> dict[str, str]:
    data = inspect("image", tag)
    assert data is not None, f"{tag} is missing"
    return dict(item.partition("=")[::2] for item in data["Config"].get("Env") or [])


# ================================================================================ the stack


def test_the_stack_builds_and_runs_the_sandbox_api_and_streamlit_images(
    stack: dict[str, ImageSpec],
) -> None:
    assert sorted(stack) == sorted(ALL_ROLES)
    for role, spec in stack.items():
        assert spec.dockerfile.is_file(), (
            f"{role}: no Dockerfile in the staged context {spec.context}"
        )
        assert spec.container is not None, (
            f"{role}: the stack builds {spec.tag} but runs no container from it"
        )
        assert spec.container.publish_ip == "127.0.0.1", (
            f"{role}: published on {spec.container.publish_ip}"
        )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_dockerfile_default_base_is_the_real_pinned_image(
    stack: dict[str, ImageSpec], role: str
) -> None:
    spec = stack[role]
    text = spec.dockerfile.read_text()
    default, froms = default_base_image(text)
    assert default, (
        f"{role}: the Dockerfile declares no `ARG BASE_IMAGE=<image>` default before FROM"
    )
    assert not default.startswith("week-local/") and "week-image-test" not in default, (
        f"{role}: BASE_IMAGE defaults to the local stand-in {default}: "
        "the default must stay the real base"
    )
    assert ":" in default.split("/")[-1] and not default.endswith(":latest"), (
        f"{role}: BASE_IMAGE default {default} is not a pinned tag"
    )
    assert default.startswith(spec.role.real_base_prefixes), (
        f"{role}: BASE_IMAGE default {default} is not one {spec.role.standin} stands in for "
        f"({', '.join(spec.role.real_base_prefixes)}): the image test would build on the wrong base"
    )
    stages = stage_names(text)
    for image in froms:
        assert image in ("${BASE_IMAGE}", "$BASE_IMAGE") or image.lower() in stages, (
            f"{role}: `FROM {image}` does not use BASE_IMAGE (nothing can be pulled here)"
        )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_image_builds_from_the_synthesised_context_on_the_stand_in_base(
    builds: Builds, role: str
) -> None:
    built = builds.get(role)
    assert built.image_id
    assert built.size_bytes > built.base_size_bytes


def test_the_heroku_limit_counts_the_whole_image_not_what_lies_above_its_base() -> None:
    # 360 MB above a 150 MB base: small above the base, over the limit as a whole
    problem = heroku_size_problem("week-api:x", 510 * 10**6, "python:3.11-slim", 150 * 10**6)
    assert problem == (
        "week-api:x is 510 MB whole, over Heroku's 500 MB (TP4), "
        "of which 150 MB are its base python:3.11-slim"
    )
    assert heroku_size_problem("week-api:x", 500 * 10**6, "python:3.11-slim", 150 * 10**6) is None


def test_the_api_image_whole_fits_herokus_500_mb(builds: Builds) -> None:
    """TP4: the whole image, base included (not only what the Dockerfile adds above it)."""
    built = builds.get("api")
    problem = heroku_size_problem(
        built.spec.tag, built.size_bytes, built.base, built.base_size_bytes
    )
    assert problem is None, problem


# ================================================================================ sandbox


def test_sandbox_jupyter_refuses_requests_without_the_right_token(
    sandbox: Container, http: httpx.Client
) -> None:
    no_token = http.get(f"{sandbox.url}/api/contents", timeout=10)
    assert no_token.status_code in (401, 403), (
        f"/api/contents without a token: {no_token.status_code}"
    )
    wrong = http.get(
        f"{sandbox.url}/api/contents", headers={"Authorization": "token not-the-token"}, timeout=10
    )
    assert wrong.status_code in (401, 403), f"/api/contents with a wrong token: {wrong.status_code}"
    page = http.get(f"{sandbox.url}/tree", timeout=10, follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers.get("location", ""), (
        f"/tree without a token: {page.status_code} {page.headers.get('location')}"
    )


def test_sandbox_jupyter_serves_requests_with_the_token(
    sandbox: Container, canaries: dict[str, str], http: httpx.Client
) -> None:
    auth = {"Authorization": f"token {canaries['JUPYTER_TOKEN']}"}
    response = http.get(f"{sandbox.url}/api/contents", headers=auth, timeout=10)
    assert response.status_code == 200, response.text[:300]
    names = {item["name"] for item in response.json()["content"]}
    # Jupyter opens at the root of the cloned repository (the course's "git cloné à la racine")
    assert "welcome.py" in names, f"the folder Jupyter serves holds {sorted(names)}"
    tree = http.get(f"{sandbox.url}/tree", params={"token": canaries["JUPYTER_TOKEN"]}, timeout=10)
    assert tree.status_code == 200


def classroom_check(tp: str, *args: str, env: dict[str, str] | None = None) -> list[list[str]]:
    """`npm run classroom -- check TP --format csv ARGS` (the teacher's check): its rows."""
    done = classroom_cli("check", tp, "--format", "csv", *args, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["student", "check", "status", "detail"]
    return rows[1:]


def test_classroom_check_tp1_passes_against_the_sandbox_and_fails_a_container_without_the_tools(
    sandbox: Container, api: Container, canaries: dict[str, str]
) -> None:
    token = {"JUPYTER_TOKEN": canaries["JUPYTER_TOKEN"]}
    assert classroom_check("TP1", "--url", sandbox.url, "--container", sandbox.name, env=token) == [
        [
            "local",
            "jupyter token",
            "pass",
            "Jupyter answers with the token (200) and refuses without it (403)",
        ],
        [
            "local",
            "tools and workspace",
            "pass",
            "python3, pip3, vim, git and the workspace folder are there",
        ],
    ]
    # the API's container is not a sandbox: no vim, git or workspace (its base has pip3)
    rows = classroom_check("TP1", "--url", sandbox.url, "--container", api.name, env=token)
    assert rows[1] == ["local", "tools and workspace", "fail", "missing: vim, git, workspace"]
    wrong = classroom_check("TP1", "--url", sandbox.url, env={"JUPYTER_TOKEN": "not-the-token"})
    assert wrong[0][:3] == ["local", "jupyter token", "fail"]


KERNEL_CODE = """
import matplotlib, numpy as np, pandas as pd, sklearn
from sklearn.linear_model import LogisticRegression
model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
print("prediction", int(model.predict([[2.6]])[0]), "rows", len(pd.DataFrame({"a": [1, 2]})))
"""


def execute_in_kernel(port: int, kernel: str, token: str, code: str) -> tuple[str, dict[str, Any]]:
    """Runs CODE in a Jupyter kernel through the server's websocket, as the notebook page does;
    returns its printed output and its execute_reply content."""
    from websockets.sync.client import connect  # streamlit's dependency, in .venv

    msg_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": msg_id,
            "session": uuid.uuid4().hex,
            "username": "image-test",
            "msg_type": "execute_request",
            "version": "5.3",
            "date": "",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }
    output: list[str] = []
    deadline = time.monotonic() + 120
    with connect(
        f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels",
        additional_headers={"Authorization": f"token {token}"},
        proxy=None,
        open_timeout=30,
    ) as ws:
        ws.send(json.dumps(request))
        while True:
            raw = ws.recv(timeout=max(1.0, deadline - time.monotonic()))
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                output.append(content["text"])
            elif kind == "error":
                output.append("\n".join(content["traceback"]))
            elif kind == "execute_reply":
                return "".join(output), content


def test_sandbox_kernel_runs_the_course_libraries_through_jupyter(
    sandbox: Container, canaries: dict[str, str], http: httpx.Client
) -> None:
    auth = {"Authorization": f"token {canaries['JUPYTER_TOKEN']}"}
    started = http.post(f"{sandbox.url}/api/kernels", headers=auth, json={"name": "python3"})
    assert started.status_code == 201, started.text[:300]
    kernel = started.json()["id"]
    try:
        output, reply = execute_in_kernel(
            sandbox.host_port, kernel, canaries["JUPYTER_TOKEN"], KERNEL_CODE
        )
        assert reply["status"] == "ok", output
        assert output.strip() == "prediction 1 rows 2"
    finally:
        http.delete(f"{sandbox.url}/api/kernels/{kernel}", headers=auth)


def test_sandbox_git_identity_is_set_for_the_container_user(
    sandbox: Container, stack: dict[str, ImageSpec]
) -> None:
    env = {**image_env(stack["sandbox"].tag), **sandbox.env}
    name = sandbox.exec("git", "config", "--global", "user.name").stdout.strip()
    email = sandbox.exec("git", "config", "--global", "user.email").stdout.strip()
    assert (name, email) == (env["GIT_USER_NAME"], env["GIT_USER_EMAIL"])
    user = sandbox.exec("id", "-un").stdout.strip()
    home = sandbox.exec("sh", "-c", "echo $HOME").stdout.strip()
    assert sandbox.exec("test", "-f", f"{home}/.gitconfig", check=False).returncode == 0, (
        f"no {home}/.gitconfig for {user}"
    )


def test_sandbox_clones_the_configured_repository_into_the_workspace(
    sandbox: Container, stack: dict[str, ImageSpec]
) -> None:
    workspace = {**image_env(stack["sandbox"].tag), **sandbox.env}["WORKSPACE"]
    clone = f"{workspace}/{COURSE_REPO}"
    logs = sandbox.logs()
    done = sandbox.exec("git", "-C", clone, "log", "-1", "--format=%s", check=False)
    assert done.returncode == 0, (
        f"no clone at {clone}: {done.stderr.strip()}\ncontainer log:\n{logs}"
    )
    assert done.stdout.strip() == "Week notebooks"
    assert sandbox.exec("cat", f"{clone}/welcome.py").stdout.startswith("print(")
    # the identity signs the student's commits
    sandbox.exec("git", "-C", clone, "commit", "--allow-empty", "-q", "-m", "image test")
    author = sandbox.exec("git", "-C", clone, "log", "-1", "--format=%an <%ae>").stdout.strip()
    env = {**image_env(stack["sandbox"].tag), **sandbox.env}
    assert author == f"{env['GIT_USER_NAME']} <{env['GIT_USER_EMAIL']}>"


def test_sandbox_clones_over_http_with_the_git_token_from_its_environment(
    sandbox: Container, git_server: GitServer, canaries: dict[str, str]
) -> None:
    """The entrypoint's credential helper answers git with GIT_TOKEN, for the repository's
    host only; the token never lands in the clone's remote URL (the file scan below checks
    every file)."""
    workspace = "/tmp/token-clone"
    done = sandbox.exec(
        "/usr/local/bin/sandbox-entrypoint",
        "true",
        env={"GIT_REPO_URL": git_server.url, "WORKSPACE": workspace},
        check=False,
    )
    clone = f"{workspace}/{COURSE_REPO}"
    head = sandbox.exec("git", "-C", clone, "log", "-1", "--format=%s", check=False)
    assert head.returncode == 0 and head.stdout.strip() == "Week notebooks", (
        f"no clone over http with the token: {tail(done.stderr, 10)}\n"
        f"server log:\n{tail(git_server.log(), 10)}"
    )
    remote = sandbox.exec("git", "-C", clone, "config", "remote.origin.url").stdout.strip()
    assert remote == git_server.url
    assert '" 401 ' in git_server.log() and '" 200 ' in git_server.log()


def test_sandbox_does_not_clone_over_http_with_a_wrong_git_token(
    sandbox: Container, git_server: GitServer
) -> None:
    workspace = "/tmp/wrong-token-clone"
    done = sandbox.exec(
        "/usr/local/bin/sandbox-entrypoint",
        "true",
        env={"GIT_REPO_URL": git_server.url, "WORKSPACE": workspace, "GIT_TOKEN": "not-the-token"},
        check=False,
    )
    assert done.returncode == 0, f"the entrypoint must start without the clone: {done.stderr}"
    assert "could not clone" in done.stderr, done.stderr
    missing = sandbox.exec("test", "-e", f"{workspace}/{COURSE_REPO}/.git", check=False)
    assert missing.returncode != 0


IMPORT_CHECK = r"""
import importlib, importlib.metadata as md, json, os, re, sys
os.environ.setdefault("MPLBACKEND", "Agg")
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
top = md.packages_distributions()
out = {"errors": [], "imported": []}
for dist, want in json.loads(sys.argv[1]):
    try:
        have = md.version(dist)
    except md.PackageNotFoundError:
        out["errors"].append(f"{dist} is not installed")
        continue
    if want and have != want:
        out["errors"].append(f"{dist} {have} is installed, requirements.lock pins {want}")
    modules = sorted(
        m for m, ds in top.items()
        if m.isidentifier() and not m.startswith("_") and canon(dist) in {canon(d) for d in ds}
    )
    if not modules:
        out["errors"].append(f"{dist}: no importable module found")
    for module in modules:
        try:
            importlib.import_module(module)
            out["imported"].append(module)
        except Exception as exc:
            out["errors"].append(f"import {module} ({dist}): {type(exc).__name__}: {exc}")
print(json.dumps(out))
"""


def test_sandbox_requirements_are_installed_at_their_pins_and_import(
    sandbox: Container, stack: dict[str, ImageSpec]
) -> None:
    # the direct requirements: the lock's entries "via -r .../requirements.in"
    pins: list[list[str]] = []
    entry: list[str] = []
    for line in (stack["sandbox"].context / "requirements.lock").read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line):
            entry = [m.group(1), m.group(2)]
        elif re.search(r"#\s+(via )?-r \S*requirements\.in", line) and entry not in pins:
            pins.append(entry)
    assert len(pins) >= 10, f"requirements.lock names too few direct requirements: {pins}"
    result = sandbox.python(IMPORT_CHECK, json.dumps(pins), timeout=300)
    assert not result["errors"], "\n".join(result["errors"])
    pinned = {dist.lower() for dist, _ in pins}
    for dist, module in COURSE_MODULES.items():
        if dist in pinned:
            assert module in result["imported"], f"{module} ({dist}) was not imported"


PROCESS_CHECK = r"""
import json, os
procs = []
for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
    try:
        status = open(f"/proc/{pid}/status").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
        cmd = cmd.decode(errors="replace")
    except OSError:
        continue
    uid = int(next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1])
    procs.append({"pid": int(pid), "uid": uid, "cmd": cmd.strip()[:100]})
print(json.dumps({"uid": os.getuid(), "procs": procs}))
"""


@pytest.mark.parametrize("role", ALL_ROLES)
def test_runs_as_a_non_root_user_under_tini(
    container_of: Callable[[str], Container], role: str
) -> None:
    container = container_of(role)
    data = inspect("image", container.image)
    assert data is not None
    user = data["Config"].get("User") or ""
    assert user and user not in ("root", "0") and not user.startswith("0:"), (
        f"image USER is {user!r}"
    )
    result = container.python(PROCESS_CHECK)
    assert result["uid"] != 0
    root = [p for p in result["procs"] if p["uid"] == 0]
    assert not root, f"processes running as root: {root}"
    pid1 = next(p for p in result["procs"] if p["pid"] == 1)
    assert "tini" in pid1["cmd"], f"PID 1 is {pid1['cmd']!r}"


# ================================================================================ API


def test_api_passes_test_api_sh_from_the_host(
    api: Container, host_tools: None, say: Callable[[str], None]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    done = subprocess.run(
        ["bash", str(ROOT / "lambdas-src" / "api" / "test" / "test_api.sh"), api.url],
        env={**env, "NO_PROXY": "*", "no_proxy": "*"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"test_api.sh {api.url} failed:\n{tail(done.stdout + done.stderr, 30)}"
    )
    say(f"test_api.sh {api.url}: {tail(done.stdout, 1)}")


def test_api_stores_predictions_in_sqlite_without_database_url(
    api: Container, http: httpx.Client
) -> None:
    health = http.get(f"{api.url}/health", timeout=10).json()
    assert health["status"] == "ok", health
    assert "sqlite" in json.dumps(health["database"]).lower(), health["database"]
    assert len(health["model"]["classes"]) == 3, health["model"]


# ================================================================================ Streamlit


def test_streamlit_health_endpoint_answers_from_the_host(
    streamlit: Container, http: httpx.Client
) -> None:
    response = http.get(f"{streamlit.url}/_stcore/health", timeout=10)
    assert response.status_code == 200 and response.text.strip() == "ok", response.text[:200]
    page = http.get(streamlit.url, timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()


RAW_API_CALL = r"""
import json, os, sys, urllib.request
base = os.environ["API_URL"].rstrip("/")
with urllib.request.urlopen(base + "/health", timeout=10) as r:
    health = json.load(r)
req = urllib.request.Request(base + "/predict", data=json.dumps({"text": sys.argv[1]}).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    prediction = json.load(r)
print(json.dumps({"api_url": base, "health": health, "prediction": prediction}))
"""


def test_streamlit_container_reaches_the_api_by_its_network_name(
    streamlit: Container, api: Container
) -> None:
    result = streamlit.python(RAW_API_CALL, SAMPLE_TEXT)
    assert result["api_url"] == streamlit.env["API_URL"]
    assert result["health"]["status"] == "ok"
    prediction = result["prediction"]
    assert prediction["label"] in prediction["probabilities"]
    assert abs(sum(prediction["probabilities"].values()) - 1) < 1e-6


CLIENT_CALL = r"""
import json, sys
import classifier_client as cc
settings = cc.Settings.from_env()
p = cc.predict(settings, sys.argv[1])
print(json.dumps({"source": settings.source, "label": p.label, "probabilities": p.probabilities}))
"""


def test_streamlit_client_code_gets_a_prediction_from_the_api(
    streamlit: Container, api: Container, http: httpx.Client
) -> None:
    result = streamlit.python(CLIENT_CALL, SAMPLE_TEXT)
    direct = http.post(f"{api.url}/predict", json={"text": SAMPLE_TEXT}, timeout=30).json()
    assert streamlit.env["API_URL"] in (result["source"] or "")
    assert result["label"] == direct["label"]
    assert set(result["probabilities"]) == set(direct["probabilities"])


PAGE_CALL = r"""
import json, sys
from streamlit.testing.v1 import AppTest
def problems(at):
    return [e.value for e in at.error] + [str(e.value) for e in at.exception]
at = AppTest.from_file("streamlit_app.py", default_timeout=60).run()
out = {"on_load": problems(at)}
box = at.text_area[0] if len(at.text_area) else at.text_input[0]
box.input(sys.argv[1])
at.button[0].click()
at.run()
out["after_submit"] = problems(at)
texts = []
for kind in ("success", "markdown", "caption", "info", "text", "metric"):
    texts += [str(getattr(e, "value", "")) for e in at.get(kind)]
out["texts"] = texts
print(json.dumps(out))
"""


def test_streamlit_page_classifies_a_text_through_the_api(
    streamlit: Container, api: Container, http: httpx.Client
) -> None:
    result = streamlit.python(PAGE_CALL, SAMPLE_TEXT, timeout=180)
    assert not result["on_load"], f"the page shows errors on load: {result['on_load']}"
    assert not result["after_submit"], (
        f"the page shows errors after submit: {result['after_submit']}"
    )
    label = http.post(f"{api.url}/predict", json={"text": SAMPLE_TEXT}, timeout=30).json()["label"]
    assert any(label in text for text in result["texts"]), (
        f"{label!r} not on the page: {result['texts']}"
    )


# ================================================================================ all three


@pytest.mark.parametrize("role", ALL_ROLES)
def test_docker_healthcheck_of_the_image_reports_healthy(
    container_of: Callable[[str], Container], running: Running, role: str, report: Report
) -> None:
    container = container_of(role)
    data = inspect("image", container.image)
    assert data is not None
    assert (data["Config"].get("Healthcheck") or {}).get("Test"), "the image has no HEALTHCHECK"
    watch = running.health[role]
    status = watch.result()
    assert status == "healthy", (
        f"{container.name}: health {status} ({watch.timeout:.0f} s after start); last checks: "
        f"{json.dumps(watch.last.get('Log', [])[-3:], indent=1)[-1500:]}"
    )
    assert watch.healthy_after is not None
    report.healthy_after[role] = watch.healthy_after


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_stacks_healthcheck_command_succeeds_in_the_container(
    container_of: Callable[[str], Container], stack: dict[str, ImageSpec], role: str
) -> None:
    container = container_of(role)
    spec = stack[role].container
    assert spec is not None and spec.healthcheck_test, "the stack gives no healthcheck"
    kind, *args = spec.healthcheck_test
    cmd = args if kind == "CMD" else ["sh", "-c", " ".join(args)]
    done = container.exec(*cmd, check=False, timeout=30)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}: {tail(done.stderr, 5)}"


@pytest.mark.parametrize("role", WORKLOADS)
def test_workload_serves_on_the_port_in_port(
    container_of: Callable[[str], Container], running: Running, run_id: str, role: str
) -> None:
    """Heroku and Cloud Run choose the port: the image must bind $PORT, not a fixed one."""
    main = container_of(role)
    port = 5123
    name = f"{main.name}-port"
    env = {**main.env, "PORT": str(port)}
    cmd = ["docker", "run", "-d", "--name", name, "--network", running.network, *labels(run_id)]
    for key in env:
        cmd += ["-e", key]
    run([*cmd, main.image], timeout=300, env=env)
    try:
        url = f"http://127.0.0.1:{port}{HEALTH_PATH[role]}"
        probe = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=4)"

        def answers() -> bool:
            state = inspect("container", name) or {}
            if not (state.get("State") or {}).get("Running"):
                raise ImageTestError(
                    f"{name} stopped: {docker('logs', '--tail', '20', name, check=False)}"
                )
            done = run(["docker", "exec", name, "python", "-c", probe], timeout=30, check=False)
            return done.returncode == 0

        wait_until(f"{role} answering on PORT={port}", answers, timeout=120, interval=2)
    finally:
        run(["docker", "rm", "-f", name], timeout=120, check=False)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_image_history_and_config_hold_no_secret(
    builds: Builds,
    running: Running,
    role: str,
    canaries: dict[str, str],
    pip_index_url: str,
    report: Report,
) -> None:
    tag = builds.get(role).spec.tag
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag)
    for name, value in canaries.items():
        assert value not in history, f"{name}'s run-time value is in the history of {tag}"
    # the legacy builder writes the build args a RUN uses as "|N NAME=value ... /bin/sh -c ..."
    build_args = [
        arg.partition("=")[0]
        for line in history.splitlines()
        if (m := re.match(r"\|\d+ (.*?) /bin/sh -c ", line))
        for arg in m.group(1).split()
    ]
    assert not [a for a in build_args if SECRET_NAME.search(a)], (
        f"{tag} was built with secret-looking build args, kept in its history: {build_args}"
    )
    lines = history.splitlines()
    mirror_steps = sum(pip_index_url in line for line in lines) if pip_index_url else 0
    if mirror_steps:
        report.notes.append(
            f"{tag}: the mirror URL (a build argument, not a secret) is in {mirror_steps} history "
            "line(s): the legacy builder records the build args a RUN step uses"
        )
    data = inspect("image", tag)
    assert data is not None
    config = data["Config"]
    names = [item.partition("=")[0] for item in config.get("Env") or []]
    assert not [n for n in names if SECRET_NAME.search(n)], (
        f"{tag} bakes secret-looking env names: {names}"
    )
    blob = json.dumps(config)
    for name, value in canaries.items():
        assert value not in blob, f"{name}'s value is in the config of {tag}"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_image_layers_hold_no_secret(
    builds: Builds,
    running: Running,
    role: str,
    canaries: dict[str, str],
    pip_index_url: str,
    report: Report,
    say: Callable[[str], None],
) -> None:
    tag = builds.get(role).spec.tag
    t0 = time.monotonic()
    mirror = {"mirror URL": pip_index_url} if pip_index_url else {}
    scan = scan_image_layers(tag, {**canaries, **mirror})
    say(
        f"{tag}: scanned {scan.layers} layers, {scan.bytes_scanned / 1e6:.0f} MB, "
        f"in {time.monotonic() - t0:.0f} s"
    )
    for name in canaries:
        assert not scan.hits[name], f"{name}'s run-time value is in {tag}: {scan.hits[name][:5]}"
    assert not scan.suspicious_files, f"credential files in {tag}: {scan.suspicious_files}"
    if scan.hits.get("mirror URL"):
        report.notes.append(
            f"{tag}: the mirror URL (not a secret) is in {scan.hits['mirror URL'][:3]}"
        )


def test_sandbox_never_writes_the_git_token_to_a_file(
    sandbox: Container, canaries: dict[str, str]
) -> None:
    """The credential reaches git through the environment only (README); Jupyter's own
    runtime file holds its token, as Jupyter always does, and nothing else may."""
    found: dict[str, list[str]] = {}
    for name, value in canaries.items():
        done = sandbox.exec(
            "grep",
            "-rlsF",
            "--exclude-dir=proc",
            "--exclude-dir=sys",
            "--exclude-dir=dev",
            "-e",
            value,
            "/",
            user="0",
            check=False,
            timeout=300,
        )
        # 1: no match; 2: some special file could not be read (matches are still listed)
        assert done.returncode in (0, 1, 2), f"grep failed: {done.stderr[-300:]}"
        found[name] = done.stdout.split()
    assert not found["GIT_TOKEN"], f"GIT_TOKEN written to {found['GIT_TOKEN']}"
    stray = [p for p in found["JUPYTER_TOKEN"] if "/.local/share/jupyter/runtime/" not in p]
    assert not stray, f"JUPYTER_TOKEN written outside Jupyter's runtime folder: {stray}"

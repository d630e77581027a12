"""The sandbox image for every TP of the course week (issue 8 §2), run for real:

- the user `pip install`s into the virtual environment it owns (PEP 668 refuses the system one);
- a `git@git:course.git` clone from an OpenSSH server (a container built from the Debian stand-in
  with apt's openssh-server, on the test network as `git`), the key given at run time through
  GIT_SSH_KEY and the server's host key through GIT_SSH_KNOWN_HOSTS (strict checking);
- the clone's requirements.txt installed at start, logged, and Jupyter's root at the clone;
- psycopg, and TP5's crud.py, reaching a PostgreSQL (a throw-away cluster on the host, listening
  on the test network's gateway) through DATABASE_URL.

The sandbox runs offline here: pip finds the wheels in a read-only folder (PIP_FIND_LINKS,
PIP_NO_INDEX), downloaded by the host beforehand from requirements-student.lock (hashes checked).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from image_support import (
    DEBIAN_STANDIN,
    ROOT,
    ImageTestError,
    docker,
    inspect,
    labels,
    run,
    user_ids,
)
from week_testkit.postgres import PostgresCluster, find_pg_bin

if TYPE_CHECKING:
    from conftest import Builds

SSHD_DOCKERFILE = f"""\
FROM {DEBIAN_STANDIN}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server git \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd --create-home --shell /usr/bin/git-shell git && mkdir -p /run/sshd
"""
STUDENT_LOCK = Path(__file__).with_name("requirements-student.lock")


def _locked(name: str) -> tuple[str, str]:
    """NAME and its version in requirements-student.lock."""
    for line in STUDENT_LOCK.read_text().splitlines():
        if line.startswith(f"{name}=="):
            return name, line.split("==", 1)[1].split()[0]
    raise ImageTestError(f"{name} is not in {STUDENT_LOCK.name} (bash scripts/lock.sh)")


USER_WHEEL = _locked("tabulate")  # what the student pip installs by hand
REPO_WHEEL = _locked("colorama")  # what the cloned repository's requirements.txt asks for
DATABASE = ROOT / "lambdas-src" / "database"


@pytest.fixture(scope="module")
def sandbox_image(builds: Builds) -> str:
    return builds.get("sandbox").spec.tag


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory, pip_index_url: str) -> Path:
    """The two wheels of requirements-student.lock, downloaded by the host (from the images'
    index when one is given; the sandbox runs offline)."""
    folder = tmp_path_factory.mktemp("wheels")
    index = ["--index-url", pip_index_url] if pip_index_url else []
    run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "pip",
            "download",
            "--quiet",
            "--require-hashes",
            "--no-deps",
            "--only-binary",
            ":all:",
            *index,
            "--dest",
            str(folder),
            "-r",
            str(STUDENT_LOCK),
        ],
        timeout=300,
    )
    folder.chmod(0o755)
    for wheel in folder.iterdir():
        wheel.chmod(0o644)
    return folder


@dataclass
class SshServer:
    url: str  # as the sandbox sees it
    private_key: str
    known_hosts: str


def _git(*args: str, cwd: Path) -> None:
    ident = {
        "GIT_AUTHOR_NAME": "Teacher",
        "GIT_AUTHOR_EMAIL": "teacher@example.com",
        "GIT_COMMITTER_NAME": "Teacher",
        "GIT_COMMITTER_EMAIL": "teacher@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    run(["git", *args], timeout=60, env=ident, cwd=cwd)


@pytest.fixture(scope="module")
def ssh_server(
    network: str, run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SshServer]:
    """OpenSSH serving a bare repository `course.git` (with a requirements.txt) to the key pair
    made here; `git` on the test network."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed on the host (apt-get install openssh-client)")
    root = tmp_path_factory.mktemp("ssh")
    tag = "week-it-sshd:" + hashlib.sha256(SSHD_DOCKERFILE.encode()).hexdigest()[:12]
    if inspect("image", tag) is None:
        run(
            ["docker", "build", "--network", "host", "-t", tag, "-"],
            timeout=900,
            input_text=SSHD_DOCKERFILE,
        )
    keys = root / "keys"
    keys.mkdir()
    run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "student",
            "-f",
            str(keys / "student"),
        ],
        timeout=60,
    )
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / "host")], timeout=60)
    (keys / "authorized_keys").write_text((keys / "student.pub").read_text())
    work = root / "work"
    work.mkdir()
    (work / "README.md").write_text("# Course over ssh\n")
    (work / "requirements.txt").write_text(f"{REPO_WHEEL[0]}=={REPO_WHEEL[1]}\n")
    _git("init", "-q", "-b", "main", str(work), cwd=root)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "Week notebooks with requirements", cwd=work)
    bare = root / "course.git"
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=root)

    name = f"week-it-{run_id}-sshd"
    cmd = ["docker", "create", "--name", name, "--network", network, "--network-alias", "git"]
    cmd += [*labels(run_id), "--mount", f"type=bind,source={keys},target=/keys,readonly"]
    cmd += ["--mount", f"type=bind,source={bare},target=/home/git/course.git"]
    cmd += [tag, "/usr/sbin/sshd", "-D", "-e", "-o", "HostKey=/keys/host"]
    cmd += ["-o", "AuthorizedKeysFile=/keys/authorized_keys", "-o", "StrictModes=no"]
    cmd += ["-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no"]
    run(cmd, timeout=120)
    try:
        uid, gid = user_ids(name, "git")
        for path in [bare, *bare.rglob("*")]:
            os.chown(path, uid, gid, follow_symlinks=False)
        for path in keys.iterdir():  # sshd (root in its container) refuses a readable host key
            path.chmod(0o600 if path.name == "host" else 0o644)
        docker("start", name, timeout=120)
        host_key = (keys / "host.pub").read_text().split()
        yield SshServer(
            url="git@git:course.git",
            private_key=(keys / "student").read_text(),
            known_hosts=f"git {host_key[0]} {host_key[1]}",
        )
    finally:
        logs = run(["docker", "logs", "--tail", "20", name], timeout=60, check=False)
        print(f"sshd log:\n{logs.stdout}{logs.stderr}")
        run(["docker", "rm", "-f", name], timeout=120, check=False)


def gateway_of(network: str) -> tuple[str, str]:
    data = inspect("network", network)
    assert data is not None
    config = data["IPAM"]["Config"][0]
    return str(config["Gateway"]), str(config["Subnet"])


@pytest.fixture(scope="module")
def postgres_url(network: str) -> Iterator[str]:
    """A throw-away PostgreSQL cluster on the host, listening on the test network's gateway, with
    the course's students table; its URL as the sandbox sees it."""
    if find_pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries on the host (apt-get install postgresql)")
    gateway, subnet = gateway_of(network)
    with PostgresCluster(host=gateway, hba=[f"host all all {subnet} trust"]) as cluster:
        url = cluster.url()
        with psycopg.connect(url, autocommit=True) as conn:
            for script in sorted((DATABASE / "initdb").glob("*.sql")):
                conn.execute(script.read_text())
        yield url


def run_sandbox(
    image: str,
    network: str,
    run_id: str,
    env: dict[str, str],
    script: str,
    mounts: list[str],
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """One sandbox container: the entrypoint (identity, ssh key, clone, requirements), then bash
    running SCRIPT as the image's user; env values through the client's environment."""
    name = f"week-it-{run_id}-course-{secrets.token_hex(3)}"
    cmd = ["docker", "run", "--rm", "--name", name, "--network", network, *labels(run_id)]
    for mount in mounts:
        cmd += ["--mount", mount]
    full_env = {"JUPYTER_TOKEN": f"canary-jupyter-{secrets.token_hex(8)}", **env}
    for key in full_env:
        cmd += ["-e", key]
    cmd += [image, "bash", "-c", script]
    try:
        return run(cmd, timeout=timeout, env=full_env, check=False)
    finally:
        run(["docker", "rm", "-f", name], timeout=60, check=False)


@pytest.fixture(scope="module")
def course_run(
    sandbox_image: str,
    network: str,
    run_id: str,
    wheels: Path,
    ssh_server: SshServer,
    postgres_url: str,
) -> subprocess.CompletedProcess[str]:
    """The sandbox started as the week starts it, with the ssh key, DATABASE_URL and the
    repository given at run time; the script then does what a student would."""
    script = f"""
set -u
echo "user=$(id -un) cwd=$(pwd)"
echo "venv-owner=$(stat -c %U "$VIRTUAL_ENV")"
/usr/bin/python3 -m pip install {USER_WHEEL[0]} >/dev/null 2>&1 \
  && echo system-pip=allowed || echo system-pip=refused
pip install --quiet {USER_WHEEL[0]}=={USER_WHEEL[1]} && echo user-pip=ok
python -c 'import tabulate as t, colorama as c; print("imports=ok", t.__version__, c.__version__)'
git -C "$PWD" log -1 --format='clone-head=%s'
cat "$WORKSPACE/.sandbox-requirements.log" | tail -n 1
python /srv/database/crud.py list | tail -n 1
python - <<'PY'
import os, psycopg
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    print("psycopg=", conn.execute("select 40 + 2").fetchone()[0])
PY
ls -la ~/.ssh
"""
    env = {
        "GIT_REPO_URL": ssh_server.url,
        "GIT_SSH_KEY": ssh_server.private_key,
        "GIT_SSH_KNOWN_HOSTS": ssh_server.known_hosts,
        "DATABASE_URL": postgres_url,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "/wheels",
    }
    mounts = [
        f"type=bind,source={wheels},target=/wheels,readonly",
        f"type=bind,source={DATABASE},target=/srv/database,readonly",
    ]
    started = time.monotonic()
    done = run_sandbox(sandbox_image, network, run_id, env, script, mounts)
    print(f"sandbox course run ({time.monotonic() - started:.0f} s):\n{done.stdout}\n{done.stderr}")
    if done.returncode != 0:
        raise ImageTestError(f"the sandbox exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def lines_of(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and " " not in key:
            out[key] = value
    return out


def test_the_user_pip_installs_into_the_environment_it_owns(
    course_run: subprocess.CompletedProcess[str],
) -> None:
    seen = lines_of(course_run)
    assert seen["user"].startswith("student")
    assert seen["venv-owner"] == "student"
    assert seen["user-pip"] == "ok"
    assert seen["system-pip"] == "refused"  # PEP 668: the distribution's Python stays clean


def test_a_git_at_url_is_cloned_over_ssh_with_the_run_time_key(
    course_run: subprocess.CompletedProcess[str], ssh_server: SshServer
) -> None:
    assert "clone-head=Week notebooks with requirements" in course_run.stdout
    assert "ssh key for git set (/dev/shm/" in course_run.stderr
    assert "StrictHostKeyChecking=yes" in course_run.stderr
    key_marker = ssh_server.private_key.splitlines()[1]
    assert key_marker not in course_run.stdout + course_run.stderr


def test_the_clone_requirements_are_installed_at_start_and_jupyter_starts_at_the_clone(
    course_run: subprocess.CompletedProcess[str],
) -> None:
    assert "installing /home/student/workspace/course/requirements.txt" in course_run.stderr
    assert f"Successfully installed {REPO_WHEEL[0]}-{REPO_WHEEL[1]}" in course_run.stderr
    assert "imports=ok 0.10.0 0.4.6" in course_run.stdout
    assert "cwd=/home/student/workspace/course" in course_run.stdout


def test_psycopg_and_crud_reach_postgresql_through_database_url(
    course_run: subprocess.CompletedProcess[str],
) -> None:
    assert "psycopg= 42" in course_run.stdout
    assert "5 students" in course_run.stdout


def test_the_ssh_key_is_in_no_image_layer(sandbox_image: str) -> None:
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", sandbox_image)
    assert "PRIVATE KEY" not in history
    assert "GIT_SSH_KEY=" not in history.replace("GIT_SSH_KEY_FILE", "")


def test_a_failing_requirements_install_is_a_warning(
    sandbox_image: str, network: str, run_id: str, wheels: Path, ssh_server: SshServer
) -> None:
    env = {
        "GIT_REPO_URL": ssh_server.url,
        "GIT_SSH_KEY": ssh_server.private_key,
        "GIT_SSH_KNOWN_HOSTS": ssh_server.known_hosts,
        "PIP_NO_INDEX": "1",  # and no wheels: colorama cannot be found
    }
    done = run_sandbox(sandbox_image, network, run_id, env, "echo still-running", [])
    assert done.returncode == 0, done.stderr
    assert "still-running" in done.stdout
    warning = "sandbox: warning: pip install -r /home/student/workspace/course/requirements.txt"
    assert f"{warning} failed" in done.stderr

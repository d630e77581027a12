"""The sandbox entrypoint, run for real: bash, the machine's git, a temporary HOME, a local bare
repository as the remote (file:// and an authenticated HTTP server), and a stand-in for Jupyter
that records how it was started."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[1] / "entrypoint.sh"
GIT_TOKEN = "ghp_s3cr3t-t0ken-for-the-tests"
JUPYTER_TOKEN = "jupyter-token-for-the-tests"

# Stands in for Jupyter: records its arguments and where and with what it was started.
FAKE_JUPYTER = """\
import json, os, sys
with open(os.environ["FAKE_RECORD"], "w") as f:
    json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(),
               "port": os.environ.get("JUPYTER_PORT"),
               "workspace": os.environ.get("WORKSPACE")}, f)
"""


def git(*args: str, cwd: Path, home: Path | None = None) -> str:
    """Runs git without the machine's configuration; HOME decides which global one it reads."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home or cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Teacher",
        "GIT_AUTHOR_EMAIL": "teacher@example.org",
        "GIT_COMMITTER_NAME": "Teacher",
        "GIT_COMMITTER_EMAIL": "teacher@example.org",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass
class Remote:
    """A bare repository `course.git` and a scratch clone to push new commits with."""

    bare: Path
    scratch: Path

    def push(self, filename: str, content: str) -> str:
        (self.scratch / filename).write_text(content)
        git("add", filename, cwd=self.scratch)
        git("commit", "--quiet", "-m", f"add {filename}", cwd=self.scratch)
        git("push", "--quiet", "origin", "HEAD", cwd=self.scratch)
        git("update-server-info", cwd=self.bare)  # what the dumb-HTTP server serves
        return git("rev-parse", "HEAD", cwd=self.scratch)

    @property
    def url(self) -> str:
        return self.bare.as_uri()


@pytest.fixture
def remote(tmp_path_factory: pytest.TempPathFactory) -> Remote:
    root = tmp_path_factory.mktemp("remote")
    bare = root / "course.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=root)
    git("clone", "--quiet", str(bare), "scratch", cwd=root)
    repo = Remote(bare=bare, scratch=root / "scratch")
    repo.push("README.md", "# Course\n")
    return repo


@pytest.fixture
def http_remote(remote: Remote) -> Iterator[str]:
    """Serves the bare repository over git's dumb HTTP protocol, behind Basic authentication
    that accepts only GIT_TOKEN (as git sends it from the credential helper)."""
    expected = "Basic " + base64.b64encode(f"x-access-token:{GIT_TOKEN}".encode()).decode()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="course"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def translate_path(self, path: str) -> str:
            return str(remote.bare.parent / path.split("?", 1)[0].lstrip("/"))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/course.git"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Started:
    returncode: int
    output: str  # stdout and stderr together
    record: dict[str, Any] | None  # what the fake Jupyter saw, None when it never started


class Sandbox:
    """One container's worth of state: its HOME, and the record of the last start."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        self.record_path = root / "record.json"

    @property
    def workspace(self) -> Path:
        return self.home / "workspace"

    def start(
        self, command: Sequence[str], env: Mapping[str, str | None], path_prefix: Path | None = None
    ) -> Started:
        """Runs the entrypoint with `command` as its arguments; in `env`, None unsets a variable."""
        full_env: dict[str, str | None] = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "FAKE_RECORD": str(self.record_path),
            "JUPYTER_TOKEN": JUPYTER_TOKEN,
            "GIT_USER_NAME": "Ada Lovelace",
            "GIT_USER_EMAIL": "ada@example.org",
            **env,
        }
        if path_prefix is not None:
            full_env["PATH"] = f"{path_prefix}{os.pathsep}{full_env['PATH']}"
        self.record_path.unlink(missing_ok=True)
        done = subprocess.run(
            ["bash", str(ENTRYPOINT), *command],
            env={key: value for key, value in full_env.items() if value is not None},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
        )
        record = json.loads(self.record_path.read_text()) if self.record_path.exists() else None
        return Started(done.returncode, done.stdout, record)

    def start_fake_jupyter(self, **env: str | None) -> Started:
        return self.start([sys.executable, "-c", FAKE_JUPYTER], env)

    def global_git(self, *args: str) -> str:
        return git("config", "--global", *args, cwd=self.home, home=self.home)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def files_containing(root: Path, needle: str) -> list[Path]:
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes()
    ]


def test_configures_the_git_identity_and_clones_the_repository_into_the_workspace(
    sandbox: Sandbox, remote: Remote
) -> None:
    started = sandbox.start_fake_jupyter(GIT_REPO_URL=remote.url)

    assert started.returncode == 0, started.output
    assert sandbox.global_git("user.name") == "Ada Lovelace"
    assert sandbox.global_git("user.email") == "ada@example.org"
    clone = sandbox.workspace / "course"
    assert (clone / "README.md").read_text() == "# Course\n"
    assert git("remote", "get-url", "origin", cwd=clone) == remote.url
    assert started.record == {
        "argv": [],
        "cwd": str(clone),  # Jupyter (or the command) starts at the clone's root
        "port": "8000",
        "workspace": str(sandbox.workspace),
    }


def test_starts_jupyter_notebook_in_the_workspace_by_default(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    jupyter = bin_dir / "jupyter"
    jupyter.write_text(f"#!{sys.executable}\n{FAKE_JUPYTER}")
    jupyter.chmod(0o755)

    started = sandbox.start([], {}, path_prefix=bin_dir)

    assert started.returncode == 0, started.output
    assert "GIT_REPO_URL is not set, nothing to clone" in started.output
    assert started.record is not None
    assert started.record["argv"] == ["notebook", f"--ServerApp.root_dir={sandbox.workspace}"]


def test_honours_a_custom_workspace_and_port(
    sandbox: Sandbox, remote: Remote, tmp_path: Path
) -> None:
    workspace = tmp_path / "elsewhere" / "work"

    started = sandbox.start_fake_jupyter(
        WORKSPACE=str(workspace), JUPYTER_PORT="8123", GIT_REPO_URL=remote.url + "/"
    )

    assert started.returncode == 0, started.output
    assert (workspace / "course" / "README.md").is_file()
    assert started.record is not None
    assert started.record["cwd"] == str(workspace / "course")
    assert started.record["port"] == "8123"


def test_leaves_an_existing_clone_alone(sandbox: Sandbox, remote: Remote) -> None:
    assert sandbox.start_fake_jupyter(GIT_REPO_URL=remote.url).returncode == 0
    clone = sandbox.workspace / "course"
    first_head = git("rev-parse", "HEAD", cwd=clone)
    (clone / "README.md").write_text("# Course\n\nmy notes, not committed\n")
    remote.push("later.md", "pushed after the first start\n")

    started = sandbox.start_fake_jupyter(GIT_REPO_URL=remote.url)

    assert started.returncode == 0, started.output
    assert "already a clone, leaving it as it is" in started.output
    assert (clone / "README.md").read_text() == "# Course\n\nmy notes, not committed\n"
    assert git("rev-parse", "HEAD", cwd=clone) == first_head
    assert not (clone / "later.md").exists()
    assert started.record is not None


def test_does_not_clone_into_an_existing_folder_that_is_not_a_repository(
    sandbox: Sandbox, remote: Remote
) -> None:
    folder = sandbox.workspace / "course"
    folder.mkdir(parents=True)
    (folder / "draft.txt").write_text("mine\n")

    started = sandbox.start_fake_jupyter(GIT_REPO_URL=remote.url)

    assert started.returncode == 0, started.output
    assert "exists and is not a git repository, not cloning into it" in started.output
    assert sorted(path.name for path in folder.iterdir()) == ["draft.txt"]
    assert started.record is not None


@pytest.mark.parametrize("token", ["", "   ", None], ids=["empty", "blank", "unset"])
def test_refuses_to_start_without_a_jupyter_token(sandbox: Sandbox, token: str | None) -> None:
    started = sandbox.start_fake_jupyter(JUPYTER_TOKEN=token)

    assert started.returncode != 0
    assert "error: JUPYTER_TOKEN is empty or not set" in started.output
    assert "never runs without authentication" in started.output
    assert started.record is None


@pytest.mark.parametrize(
    ("name", "email", "missing"),
    [("", "ada@example.org", "GIT_USER_NAME"), ("Ada", None, "GIT_USER_EMAIL")],
)
def test_refuses_to_start_without_a_git_identity(
    sandbox: Sandbox, name: str, email: str | None, missing: str
) -> None:
    started = sandbox.start_fake_jupyter(GIT_USER_NAME=name, GIT_USER_EMAIL=email)

    assert started.returncode != 0
    assert f"error: {missing} is empty or not set" in started.output
    assert started.record is None
    assert not (sandbox.home / ".gitconfig").exists()


@pytest.mark.parametrize("port", ["http", "0", "65536", "-1"])
def test_refuses_a_port_that_is_not_a_port_number(sandbox: Sandbox, port: str) -> None:
    started = sandbox.start_fake_jupyter(JUPYTER_PORT=port)

    assert started.returncode != 0
    assert f"JUPYTER_PORT must be a port number between 1 and 65535, got '{port}'" in (
        started.output
    )
    assert started.record is None


def test_a_failing_clone_is_a_warning_and_jupyter_still_starts(
    sandbox: Sandbox, http_remote: str
) -> None:
    started = sandbox.start_fake_jupyter(GIT_REPO_URL=http_remote)  # no GIT_TOKEN: 401

    assert started.returncode == 0, started.output
    assert f"warning: could not clone {http_remote}" in started.output
    assert "Jupyter starts without it" in started.output
    assert not (sandbox.workspace / "course").exists()
    assert started.record is not None


def test_git_token_is_served_from_the_environment_and_never_stored(
    sandbox: Sandbox, http_remote: str
) -> None:
    started = sandbox.start_fake_jupyter(GIT_REPO_URL=http_remote, GIT_TOKEN=GIT_TOKEN)

    assert started.returncode == 0, started.output
    clone = sandbox.workspace / "course"
    assert (clone / "README.md").read_text() == "# Course\n"
    assert git("remote", "get-url", "origin", cwd=clone) == http_remote
    assert GIT_TOKEN not in started.output
    assert files_containing(sandbox.root, GIT_TOKEN) == []
    origin = http_remote.removesuffix("/course.git")
    helpers = sandbox.global_git("--name-only", "--get-regexp", r"^credential\.")
    assert helpers.splitlines() == [f"credential.{origin}.helper"]
    assert started.record is not None


def test_a_start_without_git_token_forgets_the_credential_helper(
    sandbox: Sandbox, http_remote: str, remote: Remote
) -> None:
    assert sandbox.start_fake_jupyter(GIT_REPO_URL=http_remote, GIT_TOKEN=GIT_TOKEN).returncode == 0

    started = sandbox.start_fake_jupyter(GIT_REPO_URL=remote.url)

    assert started.returncode == 0, started.output
    assert "credential" not in (sandbox.home / ".gitconfig").read_text()


@pytest.mark.parametrize(
    "url",
    [
        "https://student:hunter2@git.example.invalid/course.git",
        "https://hunter2@git.example.invalid/course.git",
        "ssh://student:hunter2@git.example.invalid/course.git",
    ],
    ids=["https-password", "https-token-as-user", "ssh-password"],
)
def test_refuses_to_clone_a_url_that_carries_credentials(sandbox: Sandbox, url: str) -> None:
    started = sandbox.start_fake_jupyter(GIT_REPO_URL=url)

    assert started.returncode == 0, started.output
    assert "GIT_REPO_URL carries credentials, not cloning it" in started.output
    assert "hunter2" not in started.output
    assert not (sandbox.workspace / "course").exists()
    assert started.record is not None


# --------------------------------------------------------------------------- course week (TP2-TP5)

# Stands in for the venv's python: records `python -m pip install ...`, fails when asked to.
FAKE_PYTHON = """\
import json, os, sys
with open(os.environ["FAKE_PIP_RECORD"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
print("Successfully installed tiny-1.0" if os.environ.get("FAKE_PIP_FAIL") != "1" else "boom")
sys.exit(1 if os.environ.get("FAKE_PIP_FAIL") == "1" else 0)
"""


def fake_python(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"
    python.write_text(f"#!{sys.executable}\n{FAKE_PYTHON}")
    python.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("fail", [False, True], ids=["installed", "pip-fails"])
def test_the_clone_requirements_are_installed_at_start_and_a_failure_is_a_warning(
    sandbox: Sandbox, remote: Remote, tmp_path: Path, fail: bool
) -> None:
    remote.push("requirements.txt", "tiny==1.0\n")
    record = tmp_path / "pip.jsonl"
    bin_dir = fake_python(tmp_path)
    env = {"GIT_REPO_URL": remote.url, "FAKE_PIP_RECORD": str(record)}
    if fail:
        env["FAKE_PIP_FAIL"] = "1"
    started = sandbox.start(["true"], env, path_prefix=bin_dir)
    assert started.returncode == 0, started.output
    assert "installing" in started.output
    assert "requirements.txt" in started.output
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    clone = sandbox.workspace / "course"
    assert calls[0] == {
        "argv": [
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            "requirements.txt",
        ],
        "cwd": str(clone),
    }
    log = (sandbox.workspace / ".sandbox-requirements.log").read_text()
    if fail:
        assert "sandbox: warning: pip install -r" in started.output
        assert "boom" in log
        assert "sandbox:   boom" in started.output
    else:
        assert "requirements.txt installed: Successfully installed tiny-1.0" in started.output


def test_requirements_can_be_skipped_and_are_not_looked_for_without_a_clone(
    sandbox: Sandbox, remote: Remote, tmp_path: Path
) -> None:
    remote.push("requirements.txt", "tiny==1.0\n")
    record = tmp_path / "pip.jsonl"
    started = sandbox.start_fake_jupyter(
        GIT_REPO_URL=remote.url, INSTALL_REQUIREMENTS="0", FAKE_PIP_RECORD=str(record)
    )
    assert started.returncode == 0, started.output
    assert "INSTALL_REQUIREMENTS=0: not installing" in started.output
    assert not record.exists()


SSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-canary-1234\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


@pytest.mark.parametrize("given", ["env", "file"])
def test_the_ssh_key_is_given_at_run_time_and_kept_out_of_home_and_workspace(
    sandbox: Sandbox, tmp_path: Path, given: str
) -> None:
    env: dict[str, str | None] = {"GIT_SSH_KNOWN_HOSTS": "git.example.org ssh-ed25519 AAAA"}
    if given == "env":
        env["GIT_SSH_KEY"] = SSH_KEY
    else:
        key_file = tmp_path / "mounted-key"
        key_file.write_text(SSH_KEY + "\n")
        key_file.chmod(0o444)  # a read-only mount: ssh would refuse a key others can read
        env["GIT_SSH_KEY_FILE"] = str(key_file)
    started = sandbox.start([sys.executable, "-c", FAKE_JUPYTER], env)
    assert started.returncode == 0, started.output
    command = sandbox.global_git("core.sshCommand")
    assert "-o IdentitiesOnly=yes" in command
    assert "StrictHostKeyChecking=yes" in command
    key_path = Path(command.split("-i ", 1)[1].split(" ", 1)[0])
    try:
        assert key_path.read_text() == SSH_KEY + "\n"
        assert key_path.stat().st_mode & 0o777 == 0o600
        assert not files_containing(sandbox.home, "not-a-real-key-canary")
        assert "not-a-real-key-canary" not in started.output
        known = (sandbox.home / ".ssh" / "known_hosts").read_text()
        assert known == "git.example.org ssh-ed25519 AAAA\n"
    finally:
        key_path.unlink(missing_ok=True)


def test_an_unreadable_ssh_key_file_is_a_warning(sandbox: Sandbox, tmp_path: Path) -> None:
    started = sandbox.start_fake_jupyter(GIT_SSH_KEY_FILE=str(tmp_path / "absent"))
    assert started.returncode == 0, started.output
    assert "GIT_SSH_KEY_FILE" in started.output
    assert "is not readable" in started.output


def test_without_known_hosts_the_host_key_is_accepted_on_first_use(sandbox: Sandbox) -> None:
    started = sandbox.start_fake_jupyter(GIT_SSH_KEY=SSH_KEY)
    assert started.returncode == 0, started.output
    command = sandbox.global_git("core.sshCommand")
    assert "StrictHostKeyChecking=accept-new" in command
    Path(command.split("-i ", 1)[1].split(" ", 1)[0]).unlink()


def test_an_ssh_remote_is_cloned_with_the_key(
    sandbox: Sandbox, remote: Remote, tmp_path: Path
) -> None:
    """git@host:path goes through core.sshCommand: a stand-in ssh serves the bare repository."""
    bin_dir = tmp_path / "sshbin"
    bin_dir.mkdir()
    log = tmp_path / "ssh.log"
    ssh = bin_dir / "ssh"
    ssh.write_text(
        f'#!/bin/bash\necho "$@" >> {log}\ncmd="${{@: -1}}"\nexec git-upload-pack {remote.bare}\n'
    )
    ssh.chmod(0o755)
    started = sandbox.start(
        [sys.executable, "-c", FAKE_JUPYTER],
        {"GIT_SSH_KEY": SSH_KEY, "GIT_REPO_URL": "git@git.example.org:teacher/course.git"},
        path_prefix=bin_dir,
    )
    assert started.returncode == 0, started.output
    assert (sandbox.workspace / "course" / "README.md").read_text() == "# Course\n"
    args = log.read_text()
    assert "-i " in args
    assert "git@git.example.org" in args
    assert "teacher/course.git" in args
    command = sandbox.global_git("core.sshCommand")
    Path(command.split("-i ", 1)[1].split(" ", 1)[0]).unlink()

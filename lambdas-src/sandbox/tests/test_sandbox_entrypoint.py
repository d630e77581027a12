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
        "cwd": str(sandbox.workspace),
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
    assert started.record["cwd"] == str(workspace)
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

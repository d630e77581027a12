"""The sandbox's Jupyter configuration: executed with a stand-in for traitlets' config object, and
once with a real Jupyter Notebook behind the real entrypoint where requirements.txt is installed."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from week_testkit.ports import free_port

SANDBOX = Path(__file__).resolve().parents[1]
CONFIG = SANDBOX / "jupyter_server_config.py"


class FakeConfig:
    """Enough of traitlets' Config for `c.Section.option = value`."""

    def __init__(self) -> None:
        self.sections: dict[str, SimpleNamespace] = {}

    def __getattr__(self, name: str) -> SimpleNamespace:
        return self.sections.setdefault(name, SimpleNamespace())


def load_config(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> dict[str, dict[str, object]]:
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    config = FakeConfig()
    runpy.run_path(str(CONFIG), init_globals={"get_config": lambda: config})
    return {name: vars(section) for name, section in config.sections.items()}


def test_serves_on_all_interfaces_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(
        monkeypatch, JUPYTER_TOKEN="t0ken", JUPYTER_PORT=None, JUPYTER_BASE_URL=None
    )

    assert config == {
        "IdentityProvider": {"token": "t0ken"},
        "PasswordIdentityProvider": {"allow_password_change": False, "hashed_password": ""},
        "ServerApp": {
            "ip": "0.0.0.0",
            "port": 8000,
            "port_retries": 0,
            "allow_remote_access": True,
            "open_browser": False,
            "base_url": "/",
            "trust_xheaders": False,
        },
    }


def test_reads_the_port_from_jupyter_port(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(monkeypatch, JUPYTER_TOKEN="t0ken", JUPYTER_PORT="8123")

    assert config["ServerApp"]["port"] == 8123


def test_serves_under_the_base_url_the_class_proxy_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(monkeypatch, JUPYTER_TOKEN="t0ken", JUPYTER_BASE_URL="/alice/")

    assert config["ServerApp"]["base_url"] == "/alice/"
    assert config["ServerApp"]["trust_xheaders"] is True


@pytest.mark.parametrize("base_url", ["alice/", "/alice", "/Alice/", "/../"])
def test_refuses_a_base_url_that_is_not_a_path_of_segments(
    monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    with pytest.raises(SystemExit, match="JUPYTER_BASE_URL must be"):
        load_config(monkeypatch, JUPYTER_TOKEN="t0ken", JUPYTER_BASE_URL=base_url)


@pytest.mark.parametrize("token", ["", "  ", None], ids=["empty", "blank", "unset"])
def test_refuses_to_configure_a_server_without_a_token(
    monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    with pytest.raises(SystemExit, match="JUPYTER_TOKEN is empty or not set"):
        load_config(monkeypatch, JUPYTER_TOKEN=token)


@pytest.mark.parametrize("port", ["http", "0", "65536"])
def test_refuses_a_port_that_is_not_a_port_number(
    monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    with pytest.raises(SystemExit, match="JUPYTER_PORT must be a port number"):
        load_config(monkeypatch, JUPYTER_TOKEN="t0ken", JUPYTER_PORT=port)


def http_status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def test_real_jupyter_notebook_answers_only_with_the_token(tmp_path: Path) -> None:
    pytest.importorskip("notebook", reason="the sandbox's requirements.txt is not installed")
    config_dir = tmp_path / "etc-jupyter"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(CONFIG.read_text())
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    command = [sys.executable, "-m", "jupyter", "notebook"]
    if os.geteuid() == 0:  # the image runs as a user; a root CI machine needs the override
        command.append("--allow-root")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "JUPYTER_CONFIG_PATH": str(config_dir),
        "JUPYTER_TOKEN": "real-jupyter-token",
        "JUPYTER_PORT": str(port),
        "GIT_USER_NAME": "Ada",
        "GIT_USER_EMAIL": "ada@example.org",
    }
    server = subprocess.Popen(
        ["bash", str(SANDBOX / "entrypoint.sh"), *command, f"--ServerApp.root_dir={home}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    status_url = f"http://127.0.0.1:{port}/api/status"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "jupyter exited during start-up"
            try:
                anonymous = http_status(status_url)
                break
            except OSError:
                assert time.monotonic() < deadline, "jupyter did not answer within 60 s"
                time.sleep(0.3)
        assert anonymous == 403
        assert http_status(status_url, token="wrong") == 403
        assert http_status(status_url, token="real-jupyter-token") == 200
    finally:
        server.terminate()
        server.wait(timeout=30)

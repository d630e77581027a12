"""The classroom bench's baseline without Docker: its hub and its image install the same
jupyterhub, and the hub's configuration loads from the environment the bench gives it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bench import b_classroom_jupyterhub as jhub
from bench.common import BenchError


def test_the_hub_and_the_image_lock_the_version_their_inputs_pin() -> None:
    pinned = re.search(
        r"^jupyterhub==(\S+)", (jhub.HERE / "requirements.in").read_text(), re.MULTILINE
    )
    assert pinned is not None
    assert jhub.hub_version() == pinned.group(1)


def test_a_lock_without_jupyterhub_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jhub, "ROOT", tmp_path)
    lock = tmp_path / "requirements.lock"
    lock.write_text("dockerspawner==14.0.0 \\\n    --hash=sha256:00\n")
    with pytest.raises(BenchError, match=r"requirements.lock pins no jupyterhub"):
        jhub.jupyterhub_pin(lock)
    lock.write_text("jupyterhub==5.5.4 \\\n    --hash=sha256:00\n")
    assert jhub.jupyterhub_pin(lock) == "5.5.4"


class _Config:
    """traitlets' Config as a configuration file sees it: sections made on first use (traitlets
    is the hub's, not the test venv's)."""

    def __getattr__(self, name: str) -> Any:
        section = _Config()
        setattr(self, name, section)
        return section


def test_the_hub_configuration_reads_the_bench_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = {
        "BENCH_JHUB_WORK": "/tmp/w",
        "BENCH_JHUB_PREFIX": "jhub-bench-abc",
        "BENCH_JHUB_PORT": "18000",
        "BENCH_JHUB_HUB_IP": "172.30.0.1",
        "BENCH_JHUB_HUB_PORT": "18001",
        "BENCH_JHUB_PROXY_API_PORT": "18002",
        "BENCH_JHUB_CHP": "/x/configurable-http-proxy",
        "BENCH_JHUB_TOKEN": "t" * 64,
        "BENCH_JHUB_IMAGE": "week-bench-jupyterhub-sandbox:abc",
        "BENCH_JHUB_NETWORK": "jhub-bench-abc",
        "BENCH_JHUB_MEM_LIMIT_MIB": "2048",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    c = _Config()
    exec((jhub.HERE / "jupyterhub_config.py").read_text(), {"get_config": lambda: c})  # noqa: S102
    assert c.JupyterHub.bind_url == "http://127.0.0.1:18000"
    assert (
        c.DockerSpawner.name_template.format(
            prefix=c.DockerSpawner.prefix, username="u00"
        )
        == "jhub-bench-abc-u00"
    )
    assert c.DockerSpawner.mem_limit == 2048 * 2**20
    assert c.JupyterHub.services == [{"name": "bench", "api_token": "t" * 64}]
    # the token is for the bench's service only, never in a file the hub writes
    assert "t" * 64 not in (jhub.HERE / "jupyterhub_config.py").read_text()

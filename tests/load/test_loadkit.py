"""The load tests' own helpers on canned input: the slope, the settings. These need neither wrk
nor PostgreSQL (wrk's output is read by week_testkit, tested in tests/support)."""

from __future__ import annotations

import re

import pytest

from loadkit import MIB, LoadSettings, slope_per_minute


def test_slope_is_in_bytes_per_minute() -> None:
    rising = [(float(t), 100 * MIB + t * MIB) for t in range(30)]  # 1 MiB a second
    assert slope_per_minute(rising) == pytest.approx(60 * MIB)
    flat = [(float(t), 100 * MIB + (MIB if t % 2 else 0)) for t in range(30)]
    assert abs(slope_per_minute(flat)) < 2 * MIB
    with pytest.raises(ValueError):
        slope_per_minute(rising[:1])


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "3601"])
def test_load_seconds_must_be_a_whole_number_in_range(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LOAD_SECONDS", value)
    with pytest.raises(ValueError, match=rf"LOAD_SECONDS must be .* got {re.escape(repr(value))}"):
        LoadSettings.from_env()


def test_fault_seconds_needs_room_for_the_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_SECONDS", "5")
    with pytest.raises(ValueError, match=r"FAULT_SECONDS must be .* between 10 and 3600"):
        LoadSettings.from_env()


def test_defaults_are_a_minute_of_load_and_twenty_seconds_of_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOAD_SECONDS", raising=False)
    monkeypatch.delenv("FAULT_SECONDS", raising=False)
    settings = LoadSettings.from_env()
    assert (settings.load_seconds, settings.fault_seconds) == (60, 20)
    assert (settings.connections, settings.threads, settings.warmup_seconds) == (32, 2, 15)

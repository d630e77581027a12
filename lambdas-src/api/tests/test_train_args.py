"""ml/train.args: one `--option=value` per line, so that no value is read as an option or a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml import algo

API = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "column", ["@FILE", "@/etc/passwd", "-x", "--algorithm", "--data=evil.csv"]
)
def test_a_value_starting_with_at_or_dash_is_taken_literally(
    tmp_path: Path, column: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file the value would name if argparse read it as @FILE: it must not be opened.
    (tmp_path / "FILE").write_text("--algorithm\nfast\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args_file = tmp_path / "train.args"
    args_file.write_text(
        f"--data=ml/data/sample.csv\n--text-column={column}\n--label-column={column}\n"
        "--algorithm=course\n--class-weight=none\n",
        encoding="utf-8",
    )
    args = algo.parse_args([f"@{args_file}"])
    assert args.text_column == column
    assert args.label_column == column
    assert args.algorithm == "course"
    assert args.data == Path("ml/data/sample.csv")


def test_the_committed_options_use_the_option_equals_value_form() -> None:
    lines = (API / "ml" / "train.args").read_text(encoding="utf-8").splitlines()
    assert lines and all(line.startswith("--") and "=" in line for line in lines)
    args = algo.parse_args([f"@{API / 'ml' / 'train.args'}"])
    assert (args.data, args.algorithm, args.class_weight) == (
        Path("ml/data/sample.csv"),
        "course",
        "none",
    )

"""The results table: printed after a run, and written into README.md between markers."""

from __future__ import annotations

from typing import Any

from bench.common import ROOT

START = "<!-- bench:table:start (npm run bench writes this table from bench/results.json) -->"
END = "<!-- bench:table:end -->"


def _fig(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _line(text: str, limit: int = 300) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def rows_of(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        if r.get("skipped"):
            rows.append(
                [
                    r["name"],
                    r["unit"],
                    "-",
                    "-",
                    "-",
                    "-",
                    f"skipped: {_line(r['skipped'])}",
                ]
            )
            continue
        note = []
        if "p99_ms" in r:
            note.append(
                f"p99 {_fig(r['p99_ms']['ours'])} vs {_fig(r['p99_ms']['baseline'])} ms"
            )
        if "errors" in r:
            note.append(f"errors {_fig(r['errors']['ours'])}")
        if "macro_f1" in r:
            note.append(
                f"macro-F1 {_fig(r['macro_f1']['ours'])} vs {_fig(r['macro_f1']['baseline'])}"
            )
        if r.get("status") not in (None, "ok"):
            note.append(f"status: {r['status']}")
        if r.get("note"):
            note.append(_line(r["note"]))
        if "goal" in r:
            met = {True: "met", False: "NOT met", None: "n/a"}[r.get("met")]
            note.append(f"goal {r['goal']}: {met}")
        ratio = r.get("ratio")
        rows.append(
            [
                r["name"],
                r["unit"],
                f"{_fig(r['baseline']['figure'])} ({r['baseline']['name']})",
                _fig(r["ours"]),
                "-" if ratio is None else f"{ratio:.2f}x",
                str(r["runs"]),
                "; ".join(note),
            ]
        )
    return rows


HEADER = ["benchmark", "unit", "baseline", "ours", "ratio", "runs", "notes"]


def table(results: list[dict[str, Any]]) -> str:
    rows = [HEADER] + rows_of(results)
    widths = [min(60, max(len(r[i]) for r in rows)) for i in range(len(HEADER) - 1)]
    lines = []
    for row in rows:
        cells = [c[:60].ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join(cells + [row[-1]]))
    return "\n".join(lines)


def markdown(document: dict[str, Any]) -> str:
    m = document.get("machine", {})
    lines = [
        (
            f"Measured {m.get('date', '?')} on {m.get('cpu', '?')} ({m.get('cores', '?')} cores, "
            f"{m.get('memory_gb', '?')} GB, {m.get('os', '?')}; node {m.get('node', '?')}, "
            f"{m.get('python', '?')}, Docker storage {m.get('docker_storage_driver', '?')}; load average "
            f"at start {m.get('load_average_at_start', '?')}). Ratio: times better than the baseline (>1: ours better)."
        ),
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---" for _ in HEADER) + " |",
    ]
    for row in rows_of(document.get("results", [])):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def update_readme(document: dict[str, Any]) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{markdown(document)}\n{END}{tail}")

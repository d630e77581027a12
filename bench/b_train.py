"""train: the fast pipeline against the course pipeline on the course data set (ml/algo.py, as
a user runs it), fit time and macro-F1 on one held-out test set. The course pipeline is run on
a series of growing subsets within a time bound and extrapolated to the whole set (a power law
fitted on the series); the fast one runs on the whole set."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from bench.common import (
    SAMPLE_CSV,
    Size,
    course_data_available,
    goal,
    load_pipeline,
    log,
    median,
    read_course_rows,
    result,
    train_model,
    write_csv,
)

COURSE_SERIES = (1000, 2000, 4000, 8000)  # rows given to algo.py (it holds out 20%)
COURSE_BOUND_S = 240.0  # total fit time the course series may use
TEST_ROWS = 2500


def macro_f1(model: Path, texts: list[str], labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, load_pipeline(model).predict(texts), average="macro"))


def split(
    rows: list[tuple[str, str]], test_rows: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        rows, test_size=0.2, stratify=[r[1] for r in rows], random_state=42
    )
    if len(test) > test_rows:
        test, _ = train_test_split(
            test, train_size=test_rows, stratify=[r[1] for r in test], random_state=42
        )
    return list(train), list(test)


def subset(rows: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    from sklearn.model_selection import train_test_split

    if n >= len(rows):
        return rows
    part, _ = train_test_split(
        rows, train_size=n, stratify=[r[1] for r in rows], random_state=7
    )
    return list(part)


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    work = size.work / "train"
    work.mkdir(exist_ok=True)
    if size.tiny or not course_data_available():
        with SAMPLE_CSV.open(newline="", encoding="utf-8") as handle:
            rows = [
                (r["text"], r["label"])
                for r in csv.DictReader(handle)
                if any(c.isalpha() for c in r["text"] or "") and r["label"]
            ]
        rows = list({t.casefold(): (t, lab) for t, lab in rows}.values())
        source = "sample data" + (
            " (course data absent)" if not course_data_available() else ""
        )
        series: tuple[int, ...] = (len(rows),)
        fast_runs = 1
    else:
        rows = read_course_rows()
        source = f"course data ({len(rows)} tweets)"
        series = COURSE_SERIES
        fast_runs = 3
    train_rows, test = split(rows, TEST_ROWS)
    test_texts = [" ".join(t.split()) for t, _ in test]
    test_labels = [lab for _, lab in test]
    out: list[dict[str, Any]] = []

    # the course pipeline on growing subsets, each beside the fast one on the same rows
    points: list[tuple[int, float]] = []
    spent = 0.0
    stopped = None
    for n in series:
        if points and spent + _predict(points, n) > COURSE_BOUND_S:
            stopped = f"stopped before {n} rows: predicted to pass the {COURSE_BOUND_S:.0f} s bound"
            break
        data = write_csv(subset(train_rows, n), work / f"train-{n}.csv")
        fast = train_model("fast", data, work / f"fast-{n}.joblib")
        course = train_model(
            "course", data, work / f"course-{n}.joblib", timeout=COURSE_BOUND_S * 2
        )
        n_fit = int(course.get("train_rows", n))
        course_s = _fit_seconds(course)
        spent += course_s
        points.append((n_fit, course_s))
        f1 = {
            "baseline": round(
                macro_f1(work / f"course-{n}.joblib", test_texts, test_labels), 4
            ),
            "ours": round(
                macro_f1(work / f"fast-{n}.joblib", test_texts, test_labels), 4
            ),
        }
        log(
            f"train {n_fit} rows: course {course_s:.2f} s F1 {f1['baseline']}, fast {_fit_seconds(fast):.2f} s "
            f"F1 {f1['ours']}"
        )
        row = result(
            f"train-{n_fit}-rows",
            "s",
            "course pipeline (SVC probability=True)",
            course_s,
            _fit_seconds(fast),
            higher_is_better=False,
            runs=1,
            macro_f1=f1,
            train_rows=n_fit,
            test_rows=len(test),
            data=source,
        )
        row.update(
            goal(
                "macro-F1 at most 1 point below the course pipeline's",
                f1["ours"] >= f1["baseline"] - 0.01,
            )
        )
        out.append(row)

    # the fast pipeline on the whole training part
    data = write_csv(train_rows, work / "train-all.csv")
    fits: list[float] = []
    f1_fast = 0.0
    n_all = len(train_rows)
    for i in range(fast_runs):
        meta = train_model("fast", data, work / "fast-all.joblib")
        fits.append(_fit_seconds(meta))
        n_all = int(meta.get("train_rows", n_all))
        if i == 0:
            f1_fast = macro_f1(work / "fast-all.joblib", test_texts, test_labels)
    fast_s = median(fits)
    extrapolated = _predict(points, n_all) if len(points) >= 2 else None
    how = (
        (
            f"extrapolated from the course pipeline's fit times on {', '.join(str(n) for n, _ in points)} rows "
            f"(power law through the last two, exponent {_exponent(points):.2f})"
        )
        if extrapolated
        else "not run"
    )
    log(
        f"train whole set ({n_all} rows): fast {fast_s:.2f} s F1 {f1_fast:.4f}; course {how}: "
        f"{extrapolated or 0:.0f} s"
    )
    row = result(
        "train-whole-set",
        "s",
        f"course pipeline, {how}",
        extrapolated,
        fast_s,
        higher_is_better=False,
        runs=fast_runs,
        train_rows=n_all,
        test_rows=len(test),
        data=source,
        macro_f1={"baseline": None, "ours": round(f1_fast, 4)},
        all_fast_fits=[round(f, 3) for f in fits],
        course_series=[{"train_rows": n, "fit_s": round(s, 2)} for n, s in points],
        note=(
            (stopped + "; " if stopped else "")
            + "the extrapolation is a lower bound (the course pipeline's exponent grows with the size); "
            "the issue measured it at 643 s on the whole set"
        ),
    )
    row.update(goal("fast pipeline fits the whole set in under 5 s", fast_s < 5.0))
    out.append(row)
    return out


def _fit_seconds(metadata: dict[str, Any]) -> float:
    from bench import invocations as inv

    fit = inv.train_seconds(metadata)
    return fit if fit is not None else float(metadata["wall_seconds"])


def _exponent(points: list[tuple[int, float]]) -> float:
    """The growth exponent of the last two points: the course pipeline's grows with the size
    (a least-squares fit over the whole series under-estimated the whole set by half)."""
    points = points[-2:]
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(s, 1e-3)) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return (
        sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den
        if den
        else 1.0
    )


def _predict(points: list[tuple[int, float]], n: int) -> float:
    """Fit time at N rows from the series: a power law through the last point, with the
    exponent of the last two."""
    if not points:
        return 0.0
    b = _exponent(points) if len(points) >= 2 else 2.0
    n0, s0 = points[-1]
    return s0 * (n / n0) ** b

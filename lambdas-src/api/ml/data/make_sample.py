"""Write the three-class sample data set (sport, tech, politics) used by ml/algo.py.

The texts are short English sentences composed from hand-written fragments, so the set is
original to this project and reproducible: the same seed and row count give the same file.

    python -m ml.data.make_sample                      # rewrites ml/data/sample.csv
    python -m ml.data.make_sample --rows 5000 --clean --label-noise 0.1 --out /tmp/bench.csv

By default a handful of dirty rows (empty, numeric-only, duplicated, unlabelled) are appended
so that the cleaning step of ml/algo.py has something to report; --clean leaves them out.
The fragments make the classes separable; --label-noise relabels that fraction of the rows at
random, which makes the set harder (and the course's SVC much slower), like real data.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

SAMPLE_PATH = Path(__file__).resolve().parent / "sample.csv"

FRAGMENTS: dict[str, dict[str, list[str]]] = {
    "sport": {
        "subject": [
            "The home team",
            "Our striker",
            "The veteran goalkeeper",
            "The young sprinter",
            "The national rugby side",
            "The tennis champion",
            "The cycling squad",
            "The basketball coach",
            "The marathon runner",
            "The visiting club",
            "The captain",
            "The swimming relay team",
            "The boxing contender",
            "The ski jumper",
            "The league leaders",
        ],
        "action": [
            "won the final",
            "scored twice in the second half",
            "broke the stadium record",
            "lost on penalties",
            "signed a three-year contract",
            "qualified for the world cup",
            "set a new personal best on the track",
            "was injured during training",
            "climbed to the top of the league table",
            "missed the decisive free kick",
            "defended the championship title",
            "beat their rivals in extra time",
            "took the gold medal",
            "drew the derby after a late equaliser",
        ],
        "tail": [
            "in front of a sold-out crowd.",
            "after a tense match on Sunday.",
            "and the fans celebrated all night.",
            "according to the referee's report.",
            "before the end of the season.",
            "in the tournament semi-final.",
            "at the Olympic trials.",
            "despite heavy rain on the pitch.",
            "during the away game.",
            "while the manager watched from the bench.",
        ],
    },
    "tech": {
        "subject": [
            "The startup",
            "A new smartphone",
            "The open source project",
            "The chip maker",
            "Our cloud provider",
            "The software update",
            "The browser team",
            "A research lab",
            "The robotics company",
            "The database vendor",
            "The laptop manufacturer",
            "The social network",
            "The security researchers",
            "The game studio",
            "The app developers",
        ],
        "action": [
            "released a faster processor",
            "shipped a patch for a critical bug",
            "launched a cheaper subscription plan",
            "open-sourced its machine learning library",
            "announced a battery that charges in minutes",
            "moved its servers to a new data centre",
            "fixed a memory leak in the kernel driver",
            "unveiled a foldable screen",
            "added end-to-end encryption to messages",
            "cut the latency of its API by half",
            "published a new version of the compiler",
            "recalled overheating chargers",
            "trained a larger language model",
            "doubled the storage of its cheapest device",
        ],
        "tail": [
            "for developers and early adopters.",
            "after months of beta testing.",
            "according to the company's engineering blog.",
            "ahead of the annual hardware conference.",
            "and the download servers were overloaded.",
            "to compete with rival platforms.",
            "with support for older operating systems.",
            "after a security audit of the code.",
            "as users complained about slow updates.",
            "in a livestreamed product keynote.",
        ],
    },
    "politics": {
        "subject": [
            "The prime minister",
            "The opposition leader",
            "The senate",
            "The city council",
            "The finance minister",
            "The governing coalition",
            "A parliamentary committee",
            "The president",
            "The mayor",
            "The foreign affairs minister",
            "The regional assembly",
            "Several members of parliament",
            "The electoral commission",
            "The party spokesperson",
            "The cabinet",
        ],
        "action": [
            "proposed a new tax on large fortunes",
            "called for early elections",
            "passed the budget bill",
            "rejected the pension reform",
            "signed a trade agreement with its neighbours",
            "announced a referendum on the constitution",
            "resigned after the corruption scandal",
            "promised more funding for public hospitals",
            "voted against the immigration law",
            "opened negotiations with the unions",
            "published the results of the census",
            "imposed sanctions on the regime",
            "appointed a new ambassador",
            "campaigned in the rural districts",
        ],
        "tail": [
            "after a long debate in parliament.",
            "ahead of next year's general election.",
            "despite protests outside the ministry.",
            "according to the official gazette.",
            "as polls showed support falling.",
            "during a press conference on Monday.",
            "following pressure from coalition partners.",
            "in a televised address to the nation.",
            "before the summit of European leaders.",
            "while voters queued at the polling stations.",
        ],
    },
}

DIRTY_ROWS: list[tuple[str, str]] = [
    ("", "sport"),
    ("   ", "tech"),
    ("12345", "politics"),
    ("!!! ???", "sport"),
    ("The senate passed the budget bill after a long debate.", ""),
]


def generate(
    rows: int, seed: int = 7, clean: bool = False, label_noise: float = 0.0
) -> list[tuple[str, str]]:
    """Return `rows` distinct labelled texts, classes in turn, plus dirty rows unless `clean`."""
    capacity = min(
        len(parts["subject"]) * len(parts["action"]) * len(parts["tail"])
        for parts in FRAGMENTS.values()
    )
    if rows < len(FRAGMENTS) or rows > capacity * len(FRAGMENTS):
        raise ValueError(f"rows must be between {len(FRAGMENTS)} and {capacity * len(FRAGMENTS)}")
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(f"label noise must be between 0 and 1, got {label_noise}")
    rng = random.Random(seed)
    labels = list(FRAGMENTS)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < rows:
        label = labels[len(out) % len(labels)]
        parts = FRAGMENTS[label]
        text = " ".join(rng.choice(parts[key]) for key in ("subject", "action", "tail"))
        if text in seen:
            continue
        seen.add(text)
        if rng.random() < label_noise:
            label = rng.choice(labels)
        out.append((text, label))
    if not clean:
        out.extend(DIRTY_ROWS)
        out.extend(out[:3])  # exact duplicates
        out.append((out[3][0].upper(), out[3][1]))  # duplicate up to case
        rng.shuffle(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="labelled texts (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--clean", action="store_true", help="leave out the dirty rows")
    parser.add_argument(
        "--label-noise", type=float, default=0.0, help="fraction of rows relabelled at random"
    )
    parser.add_argument("--out", type=Path, default=SAMPLE_PATH, help="CSV to write")
    args = parser.parse_args(argv)
    try:
        data = generate(args.rows, args.seed, args.clean, args.label_noise)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(data)
    print(f"wrote {len(data)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

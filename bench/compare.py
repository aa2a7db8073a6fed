"""Compare two benchmark runs by ratio, so a regression shows even on a noisy machine.

    .venv/bin/python bench/compare.py OLD/results.json NEW/results.json [--tolerance 0.15]

For every workload measured in both, the ratio ordermill / reference of each run is compared
(absolute times drift 30-50 % between runs here; ratios measured in one run do not). Exits 1
when a ratio got worse by more than the tolerance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from run import Measure
from run import ratios as suite_ratios


def ratios(path: Path) -> dict[tuple[str, str], float]:
    """(workload, "ordermill / reference") -> ratio, as the suite reports them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    measures = [Measure(**r) for r in data["results"]]
    return {(workload, f"{mine} / {ref}"): value
            for workload, mine, ref, value in suite_ratios(measures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.15,
                        help="how much worse a ratio may get before it counts (0.15 = 15 %%)")
    args = parser.parse_args()
    old, new = ratios(args.old), ratios(args.new)
    worse = False
    for key in sorted(set(old) & set(new)):
        change = new[key] / old[key] - 1
        flag = "WORSE" if change > args.tolerance else ("better" if change < -args.tolerance
                                                        else "same")
        worse |= flag == "WORSE"
        print(f"{key[0]:18s} {key[1]:52s} {old[key]:6.2f} x -> {new[key]:6.2f} x "
              f"({change:+.0%}) {flag}")
    for key in sorted(set(old) ^ set(new)):
        print(f"{key[0]:18s} {key[1]:52s} only in one run")
    raise SystemExit(1 if worse else 0)


if __name__ == "__main__":
    main()

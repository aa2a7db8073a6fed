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


def ratios(path: Path) -> dict[tuple[str, str], float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    seconds = {(r["workload"], r["tool"]): r["seconds"] for r in data["results"]}
    out = {}
    for (workload, tool), value in seconds.items():
        mine = seconds.get((workload, "ordermill"))
        if tool != "ordermill" and mine and value:
            out[(workload, tool)] = mine / value
            twin = seconds.get((workload, "ordermill, UTF-8 file"))
            if tool == "iconv decode" and twin is not None:
                # what decoding GB18030 adds to a run, against iconv decoding the file
                out[(workload, "iconv (decoding)")] = (mine - twin) / value
    return out


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
        print(f"{key[0]:18s} ordermill / {key[1]:14s} {old[key]:6.2f} x -> {new[key]:6.2f} x "
              f"({change:+.0%}) {flag}")
    for key in sorted(set(old) ^ set(new)):
        print(f"{key[0]:18s} ordermill / {key[1]:14s} only in one run")
    raise SystemExit(1 if worse else 0)


if __name__ == "__main__":
    main()

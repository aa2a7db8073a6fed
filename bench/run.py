"""The benchmark suite: ordermill and its references on the same files, in one run.

    make bench                      # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --big            # adds tmall-10m (a memory test)
    .venv/bin/python bench/run.py --rows 20000 --runs 1 --results /tmp/r   # a quick look
    .venv/bin/python bench/run.py --only folder      # the many-small-inputs workload alone

For every workload it prints median wall time of ``--runs`` runs, rows per second, peak RSS,
CPU time and the ratio to each reference, and writes RESULTS.md and results.json (for
compare.py).
Data is generated deterministically into bench/data/ and reused while its size matches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
ORDERMILL = str(Path(PYTHON).parent / "ordermill")
UTF8_TWIN = "ordermill, UTF-8 file"
DECODING = "decoding (ordermill GB18030 - UTF-8)"
DECODING_CPU = "decoding CPU (ordermill GB18030 - UTF-8)"


@dataclass
class Measure:
    workload: str
    tool: str
    rows: int
    seconds: float
    peak_rss_mb: float
    runs: int
    clean: int | None = None
    rejected: int | None = None
    cpu_seconds: float = 0.0  # median user + system time of the process and its threads
    samples: list[float] = field(default_factory=list)  # wall seconds of each run, in turn
    cpu_samples: list[float] = field(default_factory=list)
    inputs: int = 1  # files read by one run

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def ms_per_input(self) -> float:
        return self.seconds / self.inputs * 1000 if self.inputs else 0.0


def timed(command: list[str], stdout: int | None = subprocess.DEVNULL
          ) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one command, measured
    with wait4 on the child."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # ordermill exits 1 when rows were rejected, as they are here
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def counts(scratch: Path) -> tuple[int | None, int | None]:
    """Clean and rejected counts a tool left in its scratch folder, to check that the tools
    did the same work."""
    for path in [*scratch.glob("out/*/manifest.json"), scratch / "ref" / "counts.json"]:
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            data = data.get("totals", data)
            return data["clean"], data["rejected"]
    return None, None


def measure(workload: str, rows: int, runs: int, tools: dict[str, object],
            inputs: dict[str, int] | None = None) -> list[Measure]:
    """Median of ``runs`` per tool; ``tools[name](scratch)`` builds the command for a fresh
    folder. The tools take turns (run 1 of each, then run 2 of each, ...): this machine
    drifts by 30-50 % over minutes, and taking turns exposes every tool to the same drift,
    so the ratios hold where the absolute times do not."""
    times: dict[str, list[float]] = {tool: [] for tool in tools}
    cpus: dict[str, list[float]] = {tool: [] for tool in tools}
    peaks: dict[str, list[float]] = {tool: [] for tool in tools}
    done: dict[str, tuple[int | None, int | None]] = {}
    for _ in range(runs):
        for tool, make_command in tools.items():
            with tempfile.TemporaryDirectory() as scratch:
                seconds, peak, cpu = timed(make_command(Path(scratch)))  # type: ignore[operator]
                done[tool] = counts(Path(scratch))
            times[tool].append(seconds)
            cpus[tool].append(cpu)
            peaks[tool].append(peak)
    results = []
    for tool in tools:
        result = Measure(workload, tool, rows, statistics.median(times[tool]), max(peaks[tool]),
                         runs, *done[tool], statistics.median(cpus[tool]), times[tool],
                         cpus[tool], (inputs or {}).get(tool, 1))
        per_input = f"  {result.ms_per_input:6.2f} ms/input" if result.inputs > 1 else ""
        speed = f"{result.rows_per_second:12,.0f} rows/s" if rows else " " * 19
        print(f"  {workload:16s} {tool:22s} {result.seconds:8.2f} s  {speed}  "
              f"{result.peak_rss_mb:8,.0f} MB  CPU {result.cpu_seconds:6.2f} s{per_input}",
              flush=True)
        results.append(result)
    return results


def ensure_csv(rows: int, encoding: str) -> Path:
    suffix = "" if encoding == "utf-8" else f"-{encoding}"
    path = HERE / "data" / f"tmall-{rows}{suffix}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        subprocess.run([PYTHON, str(HERE / "generate.py"), str(rows), str(path),
                        "--encoding", encoding], check=True)
    return path


def ensure_xlsx(rows: int) -> Path:
    path = HERE / "data" / f"orders-{rows}.xlsx"
    if not path.exists():
        print(f"generating {path.name} (writing xlsx is slow: once) ...", flush=True)
        subprocess.run([PYTHON, str(HERE / "generate.py"), str(rows), str(path)], check=True)
    return path


def ordermill(path: Path) -> object:
    """End to end as ops run it: read, map, check, dedupe, orders as parquet, rejects,
    manifest, ledger (a fresh ledger each run, so every run does the full work)."""
    return lambda scratch: [ORDERMILL, "ingest", str(path), "--out", str(scratch / "out"),
                            "--state-dir", str(scratch / "state"), "--format", "parquet"]


def bare_polars(path: Path) -> object:
    code = ("import sys, polars as pl; pl.read_csv(sys.argv[1], infer_schema=False)"
            ".write_parquet(sys.argv[2])")
    return lambda scratch: [PYTHON, "-c", code, str(path), str(scratch / "bare.parquet")]


def calamine(path: Path) -> object:
    code = "import sys, polars as pl; pl.read_excel(sys.argv[1], engine='calamine')"
    return lambda scratch: [PYTHON, "-c", code, str(path)]


def pandas_pandera(path: Path, encoding: str = "utf-8") -> object:
    return lambda scratch: [PYTHON, str(HERE / "pandas_reference.py"), str(path),
                            str(scratch / "ref"), "--encoding", encoding]


def same_work(results: list[Measure], workload: str) -> None:
    """The reference must give ordermill's clean and rejected counts, or it is no reference."""
    done = {(m.clean, m.rejected) for m in results
            if m.workload == workload and m.clean is not None}
    if len(done) > 1:
        raise SystemExit(f"{workload}: the tools disagree on clean/rejected counts: {done}")
    print(f"  same clean/rejected counts: {done.pop() if done else '?'}")


def ensure_folder(count: int) -> Path:
    """``count`` PO attachments (``bench/attachments.py``) as files in a folder."""
    folder = HERE / "data" / f"po-{count}"
    if not folder.is_dir() or sum(1 for _ in folder.iterdir()) != count:
        print(f"generating {folder.name} ({count:,} PO attachments) ...", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PYTHON, str(HERE / "attachments.py"), str(count), str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return folder


CONFIG = """\
out_dir = "out"
state_dir = "state"
archive_dir = "archive"
quarantine_dir = "quarantine"

[[sources]]
name = "po-mail"
path = "drop"
"""


def ordermill_run(folder: Path, count: int | None = None) -> object:
    """The nightly job on a drop folder: ``ordermill run`` with a folder source (an
    ordermill.toml written beside it), the first ``count`` files copied in fresh for each
    run (it archives them), outside the time measured."""
    def command(scratch: Path) -> list[str]:
        drop = scratch / "drop"
        drop.mkdir()
        for path in sorted(folder.iterdir())[:count]:
            shutil.copy2(path, drop / path.name)
        (scratch / "ordermill.toml").write_text(CONFIG, encoding="utf-8")
        return [ORDERMILL, "run", "--config", str(scratch / "ordermill.toml")]
    return command


BARE_LOOP = """\
import pathlib, sys
import polars as pl
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    if path.suffix == ".xlsx":
        pl.read_excel(path, engine="calamine", has_header=False)
        continue
    data = path.read_bytes()
    try:
        pl.read_csv(data, has_header=False, infer_schema=False)
    except pl.exceptions.ComputeError:  # (not UTF-8: 华信's GB18030)
        pl.read_csv(data.decode("gb18030").encode(), has_header=False, infer_schema=False)
"""


def bare_loop(folder: Path) -> object:
    """The least reading the files costs: a loop reading each with polars (calamine for
    workbooks, the first sheet), writing nothing."""
    return lambda scratch: [PYTHON, "-c", BARE_LOOP, str(folder)]


def iconv(path: Path) -> object:
    return lambda scratch: ["sh", "-c", f"iconv -f GB18030 -t UTF-8 '{path}' > /dev/null"]


def size(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    return f"{rows // 1000}k" if rows >= 1000 else str(rows)


WORKLOADS = ("tmall", "xlsx", "dedupe", "folder")


def suite(rows: int, xlsx_rows: int, runs: int, big: bool, dedupe: bool,
          xlsx_runs: int | None = None, decode_runs: int | None = None,
          folder_files: int = 2000, folder_runs: int | None = None,
          only: tuple[str, ...] = WORKLOADS) -> list[Measure]:
    results: list[Measure] = []
    if "tmall" in only:
        results += tmall(rows, runs, big, decode_runs)
    if "xlsx" in only:
        xlsx = ensure_xlsx(xlsx_rows)
        xname = f"xlsx-{size(xlsx_rows)}"
        print(f"{xname}")
        results += measure(xname, xlsx_rows, xlsx_runs or runs, {
            "ordermill": ordermill(xlsx), "bare calamine": calamine(xlsx)})
    if dedupe and "dedupe" in only:
        print("dedupe")
        out = subprocess.run([PYTHON, str(HERE / "dedupe.py"), "--history", str(rows * 10),
                              "--new", str(rows), "--changed", "0", "--runs", str(runs)],
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
        seconds = float(out.split("median ")[1].split(" s")[0])
        print("  " + out.splitlines()[0])
        results.append(Measure("dedupe", "ordermill classify", rows, seconds, 0.0, runs))
    if "folder" in only:
        results += many_small(folder_files, folder_runs or runs)
    return results


def tmall(rows: int, runs: int, big: bool, decode_runs: int | None) -> list[Measure]:
    results: list[Measure] = []
    utf8 = ensure_csv(rows, "utf-8")
    gb = ensure_csv(rows, "gb18030")
    name = f"tmall-{size(rows)}"
    print(f"{name} (UTF-8, {utf8.stat().st_size / 1e6:,.0f} MB)")
    results += measure(name, rows, runs, {
        "ordermill": ordermill(utf8), "bare polars": bare_polars(utf8),
        "pandas + pandera": pandas_pandera(utf8)})
    same_work(results, name)
    print(f"{name}-gb18030 ({gb.stat().st_size / 1e6:,.0f} MB)")
    # The UTF-8 file again, in turn with the GB18030 one: what decoding adds is the
    # difference within each turn, set against iconv decoding the same file (``ratios``).
    # It is a second or so of ten: more turns than the rest, so the noise averages out.
    results += measure(f"{name}-gb18030", rows, decode_runs or runs, {
        "ordermill": ordermill(gb), UTF8_TWIN: ordermill(utf8), "iconv decode": iconv(gb)})
    results += measure(f"{name}-gb18030", rows, runs, {
        "pandas + pandera": pandas_pandera(gb, "gb18030")})
    same_work(results, f"{name}-gb18030")
    if shutil.which("iconv") is None:
        print("  (iconv missing: install it with apt-get install libc-bin)")
    if big:
        ten = ensure_csv(rows * 10, "utf-8")
        print(f"tmall x10 ({ten.stat().st_size / 1e6:,.0f} MB)")
        results += measure(f"{name}x10", rows * 10, 1, {
            "ordermill": ordermill(ten), "bare polars": bare_polars(ten)})
    return results


FEW = 20  # inputs of the run that tells a run's fixed cost from the per-input cost


def many_small(files: int, runs: int) -> list[Measure]:
    """``files`` PO attachments in a drop folder, one ``ordermill run``; beside it the same
    run on the first ``FEW`` of them (what is left of the time once they are subtracted is
    the cost per input: ``per_input``), and a bare loop reading each file."""
    folder = ensure_folder(files)
    name = f"folder-{files}"
    print(f"{name} ({files:,} PO attachments, "
          f"{sum(p.stat().st_size for p in folder.iterdir()) / 1e6:,.1f} MB)")
    count = min(FEW, files // 2)
    few = f"ordermill, {count} inputs"
    results = measure(name, 0, runs, {
        "ordermill": ordermill_run(folder), few: ordermill_run(folder, count),
        "bare loop": bare_loop(folder)}, inputs={"ordermill": files, few: count,
                                                  "bare loop": files})
    mine = results[0]
    for result in results:  # (the lines of all the files: what ordermill counted)
        result.rows = (mine.clean or 0) + (mine.rejected or 0)
    results[1].rows = (results[1].clean or 0) + (results[1].rejected or 0)
    print(f"  {mine.rows:,} lines; each input more: {per_input(results):.2f} ms")
    return results


def per_input(results: list[Measure]) -> float:
    """Milliseconds each input adds to a run of many (a few inputs' run subtracted: its
    fixed cost, start-up and publishing, is paid once)."""
    many, few = results[0], results[1]
    return (many.seconds - few.seconds) / (many.inputs - few.inputs) * 1000


def ratios(results: list[Measure]) -> list[tuple[str, str, str, float]]:
    out = []
    by_workload: dict[str, dict[str, Measure]] = {}
    for m in results:
        by_workload.setdefault(m.workload, {})[m.tool] = m
    for workload, tools in by_workload.items():
        mine = tools.get("ordermill")
        if mine is None:
            continue
        for tool, ref in tools.items():
            # (a run of a few of the same inputs is no reference: ``per_input``)
            if tool != "ordermill" and ref.seconds and ref.inputs in (1, mine.inputs):
                out.append((workload, "ordermill", tool, mine.seconds / ref.seconds))
        twin, decoder = tools.get(UTF8_TWIN), tools.get("iconv decode")
        if twin and decoder and decoder.seconds:
            out.append((workload, DECODING, "iconv decode",
                        _added(mine.samples, twin.samples, mine.seconds - twin.seconds)
                        / decoder.seconds))
            if decoder.cpu_seconds:
                out.append((workload, DECODING_CPU, "iconv decode CPU",
                            _added(mine.cpu_samples, twin.cpu_samples,
                                   mine.cpu_seconds - twin.cpu_seconds)
                            / decoder.cpu_seconds))
    return out


def _added(mine: list[float], twin: list[float], fallback: float) -> float:
    """What a run takes more than its twin in the same turn, the median over the turns
    (drift between turns cancels); ``fallback`` for results saved without the runs."""
    if not mine or len(mine) != len(twin):
        return fallback
    return statistics.median(a - b for a, b in zip(mine, twin, strict=True))


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.machine()}, Python " \
           f"{platform.python_version()}"


def write_results(results: list[Measure], target: Path, command: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results", "",
        f"- date: {stamp}", f"- machine: {machine()}", f"- command: `{command}`", "",
        "| workload | tool | median s | rows/s | peak RSS MB | CPU s | runs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in results:
        lines.append(f"| {m.workload} | {m.tool} | {m.seconds:.2f} | {m.rows_per_second:,.0f} "
                     f"| {m.peak_rss_mb:,.0f} | {m.cpu_seconds:.2f} | {m.runs} |")
    lines += ["", "| workload | ratio | value |", "| --- | --- | --- |"]
    for workload, mine, ref, ratio in ratios(results):
        lines.append(f"| {workload} | {mine} / {ref} | {ratio:.2f} x |")
    many = [m for m in results if m.inputs > 1]
    if many:
        lines += ["", "| workload | tool | inputs | ms per input |", "| --- | --- | --- | --- |"]
        lines += [f"| {m.workload} | {m.tool} | {m.inputs:,} | {m.ms_per_input:.2f} |"
                  for m in many]
        for workload in dict.fromkeys(m.workload for m in many):
            mine = [m for m in many if m.workload == workload and m.tool.startswith("ordermill")]
            if len(mine) == 2:
                lines.append(f"| {workload} | ordermill, each input more (less the run of "
                             f"{mine[1].inputs}) | {mine[0].inputs - mine[1].inputs:,} | "
                             f"{per_input(mine):.2f} |")
    # Sections other benchmarks write into RESULTS.md (``## ...``, e.g. bench/ocr.py's) stay.
    previous = target / "RESULTS.md"
    kept = previous.read_text(encoding="utf-8") if previous.exists() else ""
    kept = kept[kept.find("\n## "):] if "\n## " in kept else ""
    previous.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")
    (target / "results.json").write_text(json.dumps(
        {"date": stamp, "machine": machine(), "command": command,
         "results": [asdict(m) for m in results]}, indent=2) + "\n", encoding="utf-8")
    print(f"results -> {target / 'RESULTS.md'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xlsx-runs", type=int, default=5,
                        help="runs of the xlsx workload (a few seconds each, so this machine's "
                        "noise is a larger share of it; default 5)")
    parser.add_argument("--decode-runs", type=int, default=5,
                        help="turns of the GB18030 workload's ordermill runs and iconv: what "
                        "decoding adds is a second or so of ten, so the noise needs more "
                        "turns to average out (default 5)")
    parser.add_argument("--big", action="store_true", help="add the 10x workload")
    parser.add_argument("--folder-files", type=int, default=2000,
                        help="PO attachments in the drop folder of the folder workload")
    parser.add_argument("--folder-runs", type=int, default=None,
                        help="runs of the folder workload (default: --runs)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                        help="run these workloads only")
    parser.add_argument("--no-dedupe", action="store_true")
    parser.add_argument("--results", type=Path, default=HERE)
    args = parser.parse_args()
    results = suite(args.rows, args.xlsx_rows, args.runs, args.big, not args.no_dedupe,
                    args.xlsx_runs, args.decode_runs, args.folder_files, args.folder_runs,
                    tuple(args.only))
    print()
    for workload, mine, ref, ratio in ratios(results):
        print(f"{workload:18s} {mine} / {ref}: {ratio:.2f} x")
    write_results(results, args.results, "bench/run.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times whole processes as users meet them: the published `tally run` (start to exit) paired with DuckDB doing the same
three counts and writing the same three outputs in its own process (`Tally.Bench duckdb DIR GLOB`: DuckDB.NET's best
plan, one `read_json` scan with explicit columns, GROUPING SETS, threads = cores), alternating the order, on the hour
shapes users have. Prints per shape the medians of wall time, CPU and peak memory (each child's own max RSS, from
wait4), the ratios to DuckDB, and whether both wrote the same rows (`Tally.Bench agree`).

  dotnet publish src/Tally.Cli -c Release -o bench/bin/tally
  dotnet publish bench/Tally.Bench -c Release -p:PublishAot=false -o bench/bin/published  # (tally is Native AOT, the bench is not)
  python3 bench/whole_process.py --runs 5 [--shapes small,large,onefile,gzip,empty] [--tally NAME=PATH ...]

The data is generated once under bench/data-whole/ (about 4 GB for all shapes) with `tally generate` and reused.
Several `--tally NAME=PATH` (e.g. builds before and after a change) are timed in the same pairs.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import time

HOUR = "2026-11-24T13"
HOUR_FOLDER = "raw_data/year=2026/month=11/day=24/hour=13"
# name: (records, files per minute, gzip, one file, DuckDB's glob under the hour's folder)
SHAPES = {
    "small": (500_000, 2, False, False, "*/*.json"),
    "large": (5_000_000, 2, False, False, "*/*.json"),
    "onefile": (5_000_000, 2, False, True, "*/*.json"),
    "gzip": (5_000_000, 2, True, False, "*/*.json.gz"),
    "empty": (0, 0, False, False, None),
}


def measure(argv):
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - start
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}: {stderr}")
    return elapsed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def generate(tally, root, shape):
    records, per_minute, gzip, one_file, _ = SHAPES[shape]
    data = os.path.join(root, shape)
    if os.path.isdir(os.path.join(data, "raw_data")) or (records == 0 and os.path.isdir(data)):
        return data
    os.makedirs(data, exist_ok=True)
    if records == 0:
        return data
    if one_file:
        source = generate(tally, root, "large")
        folder = os.path.join(data, HOUR_FOLDER, "minute=00")
        os.makedirs(folder)
        with open(os.path.join(folder, "hour.json"), "wb") as out:
            for minute in sorted(os.listdir(os.path.join(source, HOUR_FOLDER))):
                for name in sorted(os.listdir(os.path.join(source, HOUR_FOLDER, minute))):
                    with open(os.path.join(source, HOUR_FOLDER, minute, name), "rb") as f:
                        shutil.copyfileobj(f, out)
        return data
    argv = [tally, "generate", "--data", data, "--hour", HOUR, "--hits-per-hour", str(records), "--files-per-minute", str(per_minute)]
    subprocess.run(argv + (["--gzip"] if gzip else []), check=True, stdout=subprocess.DEVNULL)
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shapes", default="small,large,onefile,gzip,empty")
    parser.add_argument("--data", default=os.path.join("bench", "data-whole"))
    parser.add_argument("--tally", action="append", help="NAME=PATH of a published tally (default tally=bench/bin/tally/tally)")
    parser.add_argument("--bench", default=os.path.join("bench", "bin", "published", "Tally.Bench"), help="the published Tally.Bench")
    args = parser.parse_args()

    builds = dict(item.partition("=")[::2] for item in (args.tally or [f"tally={os.path.join('bench', 'bin', 'tally', 'tally')}"]))
    first = next(iter(builds.values()))
    print(f"{os.cpu_count()} cores, {args.runs} paired runs per shape, alternating which goes first; medians.", flush=True)
    for shape in args.shapes.split(","):
        data = generate(first, args.data, shape)
        glob = SHAPES[shape][4]
        engines = {name: [path, "run", "--data", data, "--hour", HOUR] for name, path in builds.items()}
        if glob is not None:
            engines["duckdb"] = [args.bench, "duckdb", data, glob]
        results = {name: [] for name in engines}
        names = list(engines)
        for run in range(args.runs):
            for name in (names if run % 2 == 0 else list(reversed(names))):
                results[name].append(measure(engines[name]))
        med = {name: tuple(statistics.median(r[i] for r in results[name]) for i in range(3)) for name in names}
        agree = ""
        if glob is not None:
            for name, path in builds.items():
                measure([path, "run", "--data", data, "--hour", HOUR])  # this build's outputs, for the check
                ok = subprocess.run([args.bench, "agree", data], stdout=subprocess.DEVNULL).returncode == 0
                agree += f" {name}: {'same rows' if ok else 'ROWS DIFFER'}"
        for name in names:
            t, peak, cpu = med[name]
            line = f"{shape:<8} {name:<10} {t:6.2f} s  cpu {cpu:6.2f} s  peak {peak / 1048576:5.0f} MiB"
            if name != "duckdb" and "duckdb" in med:
                dt, dpeak, dcpu = med["duckdb"]
                line += f"   / duckdb: time {t / dt:.2f}  cpu {cpu / dcpu:.2f}  peak {peak / dpeak:.2f}"
            print(line, flush=True)
        if agree:
            print(f"{shape:<8} outputs:{agree}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times whole processes as users meet them: each published `tally run` (start to exit) paired with DuckDB doing the
same three counts in its own process (`Tally.Bench duckdb DIR`), alternating the order, and prints medians and ratios
of wall time and peak memory (each child's own max RSS, from wait4).

  python3 bench/whole_process.py --data DIR --hour 2026-11-24T13 --runs 5 \
      --tally NAME=PATH/tally [--tally NAME2=PATH2/tally ...] --duckdb PATH/Tally.Bench

DIR must hold the hour's raw files (e.g. `tally generate --data DIR --hour ... --hits-per-hour 5000000 --files-per-minute 2`).
"""
import argparse
import os
import statistics
import subprocess
import time


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--hour", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tally", action="append", required=True, help="NAME=PATH of a published tally")
    parser.add_argument("--duckdb", required=True, help="the published Tally.Bench (its duckdb mode)")
    args = parser.parse_args()

    engines = {}
    for item in args.tally:
        name, _, path = item.partition("=")
        engines[name] = [path, "run", "--data", args.data, "--hour", args.hour]
    engines["duckdb"] = [args.duckdb, "duckdb", args.data]
    results = {name: [] for name in engines}
    names = list(engines)
    for run in range(args.runs):
        order = names if run % 2 == 0 else list(reversed(names))
        for name in order:
            seconds, peak, cpu = measure(engines[name])
            results[name].append((seconds, peak, cpu))
            print(f"  run {run + 1} {name:<10} {seconds:6.2f} s  cpu {cpu:6.2f} s  peak {peak / 1048576:6.0f} MiB", flush=True)

    def med(name, i):
        return statistics.median(r[i] for r in results[name])

    print()
    duck_time, duck_peak, duck_cpu = med("duckdb", 0), med("duckdb", 1), med("duckdb", 2)
    for name in names:
        t, p, c = med(name, 0), med(name, 1), med(name, 2)
        print(f"{name:<10} median {t:5.2f} s  cpu {c:5.2f} s  peak {p / 1048576:5.0f} MiB"
              + ("" if name == "duckdb" else f"   / duckdb: time {t / duck_time:.2f}  cpu {c / duck_cpu:.2f}  peak {p / duck_peak:.2f}"))


if __name__ == "__main__":
    main()

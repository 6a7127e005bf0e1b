"""``python -m benchmarks [name ...]``: run the suite and print a table of ratios."""

from __future__ import annotations

import argparse
import importlib
import sys

from .common import Row

SUITES = [
    "server_bench",
    "server_scale_bench",
    "client_bench",
    "widget_bench",
    "kernel_bench",
    "frontend_bench",
    "cli_bench",
]


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | ours | baseline (same run) | ratio | target | pass |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "yes" if r.passed else "NO"
        lines.append(
            f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio:.2f} | {r.target} | {verdict} |"
        )
    return "\n".join(lines)


def main(names: list[str]) -> int:
    rows: list[Row] = []
    for name in names or SUITES:
        module = importlib.import_module(f"benchmarks.{name}")
        suite_rows = module.run()
        print(table(suite_rows), flush=True)
        rows += suite_rows
    print("\nAll benchmarks:\n" + table(rows))
    return 0 if all(r.passed for r in rows) else 1


def parse(argv: list[str]) -> list[str]:
    """The suites to run (all when none is named); ``--help`` lists them, an unknown name is a
    one-line error instead of a traceback from the import."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmark suites and print a table of ratios against baselines"
        " measured in the same run. Exit status 1 if any row misses its target.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="suite",
        help=f"suites to run, in the order given (default: all): {', '.join(SUITES)}",
    )
    names: list[str] = parser.parse_args(argv).names
    unknown = [name for name in names if name not in SUITES]
    if unknown:
        parser.error(f"no such suite: {', '.join(unknown)} (choose from {', '.join(SUITES)})")
    return names


if __name__ == "__main__":
    sys.exit(main(parse(sys.argv[1:])))

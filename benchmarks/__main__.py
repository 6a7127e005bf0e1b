"""``python -m benchmarks [name ...]``: run the suite and print a table of ratios."""

from __future__ import annotations

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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Kept for the benchmarks and older tests: the hosts now live in ``browserhosts``."""

from browserhosts import IDLE, JupyterLab, launch_chromium, write_notebook

__all__ = ["IDLE", "JupyterLab", "launch_chromium", "write_notebook"]

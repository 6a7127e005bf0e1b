"""``pieces-models``: the command line on the same client and jobs as the widget."""

from .main import main, run

__all__ = ["main", "run"]

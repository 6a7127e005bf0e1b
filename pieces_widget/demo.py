"""For the demo notebook: find Pieces OS, or start the reference server with the demo catalog."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .discovery import discover
from .errors import PiecesConnectionError

DEMO_PORT = 39300


def find_or_start_server(data_dir: str | Path | None = None, port: int = DEMO_PORT) -> str:
    """The base URL of a running Pieces OS, or of a reference server started in the background."""
    try:
        found = discover()
        print(f"Using Pieces OS at {found.base_url} (found by {found.how}).")
        return found.base_url
    except PiecesConnectionError:
        pass
    data_dir = Path(data_dir or Path.home() / ".cache" / "pieces-widget-demo")
    args = [sys.executable, "-m", "pieces_widget.server", "--port", str(port)]
    args += ["--data-dir", str(data_dir), "--quiet"]
    subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    os.environ["PIECES_OS_URL"] = url
    deadline = time.monotonic() + 60  # the first start generates the demo hub's blobs
    while time.monotonic() < deadline:
        try:
            discover()
            print(
                f"No Pieces OS found: started the reference server at {url} (data in {data_dir})."
            )
            return url
        except PiecesConnectionError:
            time.sleep(0.2)
    raise PiecesConnectionError(f"the reference server did not start on {url}")

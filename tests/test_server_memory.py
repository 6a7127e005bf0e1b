"""Load really reads the weights into memory: the server's RSS rises by about the model size on
load and falls again on unload (psutil)."""

from __future__ import annotations

import psutil
import requests
from serverproc import MiB, ServerProcess
from test_server_api import wait_downloaded


def test_load_and_unload_move_rss_by_the_model_size(fast_server: ServerProcess) -> None:
    url = fast_server.url
    assert fast_server.proc is not None
    process = psutil.Process(fast_server.proc.pid)
    requests.post(f"{url}/model/medium/download", timeout=5)
    wait_downloaded(url, "medium")
    size = 24 * MiB
    before = process.memory_info().rss
    loaded = requests.post(f"{url}/model/medium/load", timeout=30).json()
    during = process.memory_info().rss
    assert loaded["ram"]["value"] == size
    assert 0.9 * size <= during - before <= 1.2 * size, (during - before) / size
    requests.post(f"{url}/model/medium/unload", timeout=30)
    after = process.memory_info().rss
    assert during - after >= 0.9 * size, (during - after) / size

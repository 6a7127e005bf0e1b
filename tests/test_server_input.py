"""Bad input is a 400 in one line, never a 500, and leaves nothing behind (issue 18, point 8,
and the server side of point 3): bodies nested deeper than any Model, integers of thousands of
digits, NaN, lone surrogates; create URLs that aiohttp could not fetch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from serverproc import ServerProcess, write_catalog
from test_server_api import JSON

from pieces_widget.server.catalog import CatalogError, load_catalog

ROUTES = ["/models/create", "/model/update", "/connect"]
BODIES = {
    "nested 30,000 deep": b'{"name": ' + b"[" * 30000 + b"]" * 30000 + b"}",
    "nested 100 deep": b'{"name": ' + b"[" * 100 + b"]" * 100 + b"}",
    "a 5,000-digit integer": b'{"id": "small", "name": ' + b"7" * 5000 + b"}",
    "a 25-digit integer": b'{"id": "small", "parameters": ' + b"9" * 25 + b"}",
    "NaN": b'{"id": "small", "parameters": NaN}',
    "a lone surrogate": b'{"id": "small", "name": "\\ud800"}',
    "a lone surrogate in a key": b'{"id": "small", "\\udfff": 1}',
}
MESSAGES = {
    "nested 30,000 deep": "the body is nested too deep: more than 32 levels",
    "nested 100 deep": "the body is nested too deep: more than 32 levels",
    "a 5,000-digit integer": "a number in the body has more than 20 digits",
    "a 25-digit integer": "a number in the body has more than 20 digits",
    "NaN": "malformed JSON body: NaN is not a JSON number",
    "a lone surrogate": "the body has text that is not valid Unicode",
    "a lone surrogate in a key": "the body has text that is not valid Unicode",
}


def test_hostile_bodies_are_400_in_one_line(fast_server: ServerProcess) -> None:
    url = fast_server.url
    before = requests.get(f"{url}/models", timeout=5).json()
    for kind, body in BODIES.items():
        for route in ROUTES:
            answer = requests.post(url + route, data=body, headers=JSON, timeout=10)
            assert answer.status_code == 400, (kind, route, answer.status_code, answer.text[:200])
            assert answer.text.startswith(MESSAGES[kind]), (kind, route, answer.text[:200])
            assert "\n" not in answer.text and len(answer.text) < 300, (kind, route)
    assert requests.get(f"{url}/models", timeout=5).json() == before
    assert not (fast_server.data_dir / "state.json").exists()
    good = {"application": {"name": "JUPYTER_HUB", "version": "1", "platform": "LINUX"}}
    answer = requests.post(f"{url}/connect", data=json.dumps(good), headers=JSON, timeout=5)
    assert answer.ok and answer.json()["application"]["name"] == "JUPYTER_HUB"
    log = fast_server.log()
    assert "Traceback" not in log and "Error handling request" not in log, log[-2000:]


BAD_URLS = {
    "http://127.0.0.1:99999/x.gguf": "is not a valid URL (Port out of range 0-65535)",
    "http://127.0.0.1:0/x.gguf": "has port 0",
    "http://[::1/x.gguf": "is not a valid URL (Invalid IPv6 URL)",
    "http://[not-v6]/x.gguf": "is not a valid URL",
    "http://host\x00.example/x.gguf": "has a space or control character",
    "http://host.example/x\x00.gguf": "has a space or control character",
    "http://ho%00st/x.gguf": "has an invalid host name",
    "http://:80/x.gguf": "is not a valid URL",
    "http://host.example:8o/x.gguf": "is not a valid URL",
}


def test_urls_are_checked_in_full_at_create(fast_server: ServerProcess) -> None:
    for url, message in BAD_URLS.items():
        body = {"name": f"Bad {url!r}", "source": {"url": url, "bytes": 10}}
        answer = requests.post(f"{fast_server.url}/models/create", json=body, timeout=5)
        assert answer.status_code == 400, (url, answer.status_code, answer.text)
        assert answer.text.startswith("source 'url' ") and message in answer.text, (url, answer)
    ok = {"name": "IPv6 is fine", "source": {"url": "http://[::1]:8080/x.gguf", "bytes": 10}}
    assert requests.post(f"{fast_server.url}/models/create", json=ok, timeout=5).ok


def test_a_catalog_source_is_checked_as_a_create_body_is(tmp_path: Path) -> None:
    """One parser for every source: what a create body may not hold, a catalog may not either."""
    digest = "a" * 64

    def refusal(source: dict[str, object]) -> str:
        path = write_catalog(tmp_path / "catalog.json", [{"id": "m", "source": source}])
        with pytest.raises(CatalogError) as caught:
            load_catalog(path, "http://127.0.0.1:1", tmp_path / "hub")
        said = str(caught.value)
        assert said.startswith("catalog entry 0 ('m'): source ") and "\n" not in said, said
        return said

    for url, message in BAD_URLS.items():
        said = refusal({"url": url, "sha256": digest, "bytes": 10})
        assert said.startswith("catalog entry 0 ('m'): source 'url' ") and message in said, url
    assert "'sha256' must be 64 hex" in refusal({"hub": "b.bin", "bytes": 10, "sha256": "xyz"})
    huge = {"url": "http://h.example/x", "sha256": digest, "bytes": 1 << 51}
    assert "'bytes' must be a positive integer" in refusal(huge)
    extra = {"url": "http://h.example/x", "sha256": digest, "bytes": 10, "path": "/x"}
    assert "unknown keys ['path']" in refusal(extra)

"""The aiohttp lower bound in pyproject.toml admits only versions that have every aiohttp name
the package uses (an older aiohttp would fail with AttributeError mid-download)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The aiohttp release that introduced each name newer than 3.9.0 (from aiohttp's changelog).
INTRODUCED = {
    "NonHttpUrlRedirectClientError": (3, 9, 4),  # aio-libs/aiohttp#6722
    "InvalidUrlRedirectClientError": (3, 9, 4),
    "NonHttpUrlClientError": (3, 9, 4),
    "InvalidUrlClientError": (3, 9, 4),
    "RedirectClientError": (3, 9, 4),
    "SocketTimeoutError": (3, 10, 0),  # aio-libs/aiohttp#7801
    "ConnectionTimeoutError": (3, 10, 0),
    "ClientConnectionResetError": (3, 10, 6),  # aio-libs/aiohttp#9137
    "ClientConnectorDNSError": (3, 10, 10),  # aio-libs/aiohttp#8455
}


def aiohttp_bound() -> tuple[int, ...]:
    # A regex, not tomllib: the package supports Python 3.10.
    (bound,) = re.findall(r'"aiohttp>=([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    return tuple(int(part) for part in bound.split("."))


def test_aiohttp_bound_has_every_name_the_code_uses() -> None:
    used = {
        name
        for path in (ROOT / "pieces_widget").rglob("*.py")
        for name in re.findall(r"\baiohttp\.([A-Z]\w+)", path.read_text())
    }
    assert "ClientConnectionResetError" in used  # the scan sees the code
    bound = aiohttp_bound()
    too_new = {n: INTRODUCED[n] for n in used if n in INTRODUCED and INTRODUCED[n] > bound}
    assert not too_new, f"aiohttp>={'.'.join(map(str, bound))} lacks {too_new}"

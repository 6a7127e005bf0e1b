"""The package as a release builds it and a pip user gets it (issue 19, points 1, 2, 3 and 7).

From the tracked files alone (no node_modules, no built front end), as a release job starts:
the sdist build installs only esbuild and bundles the front end; the sdist carries the source,
tests and LICENSE but not the benchmarks, the README's images or CI's script; a wheel builds from
it with no npm or node on PATH; the wheel ships the front end, the demo notebook and LICENSE, and
its long description shows no image or link that only works inside the repository. The wheel,
installed in a new venv with the server extra, starts the server and finds its demo notebook.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Release:
    src: Path  # the tracked files, as built
    sdist: Path
    wheel: Path


def _tracked(dest: Path) -> None:
    """The tracked files of this checkout, as they are in the working tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the release build starts from the tracked files")
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def _build(kind: str, src: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out)],
        cwd=src, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("*.tar.gz" if kind == "sdist" else "*.whl")
    return built


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    if shutil.which("npm") is None:
        pytest.skip("a build from the tracked files needs npm (the sdist then needs none)")
    tmp = tmp_path_factory.mktemp("release")
    src = tmp / "src"
    _tracked(src)
    assert not (src / "pieces_widget" / "static").exists()
    sdist = _build("sdist", src, tmp / "dist")
    unpacked = tmp / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (top,) = unpacked.iterdir()
    no_node = {**os.environ, "PATH": str(BIN)}  # this venv's python and nothing else
    assert shutil.which("npm", path=no_node["PATH"]) is None
    assert shutil.which("node", path=no_node["PATH"]) is None
    wheel = _build("wheel", top, tmp / "wheel", env=no_node)
    yield Release(src, sdist, wheel)


def test_a_release_build_installs_only_esbuild(release: Release) -> None:
    installed = {p.name for p in (release.src / "js" / "node_modules").iterdir()}
    assert installed - {".package-lock.json", ".bin"} == {"esbuild", "@esbuild"}


def test_the_sdist_carries_what_a_packager_needs_and_nothing_else(release: Release) -> None:
    with tarfile.open(release.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "pyproject.toml", "pieces_widget/_version.py",
                   "pieces_widget/static/widget.js", "pieces_widget/static/widget.css",
                   "js/src/widget.js", "js/package-lock.json", "tests/test_wheel.py",
                   "notebooks/demo.ipynb"):  # fmt: skip
        assert needed in names, needed
    unwanted = [
        n for n in names
        if n.startswith(("benchmarks/", ".ci/", "js/node_modules/"))
        or re.search(r"\.(png|gif)$", n)
    ]  # fmt: skip
    assert not unwanted, unwanted


def test_the_wheel_built_from_the_sdist_without_node(release: Release) -> None:
    wheel = zipfile.ZipFile(release.wheel)
    names = wheel.namelist()
    for needed in ("pieces_widget/static/widget.js", "pieces_widget/static/widget.css",
                   "pieces_widget/notebooks/demo.ipynb", "pieces_widget/server/demo_catalog.json",
                   "pieces_widget/py.typed"):  # fmt: skip
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "js/")) for n in names)
    assert b"pieces-widget" in wheel.read("pieces_widget/static/widget.js")


def test_the_long_description_shows_nothing_broken_on_pypi(release: Release) -> None:
    wheel = zipfile.ZipFile(release.wheel)
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    message = email.message_from_bytes(wheel.read(metadata))
    version = (ROOT / "pieces_widget" / "_version.py").read_text()
    assert f'__version__ = "{message["Version"]}"' in version  # the one version
    assert message["License-Expression"] == "MIT"
    assert "Framework :: Jupyter :: JupyterLab :: 4" in message.get_all("Classifier")
    requires = message.get_all("Requires-Dist")
    assert any(r.startswith("traitlets") for r in requires)
    assert any(re.match(r"filelock.*extra == .server.", r) for r in requires)
    assert not any("pytest" in r for r in requires)  # test tools are a dependency group
    body = message.get_payload()
    assert message["Description-Content-Type"] == "text/markdown"
    assert "pip install pieces-widget" in body
    relative_links = re.findall(r"\]\((?!https?://|#)[^)]*\)", body)
    relative_images = re.findall(r"<img[^>]+src=\"(?!https?://)", body)
    assert not relative_links and not relative_images, relative_links + relative_images
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"!\[[^\]]*\]\(docs/", readme)  # the README has images; PyPI's copy not


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_the_installed_wheel_runs_the_server_and_finds_its_demo_notebook(
    release: Release, tmp_path: Path
) -> None:
    uv = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv makes a venv with the wheel's dependencies in seconds; not installed")
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    python = _venv_python(venv)
    installed = subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), f"{release.wheel}[server]"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
        )

    found = run("-c", "from pieces_widget.demo import default_notebook; print(default_notebook())")
    notebook = Path(found.stdout.strip())
    assert notebook.is_file() and venv in notebook.parents, found.stdout + found.stderr
    demo = run("-m", "pieces_widget.demo", "--data-dir", str(tmp_path / "demo"))
    assert demo.returncode == 1
    assert demo.stderr.strip().splitlines() == [
        "error: the demo runs JupyterLab, which is not installed: pip install jupyterlab"
    ]
    server = subprocess.Popen(
        [str(python), "-m", "pieces_widget.server", "--port", "0", "--data-dir",
         str(tmp_path / "data"), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + server.stderr.read()
        url = line.split("listening on ", 1)[1].split()[0]
        listed = run("-m", "pieces_widget", "list", "--url", url, "--json")
        assert listed.returncode == 0 and "demo-phi-3-mini" in listed.stdout, listed.stderr
    finally:
        server.terminate()
        server.wait(10)

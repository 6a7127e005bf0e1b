"""``pieces-models`` as a real subprocess against the real reference server."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import DEMO_LIKE
from faultserver import FaultServer, SlowServer
from serverproc import REPO, MiB, ServerProcess, ctrl_c_works, write_catalog
from test_server_transfers import hub_requests
from waiting import wait_for

ENV = {**os.environ, "PYTHONPATH": str(REPO)}
ENV.pop("PIECES_OS_URL", None)
CLI = [sys.executable, "-m", "pieces_widget"]
RECORD_KEYS = {"id", "name", "state", "bytes", "ram", "downloaded", "loaded", "cloud", "error"}


def _popen(args: list[str], url: str | None) -> subprocess.Popen[str]:
    extra = ["--url", url] if url else []  # after the command: common options go anywhere
    return subprocess.Popen(
        [*CLI, *args, *extra], env=ENV, stdin=subprocess.DEVNULL,  # no terminal to ask on
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_works,
    )  # fmt: skip


def cli_all(*argvs: list[str], url: str | None = None) -> list[subprocess.CompletedProcess]:
    """Run independent invocations at once (each is a whole Python start-up)."""
    procs = [_popen(args, url) for args in argvs]
    outputs = [p.communicate(timeout=60) for p in procs]
    return [
        subprocess.CompletedProcess(p.args, p.returncode, *o)
        for p, o in zip(procs, outputs, strict=False)
    ]


def cli(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    return cli_all(list(args), url=url)[0]


def succeeded(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0 and done.stderr == "", (done.args, done.stdout, done.stderr)
    return done.stdout


def ok(*args: str, url: str) -> str:
    return succeeded(cli(*args, url=url))


def as_json(*args: str, url: str) -> Any:
    return json.loads(ok(*args, "--json", url=url))


def one_error_line(done: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert done.returncode == code, (done.args, done.returncode, done.stdout, done.stderr)
    (line,) = done.stderr.splitlines()
    assert line.startswith("pieces-models: error: ")
    for word in words:
        assert word in line, line
    return line


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One unthrottled server for the tests that only read, or clean up after themselves."""
    tmp = tmp_path_factory.mktemp("cli")
    with ServerProcess(tmp / "data", write_catalog(tmp / "c.json", DEMO_LIKE)) as proc:
        yield proc


def test_help_usage_and_lazy_imports() -> None:
    probe = (
        "import sys\nfrom pieces_widget.cli import main\ntry:\n    main(['--help'])\n"
        "except SystemExit as e:\n    assert e.code == 0\n"
        "heavy = ('aiohttp', 'anywidget', 'ipywidgets', 'tqdm', 'psutil',"
        " 'pieces_widget.server', 'pieces_widget.widget.manager')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])"
    )
    dead = "http://127.0.0.1:9"
    helped, nothing, no_id, no_tty, empty, *_ = runs = cli_all(
        ["--help"], [], ["unload", "--url", dead], ["rm", "small", "--url", dead],
        ["show", "", "--url", dead], ["pull"], ["list", "--url", dead],
        ["pull", "small", "--url", dead], ["status", "--json", "--url", dead],
    )  # fmt: skip
    for text in ("list", "pull", "ensure", "serve", "exit codes", "130", "PIECES_OS_URL"):
        assert text in succeeded(helped)
    one_error_line(nothing, 2, "choose a command")
    one_error_line(no_id, 2, "--all")
    one_error_line(no_tty, 2, "--yes")
    one_error_line(empty, 2, "empty")
    one_error_line(runs[5], 2, "ID")
    for done in runs[6:]:  # a server that is not there
        one_error_line(done, 3, "not reachable", dead)
    body = json.loads(runs[-1].stdout)
    assert body["connected"] is False and body["base_url"] == dead and "reachable" in body["error"]
    out = subprocess.run([sys.executable, "-c", probe], env=ENV, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "LOADED []", out.stdout + out.stderr


def test_list_show_status(shared: ServerProcess) -> None:
    url = shared.url
    table, records, llama, ids, shown, detail, nope, status, body = cli_all(
        ["list"], ["list", "--json"], ["list", "LLAMA", "--json"], ["list", "-q"],
        ["show", "medium"], ["show", "medium", "--json"], ["show", "nope"],
        ["status"], ["status", "--json"], url=url,
    )  # fmt: skip
    rows = succeeded(table).splitlines()
    assert rows[0].split() == ["NAME", "ID", "SIZE", "RAM", "STATE"]
    # sorted by name as the widget sorts
    assert len(rows) == 5 and "Medium Model" in rows[3] and "25.2 MB" in rows[3]
    # states in the widget's words (core/labels.py state_words, js/src/labels.js stateWords)
    assert rows[2].endswith("  Cloud") and rows[3].endswith("  Not downloaded")
    assert rows[4].endswith("  Not downloaded · Custom")
    records = json.loads(succeeded(records))
    assert [r["id"] for r in records] == ["badsum", "cloudy", "medium", "small"]
    assert all(r.keys() >= RECORD_KEYS for r in records)
    assert records[2]["bytes"] == 24 * MiB and records[2]["state"] == "not downloaded"
    assert [r["id"] for r in json.loads(succeeded(llama))] == ["medium"]  # by foundation
    assert succeeded(ids).split() == ["badsum", "cloudy", "medium", "small"]
    # the widget's Details: its labels and words, no raw enum token
    assert succeeded(shown).splitlines() == [
        "Medium Model",
        "  State             Not downloaded",
        "  Version           1.0.0",
        "  Foundation        Llama 3 8B",
        "  Size              25.2 MB",
        "  RAM               25.2 MB",
        "  Type              Balanced",
        "  Usage             Code conversation",
        "  Id                medium",
    ]
    detail = json.loads(succeeded(detail))
    assert detail.keys() >= RECORD_KEYS and detail["raw"]["id"] == "medium"
    one_error_line(nope, 1, "'nope' was not found", "pieces-models list")
    text = succeeded(status)
    assert url in text and "ready" in text and "Memory:" in text
    body = json.loads(succeeded(body))
    assert body["connected"] is True and body["base_url"] == url
    assert body["health"].startswith("ok:") and body["version"].count(".") == 2
    assert body["summary"]["total_memory"] > 0
    assert {"on_device", "loaded_ram", "available_memory", "free_disk"} <= body["summary"].keys()


def test_list_sorts_aligns_and_fits_80_columns_and_rm_of_nothing(shared: ServerProcess) -> None:
    by_size, nothing = cli_all(
        ["list", "--sort", "size"], ["rm", "medium", "--yes"], url=shared.url
    )
    rows = succeeded(by_size).splitlines()
    assert [r.split()[0] for r in rows[1:]] == ["Medium", "Small", "Bad", "Cloud"]
    size_end = rows[0].index("SIZE") + len("SIZE")  # right-aligned under the header's end
    assert all(r[size_end - 2 : size_end] in ("MB", "-".rjust(2)) for r in rows[1:]), rows
    assert succeeded(nothing) == "medium: nothing on disk to delete\n"  # and exit 0


def test_table_never_wraps_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pieces_widget.cli.output import Output, sort_models
    from pieces_widget.core.models import Model

    monkeypatch.setenv("COLUMNS", "80")
    name = "A Very Long Model Name That Somebody Typed Into The Add Form Without Stopping"
    rows = [(name, "custom-model-id", "4.9 GB", "6.1 GB", "not downloaded")]
    Output().table(("NAME", "ID", "SIZE", "RAM", "STATE"), rows, right=(2, 3), shrink=0)
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) < 80 for line in lines), lines
    assert "custom-model-id" in lines[1] and "…" in lines[1]  # the id is never cut
    named = [
        Model.from_json({"id": i, "name": n}) for i, n in [("b", "Model 10"), ("a", "model 2")]
    ]
    assert [m.id for m in sort_models(named)] == ["a", "b"]  # numbers by value, case folded


def test_lifecycle_pull_load_unload_rm_ensure(shared: ServerProcess) -> None:
    url = shared.url
    text = ok("pull", "small", "medium", url=url)
    assert "small: downloaded 4.2 MB in" in text and "medium: downloaded 25.2 MB in" in text
    assert as_json("pull", "small", url=url) == [
        {"id": "small", "status": "COMPLETED", "already": True}
    ]
    loaded = as_json("load", "small", url=url)
    assert loaded["loaded"] is True and loaded["ram"] == 4 * MiB
    assert as_json("unload", "--all", url=url) == {"unloaded": ["small"]}
    cloud_load, cloud_pull, cancel = cli_all(
        ["load", "cloudy"], ["pull", "cloudy"], ["cancel", "small"], url=url
    )
    one_error_line(cloud_load, 1, "cloud model")
    one_error_line(cloud_pull, 1, "cloud model")
    assert "no download in flight" in succeeded(cancel)
    removed = as_json("rm", "small", "--yes", url=url)
    assert removed["downloaded"] is False and removed["result"] is not None
    one_error_line(cli("load", "small", url=url), 1, "not downloaded")
    # ensure downloads what is missing, loads, and is idempotent (no second hub request)
    ensured = as_json("ensure", "small", "medium", "cloudy", "--load", url=url)
    assert [(r["id"], r["state"]) for r in ensured] == [
        ("small", "loaded"), ("medium", "loaded"), ("cloudy", "cloud")
    ]  # fmt: skip
    text = ok("ensure", "small", "medium", "--load", url=url)
    assert "small: already downloaded" in text and "medium: already loaded" in text
    assert len(hub_requests(shared, "small-4194304.bin")) == 2  # the first pull, after rm
    assert len(hub_requests(shared, "medium-25165824.bin")) == 1
    assert as_json("unload", "small", url=url)["loaded"] is False


def test_failed_download_is_exit_1(shared: ServerProcess) -> None:
    done = cli("pull", "badsum", "small", "--json", url=shared.url)
    one_error_line(done, 1, "badsum")
    assert [(r["id"], r["status"]) for r in json.loads(done.stdout)] == [
        ("badsum", "FAILED"), ("small", "COMPLETED")
    ]  # fmt: skip


def test_ctrl_c_cancels_on_the_server_and_the_next_pull_resumes(server: ServerProcess) -> None:
    proc = _popen(["pull", "medium"], server.url)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("medium: ")  # the download is under way
    parts = (server.data_dir / "models").glob
    wait_for(  # some bytes written, far from the end (24 MiB at 8 MiB/s)
        lambda: any(p.stat().st_size > MiB for p in parts("*.part")), 10, message="1 MiB on disk"
    )
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, (out, err)
    assert "medium: canceled at" in out
    (line,) = err.splitlines()
    assert "interrupted: canceled medium at" in line
    model = requests.get(f"{server.url}/model/medium", timeout=5).json()
    assert model["downloading"] is False and model["downloaded"] is False
    assert '"POST /model/medium/download/cancel' in server.log()
    part = next((server.data_dir / "models").glob("*.part")).stat().st_size
    assert 0 < part < 24 * MiB
    (result,) = as_json("pull", "medium", url=server.url)
    assert result["status"] == "COMPLETED" and result["bytes_done"] == 24 * MiB
    assert hub_requests(server, "medium-25165824.bin")[-1] == f"bytes={part}-"
    assert not list((server.data_dir / "models").glob("*.part"))


def test_server_gone_mid_pull_is_exit_3(server: ServerProcess) -> None:
    proc = _popen(["pull", "medium", "--give-up-after", "1"], server.url)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("medium: ")
    server.kill()
    began = time.monotonic()
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 3, (out, err)
    assert time.monotonic() - began < 6
    (line,) = err.splitlines()
    assert f"Pieces OS at {server.url} stopped answering during the pull" in line


def test_stall_is_reported_then_the_end(fault: FaultServer) -> None:
    fault.frames = [json.dumps({"status": "IN-PROGRESS", "percentage": p}) for p in (10, 20, 30)]
    fault.frame_interval = 0.2
    fault.close_after_frames = False  # then silence, while the model stays "downloading"
    proc = _popen(["pull", "m", "--stall-after", "1"], fault.url)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(2)]
    assert lines[0].startswith("m: downloading, ") and lines[0].endswith("% of 1 KB\n")
    assert re.fullmatch(r"m: stalled at 30%, no bytes for \d+ s\n", lines[1]), lines
    fault.model.update(downloaded=True, downloading=False)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and err == "", err
    assert out.startswith("m: downloaded 1 KB in ")


def run_in_pty(args: list[str], answer: bytes = b"", timeout: float = 30) -> tuple[str, int]:
    """Run the CLI with a terminal (80 columns) as stdin/stdout/stderr; its output and code."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the CLI
        try:
            os.execve(sys.executable, [sys.executable, "-m", "pieces_widget", *args], ENV)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    output, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answer and b"[y/N]" in output:
            os.write(fd, answer)
            answer = b""
        if not select.select([fd], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return output.decode(errors="replace"), os.waitstatus_to_exitcode(status)


def test_tqdm_bars_in_a_terminal_and_rm_asks(server: ServerProcess) -> None:
    output, code = run_in_pty(["pull", "medium", "small", "--url", server.url])
    assert code == 0, output
    frames = output.replace("\r\n", "\r").split("\r")
    medium = [f for f in frames if f.startswith("medium ")]
    assert any("MB/s" in f and "ETA" in f and "%|" in f for f in medium), frames[:20]
    assert medium[-1].startswith("medium  100%|") and "25.2MB/25.2MB, done in 00:0" in medium[-1]
    assert any(f.startswith("small   100%|") for f in frames)
    output, code = run_in_pty(["rm", "small", "--url", server.url], answer=b"n\n")
    assert code == 1 and "Delete the weights of Small Model (small, 4.2 MB)?" in output
    assert "nothing deleted" in output
    output, code = run_in_pty(["rm", "small", "--url", server.url], answer=b"y\n")
    assert code == 0 and "small: weights deleted" in output


def test_serve_runs_the_reference_server(tmp_path: Path, catalog_path: Path) -> None:
    args = ["serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--catalog"]
    proc = subprocess.Popen(
        [*CLI, *args, str(catalog_path), "--quiet"], env=ENV, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, line
        url = line.split("listening on ", 1)[1].split()[0]
        assert {"small", "medium"} <= {r["id"] for r in as_json("list", url=url)}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    done = cli("serve", "--help")
    assert done.returncode == 0 and "--data-dir" in done.stdout and "--hub-rate" in done.stdout


def test_server_error_text_reaches_the_terminal_without_escapes(fault: FaultServer) -> None:
    fault.model.update(downloaded=True, downloading=False)
    fault.status_for["/model/m/load"] = (500, "\x1b[31mred\x1b]0;title\x07 and\nmore\x9b2J")
    done = cli("load", "m", url=fault.url)
    line = one_error_line(done, 1, "red", "and more")
    assert not any(c in line for c in "\x1b\x07\x9b"), repr(line)


def test_only_a_bad_id_is_a_usage_error(fault: FaultServer) -> None:
    """Exit 2 is for ids that cannot be ids (checked before any request); a ValueError from
    anywhere else is exit 1, one line."""
    dead = "http://127.0.0.1:9"
    empty, not_text = cli_all(
        ["pull", "m", "", "--url", dead], ["show", os.fsdecode(b"m\xff"), "--url", dead]
    )
    one_error_line(empty, 2, "a model id cannot be empty")
    one_error_line(not_text, 2, "is not valid text")
    fault.model["id"] = 5  # a model no call could name: left out of the list, an error alone
    listed = cli("list", url=fault.url)
    assert listed.returncode == 0 and listed.stdout.strip().splitlines()[1:] == []
    one_error_line(cli("show", "m", url=fault.url), 1, "unexpected answer")


def test_server_text_is_cleaned_in_every_listing(fault: FaultServer) -> None:
    """Escape sequences in ids and names never reach the terminal (``list -q`` too), and text
    no encoding can carry (a lone surrogate) is replaced: the list still prints."""
    fault.model.update(id="m\x1b[2J\x1b]0;owned\x07", name="bad\ud800name")
    quiet, table = cli_all(["list", "-q", "--url", fault.url], ["list", "--url", fault.url])
    for done in (quiet, table):
        out = succeeded(done)
        assert not any(c in out for c in "\x1b\x07"), repr(out)
    assert quiet.stdout == "m?[2J?]0;owned?\n"
    assert "bad\ufffdname" in table.stdout


def test_a_silent_server_is_too_slow_not_unreachable() -> None:
    slow = SlowServer()
    try:
        began = time.monotonic()
        done = cli("list", "--timeout", "1", url=slow.url)
        one_error_line(done, 3, "Pieces OS is too slow to answer: GET /models", "took over 1 s")
        assert "not reachable" not in done.stderr and time.monotonic() - began < 15
    finally:
        slow.close()

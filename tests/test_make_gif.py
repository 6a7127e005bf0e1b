"""docs/make_gif.py: PNG frames of a download become a small looping GIF with one palette."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_gif", REPO / "docs" / "make_gif.py")
assert spec is not None and spec.loader is not None
make_gif = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_gif)


def _frames(folder: Path, count: int = 12, size: tuple[int, int] = (1280, 300)) -> Path:
    """Screenshots of a bar filling up, as a browser test would take them."""
    folder.mkdir()
    for i in range(count):
        image = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(image)
        draw.text((20, 20), f"Gemma 1.1 2B  {100 * i // (count - 1)} %", fill="black")
        draw.rectangle((20, 60, 20 + (size[0] - 40) * i // (count - 1), 80), fill="#1565c0")
        image.save(folder / f"frame-{i:03d}.png")
    return folder


def test_frames_become_a_small_looping_gif(tmp_path: Path) -> None:
    out = tmp_path / "download.gif"
    assert make_gif.main([str(_frames(tmp_path / "f")), "-o", str(out), "--fps", "5"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 12
        assert gif.info["loop"] == 0
        assert gif.size == (720, 169)  # scaled to --width, aspect kept
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
        assert durations[:-1] == [200] * 11 and durations[-1] == 2200  # rests on the end
        assert len(gif.getpalette() or []) // 3 <= 64
    assert out.stat().st_size < 100_000


def test_crop_and_errors(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "f", count=3)
    out = tmp_path / "crop.gif"
    assert make_gif.main([str(frames), "-o", str(out), "--crop", "0,0,400,100"]) == 0
    with Image.open(out) as gif:
        assert gif.size == (400, 100)
    Image.new("RGB", (10, 10)).save(frames / "frame-999.png")  # a frame of another size
    assert make_gif.main([str(frames), "-o", str(out)]) == 1
    assert make_gif.main([str(tmp_path / "empty"), "-o", str(out)]) == 1
    with pytest.raises(SystemExit):
        make_gif.main([str(frames), "-o", str(out), "--crop", "1,2"])

"""Assemble browser screenshots into a small looping GIF for the README.

    python docs/make_gif.py FRAMES_DIR_OR_PNGS... -o docs/download.gif [--fps 5] [--width 720]
        [--crop X,Y,W,H] [--colors 64] [--hold-last 2]

Frames are taken in name order (``frame-000.png``, ``frame-001.png``, ...), for example by a
Playwright loop that calls ``page.locator(".pieces-widget").screenshot(path=...)`` every 200 ms
while a download runs. All frames share one palette (no flicker between frames, and smaller);
Pillow stores only what changed between frames and merges repeated ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

MAX_BYTES = 1_500_000  # above this the script warns: too heavy for the top of a README


def frame_paths(inputs: list[Path]) -> list[Path]:
    """PNG files given, and those in directories given, each directory in name order."""
    paths: list[Path] = []
    for item in inputs:
        paths += sorted(item.glob("*.png")) if item.is_dir() else [item]
    return paths


def load_frames(
    paths: list[Path], width: int | None, crop: tuple[int, int, int, int] | None
) -> list[Image.Image]:
    frames = []
    for path in paths:
        with Image.open(path) as image:
            frame = image.convert("RGB")
        if crop is not None:
            x, y, w, h = crop
            frame = frame.crop((x, y, x + w, y + h))
        if width is not None and frame.width > width:
            height = round(frame.height * width / frame.width)
            frame = frame.resize((width, height), Image.Resampling.LANCZOS)
        frames.append(frame)
    if len({f.size for f in frames}) > 1:
        raise ValueError("frames differ in size: crop them alike (--crop)")
    return frames


def shared_palette(frames: list[Image.Image], colors: int) -> Image.Image:
    """One adaptive palette for every frame, from a sample of all of them stacked."""
    step = max(1, len(frames) // 16)
    sample = frames[::step]
    w, h = sample[0].size
    sheet = Image.new("RGB", (w, h * len(sample)))
    for i, frame in enumerate(sample):
        sheet.paste(frame, (0, i * h))
    return sheet.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)


def make_gif(
    inputs: list[Path],
    out: Path,
    fps: float = 5,
    width: int | None = 720,
    crop: tuple[int, int, int, int] | None = None,
    colors: int = 64,
    hold_last: float = 2.0,
) -> int:
    """Write the GIF and return its size in bytes."""
    paths = frame_paths(inputs)
    if not paths:
        raise ValueError("no PNG frames found")
    frames = load_frames(paths, width, crop)
    palette = shared_palette(frames, colors)
    indexed = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [round(1000 / fps)] * len(indexed)
    durations[-1] += round(hold_last * 1000)  # rest on the finished state before looping
    indexed[0].save(
        out,
        save_all=True,
        append_images=indexed[1:],
        duration=durations,
        loop=0,
        optimize=True,
    )
    return out.stat().st_size


def _crop(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError("--crop takes X,Y,W,H")
    return parts[0], parts[1], parts[2], parts[3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="PNG files or folders of them")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the GIF to write")
    parser.add_argument("--fps", type=float, default=5, help="frames per second (default 5)")
    parser.add_argument("--width", type=int, default=720, help="scale down to this width")
    parser.add_argument("--crop", type=_crop, help="X,Y,W,H of the frames to keep")
    parser.add_argument("--colors", type=int, default=64, help="palette size (default 64)")
    parser.add_argument("--hold-last", type=float, default=2.0, help="s on the last frame")
    args = parser.parse_args(argv)
    try:
        size = make_gif(
            args.inputs, args.out, args.fps, args.width, args.crop, args.colors, args.hold_last
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {size / 1000:.0f} kB")
    if size > MAX_BYTES:
        print(f"warning: over {MAX_BYTES / 1e6:.1f} MB; try --width, --colors or --fps lower")
    return 0


if __name__ == "__main__":
    sys.exit(main())

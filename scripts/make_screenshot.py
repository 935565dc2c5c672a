"""Render the HTML report of models/demo.onnx and screenshot it with headless Chromium.

    .venv/bin/python scripts/make_screenshot.py [--out docs/img/report.png] [--height 1900] [--device rpi5]

Needs Debian's ``chromium`` (``apt-get install chromium``). The page is opened from a file in a
fresh temporary profile with networking disabled; the report itself makes no request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default="models/demo.onnx", help="relative to the repository root")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "report.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1900)
    parser.add_argument("--device", action="append", default=None,
                        help="a catalogue device for the latency and energy sections (default: rpi5); repeatable")
    args = parser.parse_args(argv)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("make_screenshot: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    from edgeprof import api
    from edgeprof.render.html import render_html

    out = Path(args.out).resolve()
    os.chdir(ROOT)  # the report shows the model path as given: keep it relative
    devices = args.device or ["rpi5"]
    profile = api.estimate_energy(api.predict_latency(api.profile(args.model), devices), devices)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render_html(profile), encoding="utf-8")
        cmd = [chromium, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--window-size={args.width},{args.height}", f"--screenshot={out}", page.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.exists():
        print(f"make_screenshot: chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

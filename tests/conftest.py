"""Fixtures shared by the test files: synthetic scenes, DNG writers, the shipped model, ../shared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from seeisp.dng import linear_dng_tags, write_dng, write_tiff
from seeisp.raw import LINEAR_RAW
from seeisp.sim.synthesis import Camera, mosaic


def read_only_folder(tmp_path: Path) -> Path:
    """A folder this user cannot create files in; the test is skipped for a user (root) who can anyway."""
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return folder
    pytest.skip("this user (root) writes into read-only folders")


def write_linear_dng(path: Path, rgb: np.ndarray, white_level: int = 65535) -> Path:
    """A demosaicked ("linear") DNG: three samples per pixel, no CFA pattern, which seeisp refuses."""
    write_tiff(path, np.ascontiguousarray(rgb, dtype=np.uint16), LINEAR_RAW, linear_dng_tags(white_level))
    return path


def write_monochrome_dng(path: Path, image: np.ndarray, white_level: int = 65535) -> Path:
    """A monochrome DNG: one sample per pixel, no colour filter array, which seeisp refuses."""
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),
        (50708, "s", 0, "seeisp Mono", True),
        (50717, "I", 1, white_level, True),
    ]
    # tifffile refuses LinearRaw with one sample, which is what DNG uses for monochrome: write it as
    # BlackIsZero, then patch the PhotometricInterpretation tag in place.
    write_tiff(path, np.ascontiguousarray(image, dtype=np.uint16), photometric=1, extratags=tags)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages.first.tags["PhotometricInterpretation"].overwrite(LINEAR_RAW)
    return path


def write_onnx(path: Path, kind: str) -> Path:
    """A valid ONNX graph that is not a seeisp network: a flat identity, a 4-channel identity (raw in, raw out),
    or the first three channels of the packed raw (camera RGB's channels, but at half its size)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    packed = ["batch", 4, "height", "width"]
    if kind == "flat":
        x, y, node = [1, 3], [1, 3], helper.make_node("Identity", ["x"], ["y"])
        inits = []
    elif kind == "raw out":
        x, y, node = packed, packed, helper.make_node("Identity", ["x"], ["y"])
        inits = []
    else:
        x, y = packed, ["batch", 3, "height", "width"]
        node = helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"])
        inits = [
            helper.make_tensor(name, TensorProto.INT64, [1], [v])
            for name, v in (("starts", 0), ("ends", 3), ("axes", 1))
        ]
    graph = helper.make_graph(
        [node],
        kind,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)],
        initializer=inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


SHARED = Path(__file__).resolve().parents[2] / "shared"
NIKON_CROP = SHARED / "data" / "raw" / "nikon_d750_crop"

# A fixed camera: the Nikon D750 colour matrix and a daylight-ish white balance.
TEST_CAMERA = Camera(
    xyz_to_camera=np.array([[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]]),
    white_balance=np.array([1.95, 1.0, 1.34]),
)


def scene_camera_rgb(height: int = 192, width: int = 256, seed: int = 0) -> np.ndarray:
    """A clean linear camera-RGB test scene: smooth colour ramps, a few hard-edged patches."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy /= height
    xx /= width
    rgb = np.stack([0.05 + 0.4 * xx, 0.1 + 0.35 * yy, 0.08 + 0.3 * (1 - xx) * yy], axis=-1)
    for _ in range(6):
        y, x = rng.integers(0, height - 40), rng.integers(0, width - 40)
        rgb[y : y + 32, x : x + 32] = rng.uniform(0.02, 0.5, size=3)
    return rgb.astype(np.float32)


def write_scene_dng(
    path: Path,
    camera_rgb: np.ndarray,
    *,
    cfa: str = "RGGB",
    ratio: float = 1.0,
    black: int | list[int] = 512,
    white: int = 16383,
    orientation: int = 1,
    camera: Camera = TEST_CAMERA,
) -> Path:
    """Mosaic clean camera RGB in ``cfa``, darken it by ``ratio`` (no noise) and write a DNG."""
    cells = np.broadcast_to(np.asarray(black, dtype=np.float64), (4,)).reshape(2, 2)
    h, w = camera_rgb.shape[:2]
    black_map = np.tile(cells, (h // 2 + 1, w // 2 + 1))[:h, :w]
    dn = np.round(mosaic(camera_rgb, cfa) / ratio * (white - black_map) + black_map)
    return write_dng(
        path,
        np.clip(dn, 0, white).astype(np.uint16),
        cfa=cfa,
        black_level=black,
        white_level=white,
        xyz_to_camera=camera.xyz_to_camera,
        as_shot_neutral=camera.as_shot_neutral,
        orientation=orientation,
    )


DARK_HEIGHT, DARK_WIDTH = 256, 384  # sensor size of the dark test raws
DARK_BLACK, DARK_WHITE = 512, 16383


def write_dark_dng(path: Path, *, level: float = 0.02, seed: int = 0, orientation: int = 1, **tags: object) -> Path:
    """A dark, noisy raw as a user would drop it: a left-to-right ramp under a bright band across the
    sensor's top quarter (so turns and flips show), at ``level`` of the white level, 4 DN of noise.

    ``tags`` go to ``write_dng`` (exposure_time, iso, ...); make and model default to "Acme Nightcam".
    """
    y, x = np.mgrid[0:DARK_HEIGHT, 0:DARK_WIDTH].astype(np.float32)
    scene = 0.2 + 0.6 * x / DARK_WIDTH + 0.5 * (y < DARK_HEIGHT // 4)
    return _write_nightcam_dng(path, scene, level, seed, orientation=orientation, **tags)


SENSOR_BIAS = np.array([[20, 14], [26, 20]])  # DN per 2x2 site by which the sensor's black is above the stated one


def write_biased_dng(
    path: Path,
    *,
    level: float = 0.02,
    bias: np.ndarray = SENSOR_BIAS,
    cfa: str = "RGGB",
    seed: int = 0,
    size: tuple[int, int] = (DARK_HEIGHT, DARK_WIDTH),
) -> Path:
    """A Nightcam raw whose sensor's black sits ``bias`` DN above the black level its metadata states, with 4 DN
    of noise: a left-to-right ramp at ``level`` of white, or a dark frame (lens capped) with ``level=0``."""
    height, width = size
    ramp = 0.2 + 0.6 * np.mgrid[0:height, 0:width][1] / width
    return _write_nightcam_dng(path, ramp, level, seed, bias=bias, cfa=cfa)


def write_cast_dng(path: Path, *, level: float = 0.02, seed: int = 0) -> Path:
    """A dark raw of a grey scene (soft blobs of many brightnesses, R = G = B in camera RGB) whose as-shot
    white balance is wrong: rendered as shot it turns magenta, as ``write_dark_dng``'s does."""
    coarse = np.random.default_rng(seed + 1).uniform(0.1, 1.0, (DARK_HEIGHT // 32 + 2, DARK_WIDTH // 32 + 2))
    y, x = np.mgrid[0:DARK_HEIGHT, 0:DARK_WIDTH] / 32.0
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = y - y0, x - x0  # bilinear: soft, natural-looking brightness changes
    scene = (
        coarse[y0, x0] * (1 - fy) * (1 - fx)
        + coarse[y0 + 1, x0] * fy * (1 - fx)
        + coarse[y0, x0 + 1] * (1 - fy) * fx
        + coarse[y0 + 1, x0 + 1] * fy * fx
    )
    return _write_nightcam_dng(path, scene, level, seed)


def _write_nightcam_dng(
    path: Path, scene: np.ndarray, level: float, seed: int, bias: np.ndarray | None = None, **tags: object
) -> Path:
    """``scene`` (grey, 0-1) at ``level`` of the white level with 4 DN of noise, as the "Acme Nightcam" writes it;
    ``bias`` (2, 2): DN per 2x2 site by which its sensor's black sits above the black level it states."""
    height, width = scene.shape
    black = DARK_BLACK + (0 if bias is None else np.tile(bias, (height // 2 + 1, width // 2 + 1))[:height, :width])
    dn = black + np.clip(scene, 0, 1) * level * (DARK_WHITE - DARK_BLACK)
    dn += np.random.default_rng(seed).normal(0, 4, scene.shape)
    return write_dng(
        path,
        np.clip(np.rint(dn), 0, DARK_WHITE).astype(np.uint16),
        black_level=DARK_BLACK,
        white_level=DARK_WHITE,
        as_shot_neutral=(0.55, 1.0, 0.7),
        **{"make": "Acme", "model": "Nightcam", **tags},
    )


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shipped model (the lite one if there), so tests never see weights/ change."""
    from seeisp.models import MODELS, available_models, model_path

    installed = available_models()
    if not installed:
        pytest.skip("no seeisp model in weights/")
    name = "lite" if "lite" in installed else installed[0]
    copy = tmp_path_factory.mktemp("weights") / MODELS[name].filename
    shutil.copyfile(model_path(name), copy)
    return copy


@pytest.fixture(scope="session")
def lite_session():
    from seeisp.session import ModelSession

    return ModelSession.from_name("lite")


@pytest.fixture(scope="session")
def nikon_crop() -> dict:
    if not NIKON_CROP.is_dir():
        pytest.skip("../shared/data/raw/nikon_d750_crop is not present")
    meta = json.loads((NIKON_CROP / "metadata.json").read_text())
    h, w = meta["shape"]
    frames = {
        cfa: np.fromfile(NIKON_CROP / name, dtype=meta["dtype"]).reshape(h, w) for name, cfa in meta["files"].items()
    }
    return {"meta": meta, "frames": frames}

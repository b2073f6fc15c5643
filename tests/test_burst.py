"""Bursts (``seeisp.burst``): alignment, the robust merge, bad frames, CFA phases, ``seeisp enhance --burst``."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

from seeisp.burst import (
    BurstError,
    BurstFrameWarning,
    Reference,
    check_same_kind,
    frame_motion,
    merge_burst,
    to_planes,
)
from seeisp.cli import main
from seeisp.dng import write_dng
from seeisp.raw import read_raw
from seeisp.sim.synthesis import mosaic

BLACK, WHITE = 512, 16383
LEVEL = 0.05  # of white: a dark frame
NOISE_DN = 6.0


def textured_scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Clean camera RGB (0-1) with detail at every scale: blurred random blobs of several sizes and colours."""
    import cv2

    rng = np.random.default_rng(seed)
    scene = np.zeros((height, width, 3), np.float32)
    for size in (4, 12, 40):
        blobs = rng.uniform(0, 1, (height, width, 3)).astype(np.float32)
        scene += cv2.GaussianBlur(blobs, (0, 0), size)
    scene -= scene.min()
    return (0.05 + 0.9 * scene / scene.max()).astype(np.float32)


def crop(scene: np.ndarray, dy: float, dx: float, size: tuple[int, int], margin: int = 40) -> np.ndarray:
    """What a camera moved by (dy, dx) pixels sees of ``scene``: scene pixel (margin + y + dy, margin + x + dx) at
    (y, x). Whole-pixel shifts are exact; fractional ones are resampled."""
    import cv2

    h, w = size
    motion = np.array([[1, 0, margin + dx], [0, 1, margin + dy]], np.float32)
    return cv2.warpAffine(scene, motion, (w, h), flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP)


def write_frame(
    path: Path, camera_rgb: np.ndarray, *, cfa: str = "RGGB", seed: int = 0, noise: float = NOISE_DN, **tags
) -> Path:
    """A dark noisy DNG of clean camera RGB: ``LEVEL`` of white, Gaussian noise of ``noise`` DN."""
    rng = np.random.default_rng(seed)
    dn = (
        BLACK
        + np.clip(mosaic(camera_rgb, cfa), 0, 1) * LEVEL * (WHITE - BLACK)
        + rng.normal(0, noise, camera_rgb.shape[:2])
    )
    return write_dng(
        path,
        np.clip(np.rint(dn), 0, WHITE).astype(np.uint16),
        cfa=cfa,
        black_level=BLACK,
        white_level=WHITE,
        as_shot_neutral=(0.55, 1.0, 0.7),
        **{"make": "Acme", "model": "Nightcam", **tags},
    )


def clean_planes(camera_rgb: np.ndarray, cfa: str = "RGGB") -> np.ndarray:
    return to_planes(mosaic(camera_rgb, cfa) * np.float32(LEVEL))


def merge_quietly(paths: list[Path]):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BurstFrameWarning)  # no frame of these tests may be left out
        return merge_burst(paths)


@pytest.mark.parametrize(("dy", "dx"), [(6.0, -10.0), (-17.5, 23.0), (3.25, 0.75)])
def test_alignment_recovers_known_shifts_to_a_quarter_pixel(tmp_path: Path, dy: float, dx: float) -> None:
    scene = textured_scene(400, 480)
    reference = read_raw(write_frame(tmp_path / "a.dng", crop(scene, 0, 0, (256, 320)), seed=1))
    moved = read_raw(write_frame(tmp_path / "b.dng", crop(scene, dy, dx, (256, 320)), seed=2))
    motion = frame_motion(Reference.of(to_planes(reference.mosaic)), to_planes(moved.mosaic))
    assert motion is not None
    found_dx, found_dy = 2 * motion[:, 2]  # packed pixels -> raw pixels
    assert abs(found_dx + dx) <= 0.25 and abs(found_dy + dy) <= 0.25
    assert np.allclose(motion[:, :2], np.eye(2), atol=1e-3)


def test_alignment_recovers_a_turn(tmp_path: Path) -> None:
    import cv2

    scene = textured_scene(300, 380)
    turned = cv2.warpAffine(scene, cv2.getRotationMatrix2D((190, 150), 0.8, 1.0), (380, 300), flags=cv2.INTER_LANCZOS4)
    reference = read_raw(write_frame(tmp_path / "a.dng", scene[22:278, 30:350], seed=1))
    frame = read_raw(write_frame(tmp_path / "b.dng", turned[22:278, 30:350], seed=2))
    motion = frame_motion(Reference.of(to_planes(reference.mosaic)), to_planes(frame.mosaic))
    assert motion is not None
    angle = np.degrees(np.arctan2(motion[1, 0], motion[0, 0]))
    assert abs(abs(angle) - 0.8) < 0.05


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_merged_frames_of_every_cfa_phase_have_less_noise_and_keep_the_colours(tmp_path: Path, cfa: str) -> None:
    scene = textured_scene(360, 420, seed=3)
    shifts = [(0, 0), (3, -5), (-7, 2), (1.5, 4.5)]  # odd shifts move each colour onto another's sites
    frames = [crop(scene, dy, dx, (256, 320)) for dy, dx in shifts]
    paths = [write_frame(tmp_path / f"f{i}.dng", frame, cfa=cfa, seed=i) for i, frame in enumerate(frames)]
    merged, used = merge_quietly(paths)
    truth = clean_planes(frames[0], cfa)[:, 8:-8, 8:-8]
    single = to_planes(read_raw(paths[0]).mosaic)[:, 8:-8, 8:-8]
    merged_planes = to_planes(merged.mosaic)[:, 8:-8, 8:-8]
    assert used == paths and merged.cfa.value == cfa
    single_error = np.mean((single - truth) ** 2)
    assert np.mean((merged_planes - truth) ** 2) < 0.5 * single_error  # 4 frames: the noise's variance about / 3
    for plane, clean in zip(merged_planes, truth, strict=True):  # each site keeps its own colour's level
        assert abs(plane.mean() - clean.mean()) < 0.02 * LEVEL


def test_an_x_trans_burst_merges_on_the_bayer_grid_the_networks_read(tmp_path: Path) -> None:
    from seeisp.xtrans import REFERENCE, bayer_cfa, to_bayer

    scene = textured_scene(340, 400, seed=4)
    shifts = [(0, 0), (6, -12), (-5, 6), (3, 4)]  # whole X-Trans cells or not
    frames = [crop(scene, dy, dx, (252, 312)) for dy, dx in shifts]
    paths = [write_frame(tmp_path / f"x{i}.dng", f, cfa=REFERENCE.value, seed=i) for i, f in enumerate(frames)]
    merged, used = merge_quietly(paths)
    assert used == paths and merged.cfa == bayer_cfa(REFERENCE)
    truth = to_planes(to_bayer(mosaic(frames[0], REFERENCE.value), REFERENCE) * np.float32(LEVEL))[:, 8:-8, 8:-8]
    single = to_planes(to_bayer(read_raw(paths[0]).mosaic, REFERENCE))[:, 8:-8, 8:-8]
    merged_planes = to_planes(merged.mosaic)[:, 8:-8, 8:-8]
    # Less than the 4 frames' noise would allow: each frame's resampling onto the Bayer grid errs in its own way
    # where the scene moved by other than whole X-Trans cells, and the merge keeps what differs beyond the noise out.
    assert np.mean((merged_planes - truth) ** 2) < 0.7 * np.mean((single - truth) ** 2)
    for plane, clean in zip(merged_planes, truth, strict=True):  # each site keeps its own colour's level
        assert abs(plane.mean() - clean.mean()) < 0.02 * LEVEL


def test_a_moving_patch_is_not_averaged_in(tmp_path: Path) -> None:
    scene = textured_scene(384, 512, seed=5) * 0.3
    patch = np.array([0.9, 0.8, 0.9], np.float32)
    frames = []
    for index in range(3):
        frame = scene.copy()
        frame[176:208, 96 + 48 * index : 128 + 48 * index] = patch  # moves 48 px a frame, on a still background
        frames.append(frame)
    paths = [write_frame(tmp_path / f"f{i}.dng", frame, seed=i) for i, frame in enumerate(frames)]
    merged, _ = merge_quietly(paths)
    planes = to_planes(merged.mosaic)
    truth = clean_planes(frames[0])
    # Where the patch is in the reference, and where it is only in the other frames: the reference's scene.
    for rows, cols in (
        (slice(90, 102), slice(50, 62)),
        (slice(90, 102), slice(74, 86)),
        (slice(90, 102), slice(98, 110)),
    ):
        error = np.abs(planes[:, rows, cols].mean(axis=(1, 2)) - truth[:, rows, cols].mean(axis=(1, 2)))
        assert error.max() < 0.05 * LEVEL, (rows, cols, error)


def test_a_frame_of_another_scene_is_left_out_with_a_warning(tmp_path: Path) -> None:
    scene = textured_scene(300, 360, seed=1)
    other = textured_scene(256, 320, seed=9)
    paths = [
        write_frame(tmp_path / "a.dng", crop(scene, 0, 0, (256, 320)), seed=1),
        write_frame(tmp_path / "b.dng", crop(scene, 4, -6, (256, 320)), seed=2),
        write_frame(tmp_path / "elsewhere.dng", other, seed=3),
    ]
    with pytest.warns(BurstFrameWarning, match=r"elsewhere\.dng: does not align") as caught:
        _, used = merge_burst(paths)
    assert used == paths[:2]
    assert len(caught) == 1 and "\n" not in str(caught[0].message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size": (256, 318)}, r"b\.dng: 318x256 pixels, but the burst's first frame has 320x256"),
        ({"cfa": "GRBG"}, r"b\.dng: colour filter GRBG, but RGGB in the first frame"),
        ({"model": "Daycam"}, r"b\.dng: shot with the Acme Daycam, the first frame with the Acme Nightcam"),
    ],
)
def test_frames_of_another_kind_are_refused_in_one_line(tmp_path: Path, change: dict, message: str) -> None:
    scene = textured_scene(256, 320)
    first = write_frame(tmp_path / "a.dng", scene)
    h, w = change.pop("size", (256, 320))
    second = write_frame(tmp_path / "b.dng", scene[:h, :w], seed=1, **change)
    with pytest.raises(BurstError, match=message) as raised:
        merge_burst([first, second])
    assert "\n" not in str(raised.value)


def test_a_frame_at_another_iso_is_refused(tmp_path: Path) -> None:
    raw = read_raw(write_frame(tmp_path / "a.dng", textured_scene(64, 64)))
    with_iso = dataclasses.replace(raw, shot=dataclasses.replace(raw.shot, iso=800.0))
    other_iso = dataclasses.replace(raw, shot=dataclasses.replace(raw.shot, iso=3200.0))
    check_same_kind(with_iso, with_iso, "b.dng")
    with pytest.raises(BurstError, match=r"^b\.dng: shot at ISO 3200, the first frame at ISO 800$"):
        check_same_kind(with_iso, other_iso, "b.dng")


def test_cli_merges_a_burst_into_one_picture_named_after_the_first_frame(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = textured_scene(200, 240)
    folder = tmp_path / "burst"
    folder.mkdir()
    for index, (dy, dx) in enumerate([(0, 0), (2, -4), (-3, 5)]):
        write_frame(folder / f"IMG_{index}.dng", crop(scene, dy, dx, (128, 160), margin=30), seed=index)
    code = main(["enhance", "--burst", str(folder), "--ratio", "10", "--model", str(model_file), "-q"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert (folder / "IMG_0.png").is_file()
    assert not (folder / "IMG_1.png").exists() and not (folder / "IMG_2.png").exists()
    assert "3 frames merged" in out.out

    write_frame(folder / "odd.dng", scene[:128, :158], seed=7)
    code = main(["enhance", "--burst", str(folder), "-o", str(tmp_path / "out.png"), "--model", str(model_file)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and not (tmp_path / "out.png").exists()
    assert err == [f"seeisp: error: {folder / 'odd.dng'}: 158x128 pixels, but the burst's first frame has 160x128"]


def test_cli_burst_of_one_frame_is_plain_enhance(tmp_path: Path, model_file: Path) -> None:
    path = write_frame(tmp_path / "only.dng", textured_scene(128, 160))
    assert main(["enhance", "--burst", str(path), "--ratio", "10", "--model", str(model_file), "-q"]) == 0
    assert (tmp_path / "only.png").is_file()


def test_hot_pixels_of_other_frames_get_no_weight(tmp_path: Path) -> None:
    scene = textured_scene(300, 360, seed=2)
    paths = [
        write_frame(tmp_path / f"f{i}.dng", crop(scene, dy, dx, (256, 320)), seed=i)
        for i, (dy, dx) in enumerate([(0, 0), (4, -6)])
    ]
    raw = read_raw(paths[1])
    hot = raw.mosaic.copy()
    hot[101, 151] = 0.9  # one site far above anything around it; it lands near (97, 157) of the reference
    hot_path = write_dng(
        tmp_path / "hot.dng",
        np.rint(hot * (WHITE - BLACK) + BLACK).astype(np.uint16),
        black_level=BLACK,
        white_level=WHITE,
        as_shot_neutral=(0.55, 1.0, 0.7),
        make="Acme",
        model="Nightcam",
    )
    merged, _ = merge_quietly([paths[0], hot_path])
    assert np.abs(merged.mosaic - read_raw(paths[0]).mosaic).max() < 0.2 * LEVEL + 8 * NOISE_DN / (WHITE - BLACK)


def test_a_moving_patch_keeps_the_reference_and_no_more_noise_than_the_rest(tmp_path: Path) -> None:
    # Where the patch is in the reference every other frame differs: the merge keeps the reference's content there
    # (no ghost), and its noise is brought down to that of the rest of the picture, which averaged six frames. A
    # patch left with one frame's noise in a cleaner picture comes out of the networks speckled.
    scene = textured_scene(256, 512, seed=7) * 0.3
    frames = []
    for index in range(6):
        frame = scene.copy()
        frame[96:160, 64 + 64 * index : 128 + 64 * index] = (0.9, 0.8, 0.9)  # moves 64 px a frame, still background
        frames.append(frame)
    paths = [write_frame(tmp_path / f"f{i}.dng", frame, seed=i) for i, frame in enumerate(frames)]
    merged, _ = merge_quietly(paths)
    error = to_planes(merged.mosaic) - clean_planes(frames[0])
    patch = error[:, 56:72, 40:56]  # inside the reference's patch (packed pixels)
    background = error[:, 56:72, 200:216]  # the patch never passes here
    assert np.abs(patch.mean(axis=(1, 2))).max() < 0.02 * LEVEL
    assert patch.std() < 1.3 * background.std(), (patch.std(), background.std())

"""Dark frames: the black level they measure, the pictures they refuse, and what they do to a picture."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seeisp.cli import main
from seeisp.dark_frame import MAX_LEVEL, DarkFrame, dark_frame_for, read_dark_frame, read_dark_frames
from seeisp.dng import write_dng
from seeisp.enhance import enhance_file, enhance_raw
from seeisp.errors import DarkFrameError, InvalidOptionError
from seeisp.eval.metrics import psnr
from seeisp.raw import CFA, Flip, RawImage, Shot, read_raw
from seeisp.sim.noise import tukey_lambda
from seeisp.sim.synthesis import mosaic

from conftest import scene_camera_rgb, write_dark_dng

BLACK, WHITE = 512, 16383
SPAN = WHITE - BLACK
BIAS = np.array([[3.0, -1.0], [1.0, 2.0]])  # DN above the metadata's black level, per site of the 2x2 cell
H, W = 192, 256


def write_dark_frame(path: Path, *, bias: np.ndarray = BIAS, cfa: str = "RGGB", seed: int = 0, **tags) -> Path:
    """A lens-capped raw: black level plus ``bias``, heavy-tailed read noise, row noise and a few hot sites."""
    rng = np.random.default_rng(seed)
    dn = BLACK + np.tile(bias, (H // 2, W // 2)) + 3.0 * tukey_lambda(rng, -0.1, (H, W))
    dn += rng.normal(0, 1.0, (H, 1))
    hot = rng.choice(H * W, size=H * W // 1000, replace=False)
    dn.ravel()[hot] += rng.uniform(500, 5000, hot.size)
    return write_dng(path, np.clip(np.rint(dn), 0, WHITE).astype(np.uint16), cfa=cfa, black_level=BLACK,
                     white_level=WHITE, **tags)  # fmt: skip


def write_picture(path: Path, *, bias: np.ndarray, cfa: str = "RGGB", ratio: float = 100.0) -> Path:
    """A dark, noisy shot of the test scene at ``ratio``, with ``bias`` DN added to its black level."""
    rng = np.random.default_rng(5)
    signal = mosaic(scene_camera_rgb(H, W), cfa) / ratio * SPAN
    dn = BLACK + np.tile(bias, (H // 2, W // 2)) + signal + rng.normal(0, 2.0, (H, W))
    return write_dng(path, np.clip(np.rint(dn), 0, WHITE).astype(np.uint16), cfa=cfa, black_level=BLACK,
                     white_level=WHITE)  # fmt: skip


def test_measures_the_black_level_of_each_site_despite_hot_sites_and_noise(tmp_path: Path) -> None:
    dark = read_dark_frame(write_dark_frame(tmp_path / "cap.dng"))
    assert dark.name == "cap.dng" and dark.cfa is CFA.RGGB
    np.testing.assert_allclose(dark.offsets * SPAN, BIAS, atol=0.15)


def test_the_offsets_are_above_each_sites_own_metadata_black_level(tmp_path: Path) -> None:
    metadata_black = [510, 514, 512, 508]
    dn = np.tile(np.reshape(metadata_black, (2, 2)) + BIAS, (H // 2, W // 2))
    dn += np.random.default_rng(1).normal(0, 2.0, (H, W))
    path = write_dng(tmp_path / "cap.dng", np.rint(dn).astype(np.uint16), black_level=metadata_black, white_level=WHITE)
    span = WHITE - np.reshape(metadata_black, (2, 2))
    np.testing.assert_allclose(read_dark_frame(path).offsets * span, BIAS, atol=0.1)


def test_a_frame_that_saw_light_is_refused(tmp_path: Path) -> None:
    lit = write_dark_dng(tmp_path / "lit.dng", level=4 * MAX_LEVEL)
    with pytest.raises(DarkFrameError, match=r"lit\.dng: not a dark frame, its level is [\d.]+ % of white"):
        read_dark_frame(lit)


def test_a_tiny_frame_is_refused() -> None:
    with pytest.raises(DarkFrameError, match="tiny: 30x20 pixels is too small to measure a black level"):
        DarkFrame.measure(_raw(shape=(20, 30)), name="tiny")


def _raw(cfa: CFA = CFA.RGGB, shot: Shot | None = None, shape: tuple[int, int] = (8, 10)) -> RawImage:
    return RawImage(
        mosaic=np.zeros(shape, np.float32),
        cfa=cfa,
        white_balance=np.ones(3),
        camera_to_srgb=np.eye(3),
        shot=shot or Shot(),
    )


def test_subtract_takes_each_sites_offset_off() -> None:
    offsets = np.array([[0.001, 0.002], [0.003, 0.004]], np.float32)
    dark = DarkFrame(offsets=offsets, cfa=CFA.GRBG, shot=Shot())
    corrected = dark.subtract(_raw(CFA.GRBG))
    np.testing.assert_allclose(corrected.mosaic, -np.tile(offsets, (4, 5)))


@pytest.mark.parametrize(
    ("shot", "dark_shot", "cfa", "message"),
    [
        (Shot(), Shot(), CFA.BGGR, "colour filter BGGR, but RGGB in the dark frame cap.ARW"),
        (
            Shot(make="Sony", model="ILCE-7SM2"),
            Shot(make="Nikon", model="D850"),
            CFA.RGGB,
            "shot with the Sony ILCE-7SM2",
        ),
        (Shot(iso=6400), Shot(iso=3200), CFA.RGGB, "shot at ISO 6400, but the dark frame cap.ARW at ISO 3200"),
    ],
)
def test_a_dark_frame_of_another_filter_camera_or_iso_is_refused(
    shot: Shot, dark_shot: Shot, cfa: CFA, message: str
) -> None:
    dark = DarkFrame(offsets=np.zeros((2, 2), np.float32), cfa=CFA.RGGB, shot=dark_shot, name="cap.ARW")
    with pytest.raises(DarkFrameError, match=message):
        dark.subtract(_raw(cfa, shot))


def test_what_the_raw_does_not_record_is_not_held_against_it() -> None:
    dark = DarkFrame(offsets=np.zeros((2, 2), np.float32), cfa=CFA.RGGB, shot=Shot(make="Sony", iso=3200))
    dark.check_fits(_raw(CFA.RGGB, Shot()))  # no camera, no ISO recorded: nothing to compare
    dark.check_fits(_raw(CFA.RGGB, Shot(make="Sony", iso=3200.4)))


@pytest.mark.parametrize("cfa", ["RGGB", "GBRG"])
def test_with_a_dark_frame_a_biased_picture_comes_out_as_an_unbiased_one(
    tmp_path: Path, lite_session, cfa: str
) -> None:
    bias = np.array([[6.0, -4.0], [-3.0, 5.0]])  # large, so that amplified 100 times it tints the picture
    biased = write_picture(tmp_path / "biased.dng", bias=bias, cfa=cfa)
    unbiased = write_picture(tmp_path / "unbiased.dng", bias=np.zeros((2, 2)), cfa=cfa)
    dark = read_dark_frame(write_dark_frame(tmp_path / "cap.dng", bias=bias, cfa=cfa))

    unbiased_dark = read_dark_frame(write_dark_frame(tmp_path / "cap0.dng", bias=np.zeros((2, 2)), cfa=cfa))

    truth = enhance_raw(read_raw(unbiased), model=lite_session, ratio=100, dark_frame=unbiased_dark).image
    plain = enhance_file(biased, model=lite_session, ratio=100).image
    corrected = enhance_raw(read_raw(biased), model=lite_session, ratio=100, dark_frame=dark)
    assert psnr(plain, truth) < 30
    assert psnr(corrected.image, truth) > 45
    assert corrected.dark_frame == "cap.dng"
    assert corrected.description.endswith(", dark frame cap.dng")


def test_with_a_dark_frame_the_pictures_level_is_the_raws(tmp_path: Path, lite_session) -> None:
    """The raw's level being right, each colour's mean comes out as the amplified raw's (``seeisp.level``)."""
    picture = read_raw(write_picture(tmp_path / "shot.dng", bias=BIAS))
    dark = read_dark_frame(write_dark_frame(tmp_path / "cap.dng"))
    result = enhance_raw(picture, model=lite_session, ratio=100, dark_frame=dark)
    given, made = np.zeros(3), np.zeros(3)
    for index, colour in enumerate("RGGB"):
        dy, dx = divmod(index, 2)
        c = "RGB".index(colour)
        given[c] += result.raw.mosaic[dy::2, dx::2].mean() * 100
        made[c] += result.camera_rgb[dy::2, dx::2, c].mean()
    assert np.abs(made - given).max() < 1e-3 * 2  # the two green sites added up


def test_enhance_file_names_the_picture_a_dark_frame_does_not_fit(tmp_path: Path, lite_session) -> None:
    picture = write_picture(tmp_path / "night.dng", bias=BIAS)
    dark = write_dark_frame(tmp_path / "cap.dng", cfa="GRBG")
    with pytest.raises(DarkFrameError, match=r"night\.dng: colour filter RGGB, but GRBG in the dark frame cap\.dng"):
        enhance_file(picture, model=lite_session, ratio=100, dark_frame=dark)


def test_enhance_file_takes_dark_frames_as_files_frames_or_a_list_of_either(tmp_path: Path, lite_session) -> None:
    picture = write_picture(tmp_path / "night.dng", bias=BIAS)
    path = write_dark_frame(tmp_path / "cap.dng")
    expected = enhance_file(picture, model=lite_session, ratio=100, dark_frame=read_dark_frame(path)).image
    for given in (path, str(path), [path], [str(path)], [read_dark_frame(path)], {str(path)}, (p for p in [path])):
        result = enhance_file(picture, model=lite_session, ratio=100, dark_frame=given)
        assert result.dark_frame == "cap.dng"
        np.testing.assert_array_equal(result.image, expected)
    for wrong in (123, [""], "", [path, 7]):
        with pytest.raises(InvalidOptionError, match=r"^dark_frame must be a raw file, a folder of them"):
            enhance_file(picture, model=lite_session, ratio=100, dark_frame=wrong)


def test_cli_dark_writes_the_corrected_picture_and_says_so_in_its_exif(
    tmp_path: Path, model_file: Path, lite_session, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = write_picture(tmp_path / "night.dng", bias=BIAS)
    dark = write_dark_frame(tmp_path / "cap.dng")
    out = tmp_path / "night.png"
    args = [str(picture), "--dark", str(dark), "--ratio", "100", "-o", str(out), "--model", str(model_file), "-q"]
    assert main(["enhance", *args]) == 0
    with Image.open(out) as written:
        assert written.getexif()[0x010E].endswith(", dark frame cap.dng")  # ImageDescription
        pixels = np.asarray(written, np.float32) / 255
    expected = enhance_file(picture, model=lite_session, ratio=100, dark_frame=dark).image
    assert np.abs(pixels - expected).max() <= 1 / 255 + 1e-6


def test_cli_skips_the_dark_frame_among_the_inputs(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    write_picture(shots / "night.dng", bias=BIAS)
    dark = write_dark_frame(shots / "cap.dng")
    assert main(["enhance", str(shots), "--dark", str(dark), "--ratio", "100", "--model", str(model_file), "-q"]) == 0
    assert (shots / "night.png").exists() and not (shots / "cap.png").exists()
    assert f"{dark}: skipped, it is the dark frame" in capsys.readouterr().out


def test_cli_a_bad_dark_frame_is_one_line_and_exit_2(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = write_picture(tmp_path / "night.dng", bias=BIAS)
    lit = write_dark_dng(tmp_path / "lit.dng", level=4 * MAX_LEVEL)
    for dark, says in ((tmp_path / "missing.dng", "no such file"), (lit, "not a dark frame")):
        assert main(["enhance", str(picture), "--dark", str(dark), "--model", str(model_file), "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("seeisp: error: ") and says in err
    assert not (tmp_path / "night.png").exists()


def test_cli_a_picture_the_dark_frame_does_not_fit_fails_alone(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fits = write_picture(tmp_path / "a.dng", bias=BIAS)
    other = write_picture(tmp_path / "b.dng", bias=BIAS, cfa="BGGR")
    dark = write_dark_frame(tmp_path / "cap.dng")
    args = [str(fits), str(other), "--dark", str(dark), "--ratio", "100", "--model", str(model_file), "-q"]
    assert main(["enhance", *args]) == 1
    assert (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()
    err = capsys.readouterr().err
    assert err == f"seeisp: error: {other}: colour filter BGGR, but RGGB in the dark frame cap.dng\n"


def _dark(name: str, iso: float | None = None, cfa: CFA = CFA.RGGB) -> DarkFrame:
    return DarkFrame(offsets=np.zeros((2, 2), np.float32), cfa=cfa, shot=Shot(make="Sony", iso=iso), name=name)


def test_of_several_dark_frames_the_picture_gets_the_one_at_its_iso() -> None:
    frames = [_dark("iso1600.ARW", 1600), _dark("iso6400.ARW", 6400), _dark("iso3200.ARW", 3200)]
    assert dark_frame_for(frames, _raw(shot=Shot(make="Sony", iso=3200))).name == "iso3200.ARW"
    unknown = _dark("no-iso.ARW")  # fits any ISO, but one taken at the picture's is better
    assert dark_frame_for([unknown, *frames], _raw(shot=Shot(make="Sony", iso=6400))).name == "iso6400.ARW"
    assert dark_frame_for([unknown, *frames], _raw(shot=Shot(make="Sony", iso=800))).name == "no-iso.ARW"
    with pytest.raises(DarkFrameError, match=r"none of the 3 dark frames fits this picture \(Sony, ISO 800\)"):
        dark_frame_for(frames, _raw(shot=Shot(make="Sony", iso=800)))
    with pytest.raises(DarkFrameError, match="records no ISO, and dark frames at ISO 1600, 3200, 6400 fit it"):
        dark_frame_for(frames, _raw(shot=Shot(make="Sony")))
    one = [_dark("only.ARW", 6400)]  # a single dark frame keeps its own reason
    with pytest.raises(DarkFrameError, match=r"shot at ISO 3200, but the dark frame only\.ARW at ISO 6400"):
        dark_frame_for(one, _raw(shot=Shot(make="Sony", iso=3200)))


def test_a_folder_of_dark_frames_corrects_each_picture_with_its_own(
    tmp_path: Path, model_file: Path, lite_session, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two sensors' worth of pictures (told apart here by their colour filters, as test DNGs record no ISO),
    # each with its own black-level bias, and a folder holding a dark frame of each.
    biases = {"RGGB": np.array([[6.0, -4.0], [-3.0, 5.0]]), "BGGR": np.array([[-5.0, 2.0], [4.0, 7.0]])}
    darks, shots = tmp_path / "darks", tmp_path / "shots"
    darks.mkdir()
    shots.mkdir()
    for cfa, bias in biases.items():
        write_picture(shots / f"{cfa}.dng", bias=bias, cfa=cfa)
        write_picture(tmp_path / f"{cfa}-ideal.dng", bias=np.zeros((2, 2)), cfa=cfa)
        write_dark_frame(darks / f"cap-{cfa}.dng", bias=bias, cfa=cfa)
    assert [frame.name for frame in read_dark_frames(darks)] == ["cap-BGGR.dng", "cap-RGGB.dng"]

    args = [str(shots), "--dark", str(darks), "--ratio", "100", "--model", str(model_file), "-q"]
    assert main(["enhance", *args]) == 0
    said = capsys.readouterr().out
    for cfa in biases:
        assert re.search(rf"{cfa}\.dng -> \S+{cfa}\.png  ratio 100  dark frame cap-{cfa}\.dng  [\d.]+ s\n", said)
        with Image.open(shots / f"{cfa}.png") as written:
            assert written.getexif()[0x010E].endswith(f", dark frame cap-{cfa}.dng")
            pixels = np.asarray(written, np.float32) / 255
        truth = enhance_file(tmp_path / f"{cfa}-ideal.dng", model=lite_session, ratio=100).image
        assert psnr(pixels, truth) > 40
    assert (
        enhance_file(shots / "BGGR.dng", model=lite_session, ratio=100, dark_frame=darks).dark_frame == "cap-BGGR.dng"
    )


def test_a_folder_without_raws_is_not_a_folder_of_dark_frames(tmp_path: Path) -> None:
    with pytest.raises(DarkFrameError, match="no raw files in this folder of dark frames"):
        read_dark_frames(tmp_path)


@pytest.mark.parametrize("cfa", list(CFA))
@pytest.mark.parametrize("flip", [Flip.NONE, Flip.ROTATE_90_CW])
def test_the_level_step_reads_the_raw_where_the_output_lies(lite_session, cfa: CFA, flip: Flip) -> None:
    """The network's output and the mosaic are both in sensor orientation, whatever the picture's: the level
    step compares each area of one with the same area of the other (an area of another level would show)."""
    height, width = 256, 384
    scene = np.ones((height, width, 3), np.float32) * np.array([0.20, 0.35, 0.25], np.float32)
    scene[: height // 2, : width // 3] *= 0.25  # a dark corner and a bright band: areas of different levels
    scene[:, 2 * width // 3 :] *= 1.6
    rng = np.random.default_rng(3)
    mosaic_ = (mosaic(scene, cfa.value) + rng.normal(0, 0.03, (height, width))) / 100
    raw = RawImage(mosaic_.astype(np.float32), cfa, np.ones(3), np.eye(3), flip=flip, shot=Shot(make="Sony"))
    dark = DarkFrame(offsets=np.zeros((2, 2), np.float32), cfa=cfa, shot=Shot(make="Sony"))
    result = enhance_raw(raw, model=lite_session, ratio=100, dark_frame=dark)
    assert result.camera_rgb.shape == (height, width, 3)
    for rows, cols in (
        (slice(0, 96), slice(0, 96)),
        (slice(160, 256), slice(288, 384)),
        (slice(0, 96), slice(160, 224)),
    ):
        np.testing.assert_allclose(
            result.camera_rgb[rows, cols].mean(axis=(0, 1)), scene[rows, cols].mean(axis=(0, 1)), atol=0.01
        )

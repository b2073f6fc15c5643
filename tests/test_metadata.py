"""What the written pictures say about themselves: an ICC profile true to the render, and the shot's EXIF."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from seeisp.cli import main
from seeisp.metadata import PROFILE_NAME, exif_tags, icc_profile
from seeisp.output import write_image
from seeisp.raw import Shot
from seeisp.render import bt709_decode

from conftest import write_dark_dng

SHOT = Shot(
    make="Acme",
    model="Nightcam",
    lens="Acme 35mm f/1.4",
    taken=datetime(2026, 11, 20, 21, 14, 5),
    exposure_time=1 / 30,
    f_number=2.8,
    iso=6400,
    focal_length=35.0,
    artist="Ada",
)

# EXIF tag -> what the shot above must come back as
EXPECTED_IMAGE_TAGS = {0x010F: "Acme", 0x0110: "Nightcam", 0x013B: "Ada", 0x010E: "seeisp lite, ratio 100"}
EXPECTED_CAPTURE_TAGS = {0x9003: "2026:11:20 21:14:05", 0x8827: 6400, 0xA434: "Acme 35mm f/1.4"}
EXPECTED_RATIONALS = {0x829A: (1, 30), 0x829D: (14, 5), 0x920A: (35, 1)}


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(np.clip(linear, 0, None), 1 / 2.4) - 0.055)


def test_the_icc_profile_maps_the_render_to_srgb_as_the_render_curve_says() -> None:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile()))  # littlecms parses it
    assert ImageCms.getProfileDescription(profile).strip() == PROFILE_NAME
    to_srgb = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype(np.uint8)
    pixels[0] = np.repeat(np.arange(0, 256, 8)[:, None], 3, axis=1)  # a grey ramp
    converted = np.asarray(ImageCms.applyTransform(Image.fromarray(pixels), to_srgb)).astype(float)
    expected = 255 * srgb_encode(bt709_decode(pixels / 255.0))
    assert np.abs(converted - expected).max() < 1.5  # the same colours, to rounding
    assert np.ptp(converted[0], axis=1).max() <= 1  # grey stays grey: the white point is right
    assert abs(converted[0, 8, 0] - 79) <= 1  # 64 of BT.709 is 79 of sRGB: the curve is not sRGB's


@pytest.mark.parametrize(("name", "bits"), [("a.png", 8), ("b.png", 16), ("c.jpg", 8)])
def test_png_and_jpeg_carry_the_profile_and_the_shots_exif(tmp_path: Path, name: str, bits: int) -> None:
    image = np.random.default_rng(1).random((24, 40, 3)).astype(np.float32)
    path = write_image(tmp_path / name, image, bits, shot=SHOT, description="seeisp lite, ratio 100")
    with Image.open(path) as picture:
        assert picture.info["icc_profile"] == icc_profile()
        exif = picture.getexif()
        capture = exif.get_ifd(0x8769)
    assert {tag: exif[tag] for tag in EXPECTED_IMAGE_TAGS} == EXPECTED_IMAGE_TAGS
    assert exif[0x0131].startswith("seeisp ")  # Software
    assert {tag: capture[tag] for tag in EXPECTED_CAPTURE_TAGS} == EXPECTED_CAPTURE_TAGS
    rationals = {tag: (capture[tag].numerator, capture[tag].denominator) for tag in EXPECTED_RATIONALS}
    assert rationals == EXPECTED_RATIONALS


def test_tiff_carries_the_profile_and_the_shot_in_its_own_ifd(tmp_path: Path) -> None:
    image = np.random.default_rng(2).random((24, 40, 3)).astype(np.float32)
    path = write_image(tmp_path / "d.tif", image, shot=SHOT, description="seeisp lite, ratio 100")
    with tifffile.TiffFile(path) as tif:
        tags = {tag.code: tag.value for tag in tif.pages.first.tags.values()}
        pixels = tif.asarray()
    assert tags[34675] == icc_profile()  # InterColorProfile
    assert {tag: tags[tag] for tag in EXPECTED_IMAGE_TAGS} == EXPECTED_IMAGE_TAGS
    assert {tag: tags[tag] for tag in EXPECTED_CAPTURE_TAGS} == EXPECTED_CAPTURE_TAGS
    assert {tag: tuple(tags[tag]) for tag in EXPECTED_RATIONALS} == EXPECTED_RATIONALS
    assert tags[0x0131].startswith("seeisp ")
    np.testing.assert_array_equal(pixels, np.rint(image * 65535).astype(np.uint16))  # the pixels are untouched


@pytest.mark.parametrize("name", ["a.png", "c.jpg"])
def test_without_a_shot_there_is_a_profile_but_no_exif(tmp_path: Path, name: str) -> None:
    path = write_image(tmp_path / name, np.full((8, 8, 3), 0.5, np.float32))
    with Image.open(path) as picture:
        assert picture.info["icc_profile"] == icc_profile()
        assert len(picture.getexif()) == 0


@pytest.mark.parametrize(
    ("seconds", "written"), [(1 / 16000, (1, 16000)), (np.float32(1 / 3), (1, 3)), (2.5, (5, 2)), (30.0, (30, 1))]
)
def test_exposure_times_are_written_as_photographers_write_them(seconds: float, written: tuple[int, int]) -> None:
    from seeisp.metadata import tiff_tags

    (tag,) = [t for t in tiff_tags(exif_tags(Shot(exposure_time=float(seconds)))) if t[0] == 0x829A]
    assert tag[3] == written


def test_what_the_raw_did_not_record_is_left_out() -> None:
    tags = exif_tags(Shot(make="Acme"), written=datetime(2026, 1, 2, 3, 4, 5))
    assert tags["0th"] == {0x010F: "Acme", 0x0131: tags["0th"][0x0131], 0x0132: "2026:01:02 03:04:05"}
    assert tags["Exif"] == {}
    assert exif_tags(Shot(iso=1e6))["Exif"][0x8827] == 65535  # ISO is a 16-bit number in EXIF
    assert exif_tags(Shot(exposure_time=float("nan"), f_number=-1.0))["Exif"] == {}


def test_enhance_carries_the_raws_shot_into_the_picture(tmp_path: Path, model_file: Path) -> None:
    dng = write_dark_dng(
        tmp_path / "night.dng",
        exposure_time=1 / 15,
        f_number=1.8,
        focal_length=50.0,
        taken=datetime(2026, 11, 21, 22, 30, 0),
        lens="Acme 50mm f/1.8",
    )
    out = tmp_path / "night.jpg"
    assert main(["enhance", str(dng), "-o", str(out), "--ratio", "40", "--model", str(model_file), "--quiet"]) == 0
    with Image.open(out) as picture:
        exif = picture.getexif()
        capture = exif.get_ifd(0x8769)
    assert (exif[0x010F], exif[0x0110]) == ("Acme", "Nightcam")
    assert exif[0x010E] == f"seeisp {model_file.stem.removeprefix('seeisp-')}, ratio 40"
    assert (capture[0x9003], capture[0xA434]) == ("2026:11:21 22:30:00", "Acme 50mm f/1.8")
    exposure, aperture = capture[0x829A], capture[0x829D]  # LibRaw read them as float32
    assert (exposure.numerator, exposure.denominator, aperture.numerator, aperture.denominator) == (1, 15, 9, 5)


@pytest.mark.parametrize("name", ["a.png", "c.jpg", "d.tif"])
def test_text_beyond_ascii_is_written_plainly_not_refused(tmp_path: Path, name: str) -> None:
    shot = Shot(make="Acme", model="Nightcam", artist="José Müller", lens="Acme Ø35mm\tf/1.4")
    path = write_image(tmp_path / name, np.full((8, 8, 3), 0.5, np.float32), shot=shot)
    tags = exif_tags(shot)
    assert tags["0th"][0x013B] == "Jose Muller" and tags["Exif"][0xA434] == "Acme 35mm f/1.4"
    if name.endswith(".tif"):
        with tifffile.TiffFile(path) as tif:
            assert tif.pages.first.tags["Artist"].value == "Jose Muller"
    else:
        with Image.open(path) as picture:
            assert picture.getexif()[0x013B] == "Jose Muller"

"""seeisp.output: every format round-trips, bad paths raise OutputError, and writes are atomic."""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import png
import pytest
import tifffile

from seeisp import output
from seeisp.errors import OutputError
from seeisp.output import quantize, write_image


@pytest.fixture
def image() -> np.ndarray:
    """A smooth (H, W, 3) image with distinct channels, so JPEG keeps it close."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    return np.stack([x / 63, y / 47, 1 - x / 63 * 0.5], axis=-1)


def read_png(path: Path) -> tuple[np.ndarray, int]:
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    pixels = np.array([np.asarray(row) for row in rows]).reshape(height, width, info["planes"])
    return pixels, info["bitdepth"]


@pytest.mark.parametrize("bits", [8, 16])
def test_png_round_trips_at_8_and_16_bits(tmp_path: Path, image: np.ndarray, bits: int) -> None:
    path = write_image(tmp_path / "out.png", image, bits=bits)
    pixels, depth = read_png(path)
    assert depth == bits
    assert pixels.shape == image.shape
    np.testing.assert_array_equal(pixels, quantize(image, bits))


def test_png_defaults_to_8_bits(tmp_path: Path, image: np.ndarray) -> None:
    _, depth = read_png(write_image(tmp_path / "out.PNG", image))
    assert depth == 8


@pytest.mark.parametrize("name", ["out.tif", "out.tiff"])
def test_tiff_is_16_bit_by_default_and_exact(tmp_path: Path, image: np.ndarray, name: str) -> None:
    pixels = tifffile.imread(write_image(tmp_path / name, image))
    assert pixels.dtype == np.uint16
    np.testing.assert_array_equal(pixels, quantize(image, 16))


@pytest.mark.parametrize(
    ("compress", "compression", "predictor"),
    [
        (False, tifffile.COMPRESSION.NONE, tifffile.PREDICTOR.NONE),
        (True, tifffile.COMPRESSION.ADOBE_DEFLATE, tifffile.PREDICTOR.HORIZONTAL),
    ],
)
def test_tiff_is_uncompressed_unless_asked(
    tmp_path: Path, image: np.ndarray, compress: bool, compression: int, predictor: int
) -> None:
    path = write_image(tmp_path / "out.tif", image, compress=compress)
    with tifffile.TiffFile(path) as tiff:
        assert (tiff.pages[0].compression, tiff.pages[0].predictor) == (compression, predictor)
        np.testing.assert_array_equal(tiff.asarray(), quantize(image, 16))


@pytest.mark.parametrize("name", ["out.jpg", "out.JPEG"])
def test_jpeg_is_8_bit_and_close(tmp_path: Path, image: np.ndarray, name: str) -> None:
    pixels = iio.imread(write_image(tmp_path / name, image))
    assert pixels.dtype == np.uint8 and pixels.shape == image.shape
    assert np.abs(pixels / 255.0 - image).mean() < 0.01


def test_quantize_clips_out_of_range_and_nan() -> None:
    values = np.array([[[-0.5, 0.5, 1.7]], [[np.nan, 0.0, 1.0]]], np.float32)
    np.testing.assert_array_equal(quantize(values, 8), [[[0, 128, 255]], [[0, 0, 255]]])
    assert quantize(values, 16).dtype == np.uint16 and quantize(values, 16).max() == 65535


def whole_frame_quantize(image: np.ndarray, bits: int) -> np.ndarray:
    """The one-pass formula ``quantize`` had before it worked in strips."""
    scaled = np.rint(np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0) * ((1 << bits) - 1))
    return scaled.astype(np.uint8 if bits == 8 else np.uint16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bits", [8, 16])
def test_quantize_in_strips_is_bit_identical_to_one_pass(dtype: type, bits: int) -> None:
    # More rows than two strips and not a multiple of one, so a partial last strip is covered too.
    rows = 2 * output.QUANTIZE_ROWS + 37
    rng = np.random.default_rng(0)
    image = rng.uniform(-0.1, 1.1, (rows, 29, 3)).astype(dtype)
    image[rows - 1, 0], image[output.QUANTIZE_ROWS, 1], image[3, 2] = np.nan, np.inf, -np.inf
    pixels = quantize(image, bits)
    assert pixels.dtype == whole_frame_quantize(image, bits).dtype
    np.testing.assert_array_equal(pixels, whole_frame_quantize(image, bits))


def test_quantize_keeps_half_precision_in_range() -> None:
    values = np.array([[[0.0, 0.5, 1.0]]], np.float16)
    np.testing.assert_array_equal(quantize(values, 16), [[[0, 32768, 65535]]])


@pytest.mark.parametrize(("name", "bits"), [("out.bmp", None), ("out", None), ("out.jpg", 16), ("out.png", 12)])
def test_unknown_format_or_depth_raises_and_writes_nothing(
    tmp_path: Path, image: np.ndarray, name: str, bits: int | None
) -> None:
    with pytest.raises(OutputError):
        write_image(tmp_path / name, image, bits=bits)
    assert list(tmp_path.iterdir()) == []


def test_folder_that_is_a_file_raises_naming_the_path(tmp_path: Path, image: np.ndarray) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    target = blocker / "out.png"
    with pytest.raises(OutputError, match=r"notes\.txt") as info:
        write_image(target, image)
    assert "\n" not in str(info.value)
    assert blocker.read_text() == "not a folder"


def test_missing_folder_raises(tmp_path: Path, image: np.ndarray) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_image(tmp_path / "nope" / "out.png", image)
    assert not (tmp_path / "nope").exists()


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def half_then_crash(stream, pixels, compress, tags):
        stream.write(b"\x89PNG half a file")
        raise RuntimeError("encoder crashed")

    monkeypatch.setitem(output._WRITERS, "png", half_then_crash)
    with pytest.raises(RuntimeError):
        write_image(target, image)
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_disk_error_becomes_output_error_without_leftovers(
    tmp_path: Path, image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(stream, pixels, compress, tags):
        stream.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(output._WRITERS, "tiff", disk_full)
    with pytest.raises(OutputError, match="No space left"):
        write_image(tmp_path / "out.tif", image)
    assert list(tmp_path.iterdir()) == []


def test_replaces_an_existing_file_with_normal_permissions(tmp_path: Path, image: np.ndarray) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    reference = tmp_path / "reference"
    reference.write_bytes(b"")  # created like any file here: 0o666 minus the umask
    write_image(target, image)
    assert read_png(target)[0].shape == image.shape
    assert target.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_refuses_to_write_onto_a_folder(tmp_path: Path, image: np.ndarray) -> None:
    (tmp_path / "out.png").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_image(tmp_path / "out.png", image)
    assert os.listdir(tmp_path) == ["out.png"]

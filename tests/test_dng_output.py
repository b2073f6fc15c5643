"""DNG pictures: the denoised camera RGB as a linear DNG that LibRaw develops into the very picture seeisp renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rawpy
import tifffile

from seeisp.cli import main
from seeisp.enhance import EnhanceResult, enhance_file
from seeisp.errors import OutputError
from seeisp.eval.metrics import psnr
from seeisp.output import write_camera_dng, write_image

from conftest import scene_camera_rgb, write_dark_dng, write_scene_dng


def develop(path: Path) -> np.ndarray:
    """LibRaw's render of a DNG as seeisp's baseline renders a raw: camera white balance, sRGB, BT.709 curve."""
    with rawpy.imread(str(path)) as raw:
        assert raw.raw_type == rawpy.RawType.Stack  # three colours per pixel: demosaicked, not a mosaic
        image = raw.postprocess(
            use_camera_wb=True, no_auto_bright=True, output_bps=16, gamma=(2.222, 4.5), adjust_maximum_thr=0
        )
    return image.astype(np.float32) / 65535


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("balance", ["camera", "auto"])
def test_libraw_develops_the_dng_into_the_rendered_picture(
    tmp_path: Path, lite_session, orientation: int, balance: str
) -> None:
    dark = write_scene_dng(tmp_path / "scene.dng", scene_camera_rgb(), ratio=50, orientation=orientation)
    result = enhance_file(dark, model=lite_session, ratio=50, white_balance=balance)
    developed = develop(result.save(tmp_path / "scene-seeisp.dng"))
    assert developed.shape == result.image.shape  # turned as the raw was
    assert psnr(developed, result.image) > 60


def test_the_dng_carries_the_shot_and_how_it_was_made(tmp_path: Path, lite_session) -> None:
    dark = write_dark_dng(tmp_path / "night.dng", exposure_time=1 / 15, f_number=1.8, lens="Acme 35mm")
    result = enhance_file(dark, model=lite_session, ratio=20)
    with tifffile.TiffFile(result.save(tmp_path / "night-seeisp.dng")) as tif:
        tags = {tag.name: tag.value for tag in tif.pages.first.tags.values()}
        pixels = tif.pages.first.asarray()
    assert (tags["Make"], tags["Model"], tags["LensModel"]) == ("Acme", "Nightcam", "Acme 35mm")
    assert tags["ImageDescription"] == "seeisp lite, ratio 20"
    assert tags["UniqueCameraModel"] == "seeisp Acme Nightcam"
    assert tags["ExposureTime"] == (1, 15)
    assert pixels.dtype == np.uint16 and pixels.shape == result.camera_rgb.shape
    expected = np.rint(np.clip(result.camera_rgb, 0, 1) * 65535)
    assert np.abs(pixels - expected).max() <= 1


def test_dngs_are_16_bit_and_only_from_camera_rgb(tmp_path: Path, lite_session) -> None:
    result: EnhanceResult = enhance_file(write_dark_dng(tmp_path / "d.dng"), model=lite_session, ratio=20)
    with pytest.raises(OutputError, match="DNG is written with 16 bits per channel, not 8"):
        result.save(tmp_path / "a-seeisp.dng", bits=8)
    with pytest.raises(OutputError, match="a DNG holds camera RGB"):
        write_image(tmp_path / "b.dng", result.image)
    with pytest.raises(OutputError, match=r"a DNG is written to a \.dng file"):
        write_camera_dng(tmp_path / "c.png", result.camera_rgb, result.raw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.dng"]


def test_cli_format_dng_never_takes_a_dng_raws_name(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    raw = write_dark_dng(shots / "IMG_1.DNG")
    before = raw.read_bytes()
    args = ["enhance", str(shots), "--format", "dng", "--ratio", "20", "--model", str(model_file), "-q"]
    assert main(args) == 0
    assert raw.read_bytes() == before
    written = shots / "IMG_1-seeisp.dng"
    assert develop(written).shape == (256, 384, 3)

    # Run again over the folder: seeisp's own DNG is not taken for a raw, the picture is skipped as existing.
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().out == f"{raw}: skipped, {written} exists (use --overwrite to replace it)\n"


def test_saving_over_the_raw_it_came_from_is_refused(tmp_path: Path, lite_session) -> None:
    raw = write_dark_dng(tmp_path / "night.dng")
    before = raw.read_bytes()
    result = enhance_file(raw, model=lite_session, ratio=20)
    with pytest.raises(OutputError, match=r"night\.dng: is a camera raw; seeisp never writes over one"):
        result.save(raw)
    assert raw.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["night.dng"]  # no temporary file left either


def test_cli_never_writes_a_dng_over_a_camera_raw_even_with_overwrite(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, other = write_dark_dng(tmp_path / "a.dng"), write_dark_dng(tmp_path / "other.dng", seed=1)
    before = other.read_bytes()
    args = ["enhance", str(source), "-o", str(other), "--overwrite", "--ratio", "20", "--model", str(model_file)]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"seeisp: error: {source}: output {other} is a camera raw; refusing to overwrite it"
    assert other.read_bytes() == before


def test_a_dng_picture_under_any_name_is_not_taken_for_a_raw(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    raw = write_dark_dng(shots / "a.dng")
    common = ["--ratio", "20", "--model", str(model_file), "-q"]
    assert main(["enhance", str(raw), "-o", str(shots / "b.dng"), *common]) == 0
    # b.dng is a picture seeisp developed: the folder gives only the raw, and b.dng may be replaced
    capsys.readouterr()
    assert main(["enhance", str(shots), *common]) == 0
    assert capsys.readouterr().out.startswith(f"{raw} -> {shots / 'a.png'}")
    assert main(["enhance", str(raw), "-o", str(shots / "b.dng"), "--overwrite", *common]) == 0


def test_which_files_hold_a_camera_raw(tmp_path: Path, lite_session) -> None:
    from seeisp.eval.demo import write_demo_raw
    from seeisp.raw import holds_camera_raw, is_seeisp_dng

    raw = write_dark_dng(tmp_path / "night.dng")
    result = enhance_file(raw, model=lite_session, ratio=20)
    picture, developed = result.save(tmp_path / "night.png"), result.save(tmp_path / "night-seeisp.dng")
    demo = write_demo_raw(tmp_path / "demo").raw_path  # a Bayer raw that seeisp wrote: a raw all the same
    assert [holds_camera_raw(p) for p in (raw, demo, picture, developed, tmp_path / "none.dng", tmp_path)] == [
        True, True, False, False, False, False,
    ]  # fmt: skip
    assert [is_seeisp_dng(p) for p in (raw, demo, developed)] == [False, False, True]


def test_seeisps_own_pictures_of_any_camera_are_replaced_with_overwrite_and_skipped_without(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # LibRaw opens a JPEG whose EXIF names a Nikon as if it were a raw: such a picture is still seeisp's own
    raw = write_dark_dng(tmp_path / "night.dng", make="NIKON CORPORATION", model="NIKON D750")
    common = ["enhance", str(raw), "--ratio", "20", "--model", str(model_file), "-q"]
    for name in ("night.jpg", "night.png", "night.tif", "night-seeisp.dng"):
        out = tmp_path / name
        assert main([*common, "-o", str(out)]) == 0
        assert main([*common, "-o", str(out)]) == 0  # again: skipped, as existing
        assert f"skipped, {out} exists" in capsys.readouterr().out
        assert main([*common, "-o", str(out), "--overwrite"]) == 0, capsys.readouterr().err

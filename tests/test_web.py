"""The web page's handlers called directly: results, details, downloads, bad uploads, limits, settings."""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import rawpy

pytest.importorskip("seeisp.web")  # first: it points gradio's temporary folder into its own

import gradio as gr
from gradio_client.utils import is_valid_file
from PIL import Image

from seeisp.cli import build_parser
from seeisp.errors import InvalidRatioError, ModelError, RawReadError, SeeispError
from seeisp.models import available_models
from seeisp.web import (
    FILE_TYPES,
    Enhancer,
    UISettings,
    Workspace,
    choose_ratio,
    parse_size,
    run_files,
    show_selected,
)
from seeisp.web.settings import check_address

from conftest import DARK_HEIGHT as HEIGHT
from conftest import DARK_WIDTH as WIDTH
from conftest import write_biased_dng, write_cast_dng, write_dark_dng, write_linear_dng


@pytest.fixture
def workspace():
    space = Workspace(keep_runs=2)
    yield space
    space.close()


@pytest.fixture
def enhancer(workspace: Workspace) -> Enhancer:
    return Enhancer(workspace, max_file_bytes=parse_size("200MB"))


@pytest.fixture
def model() -> str:
    installed = available_models()
    if not installed:
        pytest.skip("no seeisp model in weights/")
    return "lite" if "lite" in installed else installed[0]


def test_one_raw_gives_naive_and_seeisp_images_details_and_downloads(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "night.dng", exposure_time=1 / 30, iso=6400)
    slider, details, downloads, gallery, results = run_files(enhancer, [str(dng)], False, 40, model)

    naive, enhanced = (iio.imread(p) for p in slider)
    assert naive.shape == enhanced.shape == (HEIGHT, WIDTH, 3)
    assert naive.dtype == enhanced.dtype == np.uint8
    assert np.abs(naive.astype(int) - enhanced.astype(int)).mean() > 0.5  # two different renders
    assert enhanced.mean() > 10  # brightened, not the dark raw

    assert "Acme Nightcam" in details
    assert "1/30 s" in details
    assert "40.0 (set)" in details
    assert f"{WIDTH} x {HEIGHT}" in details
    assert model in details

    assert sorted(Path(p).suffix for p in downloads) == [".dng", ".jpg", ".png", ".tif"]
    tiff = iio.imread(next(p for p in downloads if p.endswith(".tif")))
    assert tiff.dtype == np.uint16 and tiff.shape == (HEIGHT, WIDTH, 3)
    with Image.open(next(p for p in downloads if p.endswith(".jpg"))) as jpeg:
        exif = jpeg.getexif()
    assert (exif[0x0110], exif[0x010E]) == ("Nightcam", f"seeisp {model}, ratio 40")  # the raw's EXIF, and how
    with rawpy.imread(next(p for p in downloads if p.endswith(".dng"))) as linear:  # for a raw editor
        assert linear.raw_type == rawpy.RawType.Stack and linear.raw_image.shape[:2] == (HEIGHT, WIDTH)
    assert gallery == [(str(results[0].seeisp_png), "night.dng")]
    # Everything written lives in the app's workspace.
    assert all(Path(p).resolve().is_relative_to(enhancer.workspace.root) for p in [*slider, *downloads])


def test_best_quality_box_runs_the_ensemble_and_says_so(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "best.dng")
    calls: list[tuple[float, str]] = []
    *_, plain = run_files(enhancer, [str(dng)], False, 40, model)
    slider, details, *_ = run_files(
        enhancer, [str(dng)], False, 40, model, passes=8, progress=lambda f, desc: calls.append((f, desc))
    )
    assert f"| {model} x8 |" in details
    assert any(desc.endswith("seeisp x8: tile 8/8") for _, desc in calls)  # the 8 passes, one tile each
    single, averaged = iio.imread(plain[0].seeisp_png), iio.imread(slider[1])
    assert averaged.shape == single.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(averaged, single)


def test_white_balance_choice_balances_both_pictures_alike(tmp_path, enhancer, model):
    dng = write_cast_dng(tmp_path / "night.dng")  # a grey scene that the as-shot balance turns magenta
    # R/G of both pictures: about 2.9 as shot, 1.1-1.3 with auto (tests/test_white_balance.py says why not 1).
    for choice, grey in (("camera", False), ("auto", True)):
        slider, *_ = run_files(enhancer, [str(dng)], False, 40, model, white_balance=choice)
        for picture in slider:
            means = iio.imread(picture).reshape(-1, 3).mean(axis=0)
            assert (abs(means[0] / means[1] - 1) < 0.35) == grey, (choice, picture)
    with pytest.raises(gr.Error, match="white balance must be one of camera, daylight, auto"):
        run_files(enhancer, [str(dng)], False, 40, model, white_balance="tungsten")


def test_auto_ratio_is_estimated_and_shown(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "auto.dng", level=0.01)
    _, details, *_ = run_files(enhancer, [str(dng)], True, 100, model)
    assert "(auto)" in details
    ratio = float(details.split("(auto)")[0].split("|")[-1])
    assert 1 < ratio <= 300


def test_progress_reports_each_file_and_its_tiles_in_order(tmp_path, enhancer, model):
    dngs = [str(write_dark_dng(tmp_path / f"p{i}.dng", seed=i)) for i in range(2)]
    calls: list[tuple[float, str]] = []
    run_files(enhancer, dngs, True, 100, model, progress=lambda f, desc: calls.append((f, desc)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] < 1
    assert any(d.startswith("p0.dng (1/2): seeisp: tile") for _, d in calls)
    assert any(d.startswith("p1.dng (2/2): writing") for _, d in calls)
    assert max(f for f, d in calls if d.startswith("p0.dng")) <= 0.5 <= min(f for f, d in calls if d.startswith("p1"))


def test_renamed_text_file_gives_a_one_line_error_naming_it(tmp_path, enhancer, model):
    fake = tmp_path / "holiday.dng"
    fake.write_text("this is not a raw file\n" * 100)
    with pytest.raises(gr.Error) as caught:
        run_files(enhancer, [str(fake)], True, 100, model)
    message = caught.value.message
    assert message.startswith("holiday.dng: ")
    assert "raw" in message
    assert "\n" not in message
    assert str(tmp_path) not in message  # the server's paths stay private


def test_linear_dng_is_refused_as_not_bayer(tmp_path, enhancer, model):
    linear = write_linear_dng(tmp_path / "linear.dng", np.full((64, 96, 3), 3000, np.uint16))
    with pytest.raises(gr.Error, match="Bayer"):
        run_files(enhancer, [str(linear)], True, 100, model)


def test_a_bad_file_in_a_batch_is_reported_and_the_others_still_run(tmp_path, enhancer, model):
    good = write_dark_dng(tmp_path / "good.dng")
    bad = tmp_path / "broken.nef"
    bad.write_bytes(b"\x00" * 5000)
    with pytest.warns(UserWarning, match="broken.nef"):
        slider, details, downloads, _, results = run_files(enhancer, [str(bad), str(good)], True, 100, model)
    assert [r.name for r in results] == ["good.dng"]
    assert len(downloads) == 4
    assert "**failed:** broken.nef" in details
    assert slider == (str(results[0].naive_png), str(results[0].seeisp_png))


def test_extension_check_ignores_case_and_refuses_other_files(tmp_path, enhancer):
    for name in ("SHOT.NEF", "shot.Cr3", "x.dng", "a.3FR"):
        upload = tmp_path / name
        upload.write_bytes(b"raw")
        enhancer.check_upload(upload)  # accepted: reading it decides whether it really is a raw
        assert is_valid_file(name, FILE_TYPES), f"gradio's own upload filter refuses {name}"
    photo = tmp_path / "photo.JPG"
    photo.write_bytes(b"jpeg")
    with pytest.raises(RawReadError, match=r"photo\.JPG: not a raw file name"):
        enhancer.check_upload(photo)
    assert not is_valid_file("photo.JPG", FILE_TYPES)


def test_uploads_over_the_size_limit_are_refused(tmp_path, workspace, model):
    small_limit = Enhancer(workspace, max_file_bytes=parse_size("100KB"))
    dng = write_dark_dng(tmp_path / "big.dng")
    assert dng.stat().st_size > 100_000
    with pytest.raises(gr.Error, match="upload limit"):
        run_files(small_limit, [str(dng)], True, 100, model)


def test_the_pages_own_demo_raw_is_not_held_to_the_upload_limit(tmp_path, workspace):
    from seeisp.eval.demo import write_demo_raw

    small_limit = Enhancer(workspace, max_file_bytes=parse_size("100KB"))
    demo = write_demo_raw(tmp_path / "demo").raw_path
    with pytest.raises(RawReadError, match="upload limit"):
        small_limit.check_upload(demo)
    small_limit.allow(demo)
    small_limit.check_upload(demo)
    other = tmp_path / "other" / demo.name  # the same name, other bytes: an upload like any other
    other.parent.mkdir()
    other.write_bytes(demo.read_bytes() + b"more")
    with pytest.raises(RawReadError, match="upload limit"):
        small_limit.check_upload(other)


def test_bad_requests_are_refused_before_any_work(tmp_path, enhancer, model):
    dng = str(write_dark_dng(tmp_path / "x.dng"))
    with pytest.raises(gr.Error, match="Choose one or more"):
        run_files(enhancer, [], True, 100, model)
    with pytest.raises(gr.Error, match="At most 2 files"):
        run_files(enhancer, [dng] * 3, True, 100, model, max_files=2)
    with pytest.raises(gr.Error, match="between 1 and 300"):
        run_files(enhancer, [dng], False, 1000, model)
    with pytest.raises(gr.Error, match="unknown model"):
        run_files(enhancer, [dng], True, 100, "no-such-model")


def test_only_registered_models_load_never_a_path_from_the_browser(enhancer, model):
    assert enhancer.session(model) is enhancer.session(model)  # loaded once
    with pytest.raises(ModelError):
        enhancer.session(str(Path("weights") / "seeisp-lite.onnx"))


def test_choose_ratio():
    assert choose_ratio(True, 50) is None
    assert choose_ratio(False, 50) == 50.0
    assert choose_ratio(False, "12.5") == 12.5
    for bad in (0, 0.5, 301, float("nan"), "lots"):
        with pytest.raises(InvalidRatioError):
            choose_ratio(False, bad)


def test_workspace_keeps_only_the_latest_runs_and_close_deletes_it():
    space = Workspace(keep_runs=2)
    runs = [space.new_run() for _ in range(4)]
    assert [r.exists() for r in runs] == [False, False, True, True]
    space.close()
    assert not space.root.exists()


def test_gallery_selection_shows_that_result(tmp_path, enhancer, model):
    dngs = [str(write_dark_dng(tmp_path / f"{i}.dng", seed=i)) for i in range(2)]
    *_, results = run_files(enhancer, dngs, True, 100, model)
    assert show_selected(results, 1) == (str(results[1].naive_png), str(results[1].seeisp_png))
    assert show_selected(results, 5) is None


def test_parse_size():
    assert parse_size("200MB") == 200_000_000
    assert parse_size("1.5 GB") == 1_500_000_000
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size(4096) == 4096
    for bad in ("lots", "-5MB", "10 parsecs", ""):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_settings_are_validated():
    with pytest.raises(SeeispError, match="max-file-size"):
        UISettings(max_file_size="huge")
    with pytest.raises(SeeispError, match="port"):
        UISettings(port=0)
    with pytest.raises(SeeispError, match=r"^--concurrency must be at least 1, got 0$"):
        UISettings(concurrency=0)


def test_cli_defaults_match_the_settings_defaults():
    args = build_parser(["ui"]).parse_args(["ui"])
    defaults = UISettings()
    assert isinstance(args, argparse.Namespace)
    assert (args.host, args.port, args.max_file_size, args.concurrency) == (
        defaults.host,
        defaults.port,
        defaults.max_file_size,
        defaults.concurrency,
    )
    assert args.host == "127.0.0.1" and args.share == "never" and defaults.share is False


def test_model_help_names_each_installed_model_and_variant() -> None:
    from seeisp.web.page import _model_info

    info = _model_info(["full", "lite", "lite-int8"])
    assert "full: SID U-Net, width 32" in info and "lite: SID U-Net, width 16" in info
    assert "-int8: fastest on a CPU" in info and "fp16" not in info
    assert "No model is installed" in _model_info([])


def test_dark_frame_takes_the_sensors_black_off_and_is_shown(tmp_path, enhancer, model):
    picture = str(write_biased_dng(tmp_path / "night.dng"))
    unbiased = str(write_biased_dng(tmp_path / "ideal.dng", bias=np.zeros((2, 2))))  # the same shot, true black
    cap = str(write_biased_dng(tmp_path / "cap.dng", level=0, seed=1))
    calls: list[tuple[float, str]] = []

    slider, details, downloads, *_ = run_files(
        enhancer, [picture], False, 40, model, dark_frame=cap, progress=lambda f, desc: calls.append((f, desc))
    )
    assert "| dark frame |" in details and "| cap.dng |" in details
    assert "failed" not in details
    assert calls[0] == (0, "reading the dark frame")
    with Image.open(next(p for p in downloads if p.endswith(".jpg"))) as jpeg:
        assert jpeg.getexif()[0x010E] == f"seeisp {model}, ratio 40, dark frame cap.dng"
    corrected = iio.imread(slider[1]).astype(float)  # read now: the workspace keeps only the latest 2 runs

    without, plain_details, *_ = run_files(enhancer, [picture], False, 40, model)
    ideal, *_ = run_files(enhancer, [unbiased], False, 40, model)
    assert "dark frame" not in plain_details
    biased, truth = (iio.imread(pair[1]).astype(float) for pair in (without, ideal))
    # The bias, amplified 40 times, brightens and tints the picture; the dark frame takes it off again.
    assert np.abs(biased - truth).mean() > 5
    assert np.abs(corrected - truth).mean() < 1  # of 255


@pytest.mark.parametrize("kind", ["bright", "text", "extension", "size"])
def test_a_bad_dark_frame_stops_the_run_at_once_with_one_line(tmp_path, workspace, model, kind):
    picture = write_biased_dng(tmp_path / "night.dng")
    enhancer = Enhancer(workspace, max_file_bytes=parse_size("300KB"))  # the picture's 200 KB pass
    if kind == "bright":  # a "dark frame" with the lens cap off
        cap, expected = write_biased_dng(tmp_path / "cap.dng", level=0.1), "cap.dng: not a dark frame, its level is"
    elif kind == "text":
        cap, expected = tmp_path / "cap.nef", "cap.nef: not a raw image LibRaw can read"
        cap.write_text("not a raw\n" * 100)
    elif kind == "extension":
        cap, expected = write_biased_dng(tmp_path / "cap.jpg", level=0), "cap.jpg: not a raw file name"
    else:
        cap = write_biased_dng(tmp_path / "cap.dng", level=0, size=(2 * HEIGHT, WIDTH))
        expected = "cap.dng: 0 MB is over the 0.3 MB upload limit"

    runs_before = sorted(workspace.root.iterdir())
    with pytest.raises(gr.Error) as caught:
        run_files(enhancer, [str(picture)], False, 40, model, dark_frame=str(cap))
    message = caught.value.message
    assert message.startswith(f"Dark frame {expected}") and "\n" not in message
    assert str(tmp_path) not in message  # the server's paths stay private
    assert sorted(workspace.root.iterdir()) == runs_before  # nothing was enhanced


def test_a_picture_the_dark_frame_does_not_fit_fails_and_the_others_go_on(tmp_path, enhancer, model):
    cap = str(write_biased_dng(tmp_path / "cap.dng", level=0))
    fits = str(write_biased_dng(tmp_path / "rggb.dng"))
    other = str(write_biased_dng(tmp_path / "bggr.dng", cfa="BGGR", bias=np.zeros((2, 2))))

    with pytest.warns(UserWarning, match="bggr.dng"):
        _, details, downloads, _, results = run_files(enhancer, [other, fits], False, 40, model, dark_frame=cap)
    assert [r.name for r in results] == ["rggb.dng"] and len(downloads) == 4
    assert "- **failed:** bggr.dng: colour filter BGGR, but RGGB in the dark frame cap.dng" in details
    assert "| rggb.dng |" in details and "| cap.dng |" in details

    with pytest.raises(gr.Error) as caught:  # alone, it is the run's error
        run_files(enhancer, [other], False, 40, model, dark_frame=cap)
    message = caught.value.message
    assert message == "bggr.dng: colour filter BGGR, but RGGB in the dark frame cap.dng"


def test_details_table_has_every_results_columns():
    from seeisp.web import PageResult, details_markdown

    plain = PageResult("a.dng", Path("a.png"), Path("b.png"), (), {"file": "a.dng", "seconds": "1.00"})
    dark = PageResult("b.dng", Path("a.png"), Path("b.png"), (), {"file": "b.dng", "dark frame": "cap.dng"})
    assert details_markdown([plain, dark], []).splitlines() == [
        "| file | seconds | dark frame |",
        "|---|---|---|",
        "| a.dng | 1.00 | - |",
        "| b.dng | - | cap.dng |",
    ]


def test_an_address_the_page_cannot_listen_on_is_one_line_saying_why() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SeeispError, match=rf"^cannot listen on 127\.0\.0\.1:{port}: the port is in use"):
            check_address("127.0.0.1", port)
    check_address("127.0.0.1", port)  # free again
    with pytest.raises(SeeispError, match=r"^cannot listen on 999\.1\.1\.1:7860: no such address"):
        check_address("999.1.1.1", 7860)
    with pytest.raises(SeeispError, match=r"^cannot listen on 192\.0\.2\.1:7860: this machine has no such address$"):
        check_address("192.0.2.1", 7860)  # a documentation address: no machine has it


def test_app_py_takes_the_options_of_seeisp_ui() -> None:
    import socket
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "app.py", "--port", str(port)], cwd=repo, capture_output=True, text=True, timeout=300
        )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"seeisp: error: cannot listen on 127.0.0.1:{port}: the port is in use; try another --port"
    )

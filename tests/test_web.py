"""The web page's handlers called directly: results, details, downloads, bad uploads, limits, settings."""

from __future__ import annotations

import argparse
import shutil
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import rawpy

pytest.importorskip("seeisp.web")  # first: it points gradio's temporary folder into its own

from PIL import Image

from seeisp.budget import FRAME_BYTES_PER_PIXEL, fixed_bytes
from seeisp.cli import build_parser
from seeisp.errors import InvalidOptionError, InvalidRatioError, ModelError, RawReadError, SeeispError
from seeisp.models import available_models
from seeisp.raw import is_raw_name
from seeisp.web import (
    FILE_TYPES,
    Enhancer,
    PageResult,
    PageRun,
    Status,
    UISettings,
    Workspace,
    choose_ratio,
    details_markdown,
    parse_size,
    run_files,
    run_options,
)
from seeisp.web.jobs import PAGE_BYTES_PER_PIXEL, PREVIEW_SIDE, StageSpeeds, split_uploads
from seeisp.web.page import downloads_html
from seeisp.web.settings import check_address

from conftest import DARK_HEIGHT as HEIGHT
from conftest import DARK_WIDTH as WIDTH
from conftest import write_biased_dng, write_cast_dng, write_dark_dng, write_linear_dng

MB = 1_000_000


@pytest.fixture
def workspace():
    space = Workspace(session_bytes=500 * MB, total_bytes=1000 * MB)
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


def enhance(enhancer: Enhancer, files, model: str, ratio: float | None = 40, **choices) -> PageRun:
    """What Enhance does with the page's controls: ``ratio`` None is the auto box."""
    options = run_options(ratio is None, ratio or 100, model, **choices)
    return run_files(enhancer, [str(f) for f in files], options)


class Recorder(Status):
    """A ``Status`` that remembers every line it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, float | None]] = []

    def set(self, line: str, seconds_left: float | None) -> None:
        super().set(line, seconds_left)
        self.lines.append((line, seconds_left))


def test_one_raw_gives_a_comparison_details_and_the_chosen_downloads(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "night.dng", exposure_time=1 / 30, iso=6400)
    run = enhance(enhancer, [dng], model, formats=["png", "dng", "tif", "jpg"])
    (result,) = run.results

    naive, enhanced = iio.imread(result.naive_preview), iio.imread(result.seeisp_preview)
    assert naive.shape == enhanced.shape == (HEIGHT, WIDTH, 3)  # small frames are shown as they are
    assert np.abs(naive.astype(int) - enhanced.astype(int)).mean() > 0.5  # two different renders
    assert enhanced.mean() > 10  # brightened, not the dark raw

    details = details_markdown(run.results, run.problems)
    for text in (
        "| camera | Acme Nightcam |",
        "| exposure | 1/30 s |",
        "| ratio | 40.0 (set) |",
        f"{WIDTH} x {HEIGHT}",
    ):
        assert text in details
    assert "| white balance | as shot (R x" in details and f"| model | {model} |" in details

    assert [p.suffix for p in result.downloads] == [".png", ".dng", ".tif", ".jpg"]
    tiff = iio.imread(result.downloads[2])
    assert tiff.dtype == np.uint16 and tiff.shape == (HEIGHT, WIDTH, 3)
    with Image.open(result.downloads[3]) as jpeg:
        exif = jpeg.getexif()
    assert (exif[0x0110], exif[0x010E]) == ("Nightcam", f"seeisp {model}, ratio 40")  # the raw's EXIF, and how
    with rawpy.imread(str(result.downloads[1])) as linear:  # for a raw editor
        assert linear.raw_type == rawpy.RawType.Stack and linear.raw_image.shape[:2] == (HEIGHT, WIDTH)
    with zipfile.ZipFile(run.zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(p.name for p in result.downloads)
    # Everything written lives in the app's workspace.
    assert all(p.resolve().is_relative_to(enhancer.workspace.root) for p in run.downloads)


def test_only_the_chosen_formats_are_written(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "night.dng")
    run = enhance(enhancer, [dng], model)  # the default: PNG to look at, the linear DNG for a raw editor
    folder = run.results[0].downloads[0].parent
    assert sorted(p.suffix for p in run.results[0].downloads) == [".dng", ".png"]
    written = sorted(p.name for p in folder.iterdir())
    assert [name for name in written if not name.endswith("-preview.jpg")] == [
        "linear",  # the network's picture, kept for the strength control (no download)
        "night-naive.jpg",
        "night-seeisp.dng",
        "night-seeisp.png",
    ]
    single = enhance(enhancer, [dng], model, formats=["jpg"])
    assert [p.suffix for p in single.downloads] == [".jpg"]  # one file: no ZIP of it
    for bad in ([], ["gif"]):
        with pytest.raises(InvalidOptionError, match="output formats"):
            run_options(True, 100, model, formats=bad)


def test_the_comparison_is_made_at_screen_size():
    from seeisp.web.jobs import fit_preview

    big = np.random.default_rng(0).random((1400, 2 * PREVIEW_SIDE + 200, 3), np.float32)
    assert fit_preview(big).shape == (round(1400 * PREVIEW_SIDE / (2 * PREVIEW_SIDE + 200)), PREVIEW_SIDE, 3)
    assert fit_preview(big[:300, :400]).shape == (300, 400, 3)  # smaller than a screen: as it is


def test_quality_runs_the_chosen_passes_and_says_so(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "best.dng")
    status = Recorder()
    plain = enhance(enhancer, [dng], model)
    best = run_files(enhancer, [str(dng)], run_options(False, 40, model, quality="best"), status=status)
    assert f"| model | {model} x8 |" in details_markdown(best.results, [])
    assert ("best.dng: network: tile 8 of 8", 0) in [(line, round(left or 0)) for line, left in status.lines]
    single, averaged = iio.imread(plain.results[0].seeisp_preview), iio.imread(best.results[0].seeisp_preview)
    assert averaged.shape == single.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(averaged, single)
    with pytest.raises(InvalidOptionError, match="quality"):
        run_options(True, 100, model, quality="superb")


def test_white_balance_choice_balances_both_pictures_alike(tmp_path, enhancer, model):
    dng = write_cast_dng(tmp_path / "night.dng")  # a grey scene that the as-shot balance turns magenta
    # R/G of both pictures: about 2.9 as shot, 1.1-1.3 with auto (tests/test_white_balance.py says why not 1).
    for choice, grey in (("camera", False), ("auto", True)):
        (result,) = enhance(enhancer, [dng], model, white_balance=choice).results
        for picture in (result.naive_preview, result.seeisp_preview):
            means = iio.imread(picture).reshape(-1, 3).mean(axis=0)
            assert (abs(means[0] / means[1] - 1) < 0.35) == grey, (choice, picture)
        assert result.details["white balance"].startswith("auto" if grey else "as shot")
    with pytest.raises(SeeispError, match="white balance must be one of camera, daylight, auto"):
        run_options(False, 40, model, white_balance="tungsten")


def test_auto_ratio_is_estimated_and_handed_back_for_the_ratio_control(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "auto.dng", level=0.01)
    (result,) = enhance(enhancer, [dng], model, ratio=None).results
    assert result.details["ratio"] == f"{result.ratio:.1f} (auto)"
    assert 1 < result.ratio <= 300


def test_exposure_compensation_moves_the_ratio_by_stops(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "ev.dng")
    (result,) = enhance(enhancer, [dng], model, ratio=40, ev=1).results
    assert result.ratio == pytest.approx(80)
    assert result.details["ratio"] == "80.0 (set)"


def test_several_files_merged_as_one_burst_give_one_result(tmp_path, enhancer, model):
    pytest.importorskip("cv2")
    frames = [write_dark_dng(tmp_path / f"frame{i}.dng", seed=i) for i in range(3)]
    run = enhance(enhancer, frames, model, burst=True)
    (result,) = run.results
    assert result.name == "frame0.dng"
    assert result.details["frames"] == "3 merged"
    assert not run.problems


def test_a_run_past_the_time_limit_is_stopped_and_the_next_one_runs(tmp_path, enhancer, model):
    dngs = [str(write_dark_dng(tmp_path / f"slow{i}.dng", seed=i)) for i in range(2)]
    options = run_options(False, 40, model)
    with pytest.raises(SeeispError, match=r"^slow0\.dng: stopped: the run took longer than this server allows"):
        run_files(enhancer, dngs, options, status=Status(time_limit=1e-6))
    assert run_files(enhancer, dngs[:1], options, status=Status(time_limit=600)).results


def test_a_raw_too_large_for_the_run_memory_is_refused_before_decoding(tmp_path, workspace, enhancer, model):
    dng = write_dark_dng(tmp_path / "large.dng")
    session = enhancer.session(model)
    run = fixed_bytes(session.default_tile, session.width)
    frame = (FRAME_BYTES_PER_PIXEL + PAGE_BYTES_PER_PIXEL) * WIDTH * HEIGHT
    small = Enhancer(workspace, parse_size("200MB"), job_bytes=int(run + frame // 2))
    with pytest.raises(SeeispError, match=r"large\.dng: .*more than the limit"):
        run_files(small, [str(dng)], run_options(False, 40, model))
    roomy = Enhancer(workspace, parse_size("200MB"), job_bytes=int(run + frame * 2))
    assert run_files(roomy, [str(dng)], run_options(False, 40, model)).results


def test_status_names_each_stage_and_the_time_left(tmp_path, enhancer, model):
    dngs = [str(write_dark_dng(tmp_path / f"p{i}.dng", seed=i)) for i in range(2)]
    status = Recorder()
    run_files(enhancer, dngs, run_options(True, 100, model, formats=["png", "tif"]), status=status)
    lines = [line for line, _ in status.lines]
    stages = [line.split(": ", 1)[1].split(":")[0] for line in lines if line.startswith("p0.dng (1 of 2): ")]
    assert list(dict.fromkeys(stages)) == [
        "measuring the model's speed on this machine",
        "reading",
        "network",
        "rendering",
        "comparison picture",
        "keeping the result for the strength control",
        "writing PNG",
        "writing TIFF",
        "done",
    ]
    assert lines.index("p1.dng (2 of 2): reading") > lines.index("p0.dng (1 of 2): done")
    # The second file's estimate comes from the speeds the first one measured, before its network starts.
    left = dict(status.lines)["p1.dng (2 of 2): network: starting"]
    assert left is not None and left > 0
    assert "about" in status.text() or status.text().endswith("packing the ZIP")


def test_stage_speeds_estimate_from_the_frame_size_only_once_measured():
    speeds = StageSpeeds()
    assert speeds.estimate(["read", "render"], 12) is None
    speeds.measure("read", 1.0, 2.0)
    speeds.measure("render", 3.0, 2.0)
    assert speeds.estimate(["read", "render"], 12) == pytest.approx(24.0)  # 2 s per MP at 12 MP
    assert speeds.estimate(["read", "render"], 24) == pytest.approx(48.0)


def test_renamed_text_file_gives_a_one_line_error_naming_it(tmp_path, enhancer, model):
    fake = tmp_path / "holiday.dng"
    fake.write_text("this is not a raw file\n" * 100)
    with pytest.raises(SeeispError) as caught:
        enhance(enhancer, [fake], model)
    message = str(caught.value)
    assert message.startswith("holiday.dng: ")
    assert "raw" in message
    assert "\n" not in message
    assert str(tmp_path) not in message  # the server's paths stay private


def test_linear_dng_is_refused_as_not_bayer(tmp_path, enhancer, model):
    linear = write_linear_dng(tmp_path / "linear.dng", np.full((64, 96, 3), 3000, np.uint16))
    with pytest.raises(SeeispError, match="Bayer"):
        enhance(enhancer, [linear], model)


def test_a_bad_file_in_a_batch_is_reported_and_the_others_still_run(tmp_path, enhancer, model):
    good = write_dark_dng(tmp_path / "good.dng")
    bad = tmp_path / "broken.nef"
    bad.write_bytes(b"\x00" * 5000)
    warned: list[str] = []
    options = run_options(True, 100, model)
    run = run_files(enhancer, [str(bad), str(good)], options, warn=warned.append)
    assert [r.name for r in run.results] == ["good.dng"]
    assert len(run.results[0].downloads) == 2
    assert warned and warned[0].startswith("broken.nef: ")
    assert "**failed:** broken.nef" in details_markdown(run.results, run.problems)


def test_every_libraw_suffix_is_taken_in_any_case_and_other_files_are_dropped_with_a_reason(tmp_path, enhancer):
    for name in ("SHOT.NEF", "shot.Cr3", "x.dng", "a.3FR", "old.CRW", "s.sr2", "s.SRF", "m.mrw", "h.fff", "p.RAW"):
        upload = tmp_path / name
        upload.write_bytes(b"raw")
        enhancer.check_upload(upload)  # accepted: reading it decides whether it really is a raw
        assert f".{name.rsplit('.', 1)[1].lower()}" in FILE_TYPES
    photo = tmp_path / "photo.JPG"
    photo.write_bytes(b"jpeg")
    with pytest.raises(RawReadError, match=r"photo\.JPG: not a raw file name"):
        enhancer.check_upload(photo)
    empty = tmp_path / "upload"
    empty.write_bytes(b"")
    raws, refused = split_uploads([str(photo), str(empty), str(tmp_path / "SHOT.NEF")])
    assert raws == [str(tmp_path / "SHOT.NEF")]
    assert [line.split(":")[0] for line in refused] == ["photo.JPG", "upload"]
    assert not is_raw_name("IMG_1-seeisp.dng")  # seeisp's own output is no raw


def test_uploads_over_the_size_limit_are_refused_in_mib(tmp_path, workspace, model):
    small_limit = Enhancer(workspace, max_file_bytes=parse_size("100KiB"))
    dng = write_dark_dng(tmp_path / "big.dng")
    assert dng.stat().st_size > 100 * 1024
    with pytest.raises(SeeispError, match=r"MiB is over the 0 MiB upload limit|upload limit"):
        enhance(small_limit, [dng], model)


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
    options = run_options(True, 100, model)
    with pytest.raises(SeeispError, match="Choose one or more"):
        run_files(enhancer, [], options)
    with pytest.raises(SeeispError, match="At most 2 files"):
        run_files(enhancer, [dng] * 3, options, max_files=2)
    with pytest.raises(InvalidRatioError, match="between 1 and 300"):
        run_options(False, 1000, model)
    with pytest.raises(ModelError, match="unknown model"):
        run_files(enhancer, [dng], run_options(True, 100, "no-such-model"))
    assert not list(enhancer.workspace.results.iterdir())  # no run folder was made


def test_only_registered_models_load_never_a_path_from_the_browser(enhancer, model):
    assert enhancer.session(model) is enhancer.session(model)  # loaded once
    with pytest.raises(ModelError):
        enhancer.session(str(Path("weights") / "seeisp-lite.onnx"))


def test_each_session_has_its_own_runs_and_the_caps_delete_the_oldest_first():
    space = Workspace(session_bytes=250, total_bytes=500)

    def run(session: str, size: int = 100) -> Path:
        folder = space.new_run(session)
        (folder / "result.png").write_bytes(b"x" * size)
        space.trim(folder)
        return folder

    alice = [run("alice") for _ in range(3)]  # 300 bytes: over alice's 250, her oldest goes
    assert [r.exists() for r in alice] == [False, True, True]
    bob = [run("bob") for _ in range(2)]
    assert all(r.exists() for r in [*alice[1:], *bob])  # 400 of 500 bytes: nothing else goes
    carol = run("carol", 200)  # 600 of 500: the oldest run anywhere goes, whoever made it
    assert not alice[1].exists() and alice[2].exists() and carol.exists()
    huge = run("dave", 1000)  # a run over every cap still stays, alone
    assert huge.exists() and [r for r in space.runs()] == [huge]
    assert alice[0].parent != bob[0].parent  # a folder per session
    space.forget("dave")
    assert not huge.exists()
    space.close()
    assert not space.root.exists()


def test_an_expired_result_says_so_instead_of_linking_to_nothing(tmp_path, enhancer, model):
    dng = write_dark_dng(tmp_path / "night.dng")
    run = enhance(enhancer, [dng], model)
    links = downloads_html(run.results, run.zip_path)
    assert links.count("<a href=") == 3 and "night-seeisp.png" in links and "MiB" in links
    for path in run.results[0].downloads:
        path.unlink()
    run.results[0].seeisp_preview.unlink()
    assert run.results[0].expired
    assert "night.dng: expired" in downloads_html(run.results)


def test_details_list_every_result_with_its_shot(tmp_path):
    plain = PageResult("a.dng", Path("a.png"), Path("b.png"), (), {"file": "a.dng", "ISO": "6400"})
    assert details_markdown([plain], ["b.nef: broken"]).splitlines() == [
        "| a.dng | |",
        "|---|---|",
        "| ISO | 6400 |",
        "",
        "- **failed:** b.nef: broken",
    ]


def test_dark_frame_takes_the_sensors_black_off_and_is_shown(tmp_path, enhancer, model):
    picture = write_biased_dng(tmp_path / "night.dng")
    unbiased = write_biased_dng(tmp_path / "ideal.dng", bias=np.zeros((2, 2)))  # the same shot, true black
    cap = str(write_biased_dng(tmp_path / "cap.dng", level=0, seed=1))
    status = Recorder()

    options = run_options(False, 40, model, formats=["jpg"])
    corrected = run_files(enhancer, [str(picture)], options, status=status, dark_frame=cap).results[0]
    assert corrected.details["dark frame"] == "cap.dng"
    assert status.lines[0] == ("reading the dark frame", None)
    with Image.open(corrected.downloads[0]) as jpeg:
        assert jpeg.getexif()[0x010E] == f"seeisp {model}, ratio 40, dark frame cap.dng"

    without = run_files(enhancer, [str(picture)], options).results[0]
    ideal = run_files(enhancer, [str(unbiased)], options).results[0]
    assert "dark frame" not in without.details
    biased, truth, fixed = (iio.imread(r.seeisp_preview).astype(float) for r in (without, ideal, corrected))
    # The bias, amplified 40 times, brightens and tints the picture; the dark frame takes it off again.
    assert np.abs(biased - truth).mean() > 5
    assert np.abs(fixed - truth).mean() < 1.5  # of 255 (JPEG previews)


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
        expected = "cap.dng: 0 MiB is over the 0 MiB upload limit"

    with pytest.raises(SeeispError) as caught:
        run_files(enhancer, [str(picture)], run_options(False, 40, model), dark_frame=str(cap))
    message = str(caught.value)
    assert message.startswith(f"Dark frame {expected}") and "\n" not in message
    assert str(tmp_path) not in message  # the server's paths stay private
    assert not list(workspace.results.iterdir())  # nothing was enhanced


def test_a_picture_the_dark_frame_does_not_fit_fails_and_the_others_go_on(tmp_path, enhancer, model):
    cap = str(write_biased_dng(tmp_path / "cap.dng", level=0))
    fits = str(write_biased_dng(tmp_path / "rggb.dng"))
    other = str(write_biased_dng(tmp_path / "bggr.dng", cfa="BGGR", bias=np.zeros((2, 2))))
    options = run_options(False, 40, model)

    run = run_files(enhancer, [other, fits], options, dark_frame=cap, warn=lambda message: None)
    assert [r.name for r in run.results] == ["rggb.dng"] and run.results[0].details["dark frame"] == "cap.dng"
    assert run.problems == ("bggr.dng: colour filter BGGR, but RGGB in the dark frame cap.dng",)

    with pytest.raises(SeeispError) as caught:  # alone, it is the run's error
        run_files(enhancer, [other], options, dark_frame=cap)
    assert str(caught.value) == "bggr.dng: colour filter BGGR, but RGGB in the dark frame cap.dng"


def test_choose_ratio():
    assert choose_ratio(True, 50) is None
    assert choose_ratio(False, 50) == 50.0
    assert choose_ratio(False, "12.5") == 12.5
    for bad in (0, 0.5, 301, float("nan"), "lots"):
        with pytest.raises(InvalidRatioError):
            choose_ratio(False, bad)


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
    with pytest.raises(SeeispError, match=r"^--job-memory: "):
        UISettings(job_memory="all of it")
    with pytest.raises(SeeispError, match=r"^--job-time must be"):
        UISettings(job_time=0)
    with pytest.raises(SeeispError, match="--session-disk"):
        UISettings(session_disk="a lot")


def test_cli_defaults_match_the_settings_defaults():
    args = build_parser(["ui"]).parse_args(["ui"])
    defaults = UISettings()
    assert isinstance(args, argparse.Namespace)
    assert (args.host, args.port, args.max_file_size, args.concurrency, args.session_disk, args.total_disk) == (
        defaults.host,
        defaults.port,
        defaults.max_file_size,
        defaults.concurrency,
        defaults.session_disk,
        defaults.total_disk,
    )
    assert args.host == "127.0.0.1" and args.share == "never" and defaults.share is False


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


def test_strength_blends_with_a_lightly_denoised_naive_picture_without_the_network(tmp_path, enhancer, model):
    from seeisp.enhance import enhance_file, rggb_mosaic
    from seeisp.pack import from_rggb, pack, restore_size
    from seeisp.web.strength import Blend

    dng = write_dark_dng(tmp_path / "night.dng")
    result = enhance_file(dng, ratio=40, model=enhancer.session(model))
    blend = Blend.of(result)
    # The naive picture at full size: each half-size pixel doubled, mirrored back from RGGB, odd edges repeated
    doubled = np.repeat(np.repeat(blend.soft, 2, axis=0), 2, axis=1)
    naive = restore_size(from_rggb(doubled, blend.cfa), result.raw.mosaic.shape)
    assert blend.at(100) is result
    none, half = blend.at(0), blend.at(50)
    np.testing.assert_allclose(none.camera_rgb, naive, atol=1e-6)
    np.testing.assert_allclose(half.camera_rgb, (result.camera_rgb + naive) / 2, atol=1e-5)
    assert np.abs(half.image - result.image).mean() > 1e-3  # rendered again from the blend
    # Lightly denoised: the amplified raw's noise from site to site is more than halved
    green = pack(rggb_mosaic(result.raw))[1] * 40
    smoothed = blend.soft[..., 1]
    assert np.abs(np.diff(smoothed, axis=1)).mean() < np.abs(np.diff(green, axis=1)).mean() / 2

    run = enhance(enhancer, [dng], model, strength=50, formats=["png"])
    (shown,) = run.results
    assert shown.details["strength"] == "50 %"
    full, grainy = iio.imread(shown.preview_at(100)).astype(float), iio.imread(shown.preview_at(0)).astype(float)
    middle = iio.imread(shown.seeisp_preview).astype(float)
    assert np.abs(full - grainy).mean() > 1
    assert np.abs(middle - (full + grainy) / 2).mean() < 2  # the run's own strength, as the control shows it
    with pytest.raises(InvalidOptionError, match="strength"):
        run_options(True, 100, model, strength=120)


def test_the_downloads_follow_the_strength_without_the_network(tmp_path, enhancer, model, monkeypatch):
    from seeisp.session import ModelSession
    from seeisp.web.jobs import run_at_strength

    dngs = [write_dark_dng(tmp_path / "a.dng"), write_dark_dng(tmp_path / "b.dng", seed=1)]
    run = enhance(enhancer, dngs, model, formats=["png", "dng"])
    originals = {p: p.read_bytes() for p in run.downloads}
    made_at_40 = enhance(enhancer, dngs[:1], model, formats=["png", "dng"], strength=40).results[0]

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran")

    monkeypatch.setattr(ModelSession, "run", no_network)
    at_40 = run_at_strength(enhancer, run, 40)
    first = at_40.results[0]
    assert first.strength == 40 and first.details["strength"] == "40 %"
    assert [p.name for p in first.downloads] == ["a-seeisp.png", "a-seeisp.dng"]  # the same names, a new folder
    assert all(p.parent.name == "strength-40" and p.is_file() for p in at_40.downloads)
    # The same files as a run at that strength (the kept network picture is float16: within a level or so)
    rewritten, direct = iio.imread(first.downloads[0]).astype(int), iio.imread(made_at_40.downloads[0]).astype(int)
    assert np.abs(rewritten - direct).max() <= 1
    with rawpy.imread(str(first.downloads[1])) as a, rawpy.imread(str(made_at_40.downloads[1])) as b:
        assert np.abs(a.raw_image.astype(int) - b.raw_image.astype(int)).max() <= 64  # of 65535
    with zipfile.ZipFile(at_40.zip_path) as archive:
        assert at_40.zip_path.parent.name == "strength-40"
        assert sorted(archive.namelist()) == ["a-seeisp.dng", "a-seeisp.png", "b-seeisp.dng", "b-seeisp.png"]
        assert archive.read("a-seeisp.png") == first.downloads[0].read_bytes()
    assert all(p.read_bytes() == data for p, data in originals.items())  # the run's own files stay as they were

    at_70 = run_at_strength(enhancer, at_40, 70)
    assert not any(p.exists() for p in at_40.downloads)  # one other strength at most is kept on disk
    back = run_at_strength(enhancer, at_70, 100)
    assert back.downloads == run.downloads and "strength" not in back.results[0].details
    assert not any(p.exists() for p in at_70.downloads)

    shutil.rmtree(run.zip_path.parent)  # as the disk caps delete an old run
    with pytest.raises(SeeispError, match=r"a\.dng: this result has expired"):
        run_at_strength(enhancer, back, 50)
    with pytest.raises(SeeispError, match=r"a\.dng: this result has expired"):
        back.results[0].loupe(50)


def test_the_1_to_1_view_shows_the_full_size_pixels_in_every_orientation(tmp_path, enhancer, model):
    from seeisp.enhance import enhance_file
    from seeisp.web.jobs import LOUPE_SIZE
    from seeisp.web.strength import Blend

    for orientation in (1, 3, 6, 8):
        result = enhance_file(write_dark_dng(tmp_path / f"o{orientation}.dng", orientation=orientation), ratio=40)
        blend = Blend.of(result)
        height, width = result.raw.shape
        for percent in (100, 30):
            picture = blend.at(percent).image
            crop = blend.crop(percent, centre=(width / 3, height / 4), size=(64, 48))
            top, left = round(height / 4 - 24), round(width / 3 - 32)
            np.testing.assert_allclose(crop, picture[top : top + 48, left : left + 64], atol=1e-6)
            corner = blend.crop(percent, centre=(width, 0), size=(64, 48))  # moved inside the picture
            np.testing.assert_allclose(corner, picture[:48, width - 64 :], atol=1e-6)
        # Kept on disk and read back: the same, within the float16 the network picture is kept in
        stored = Blend.load(blend.store(tmp_path / f"kept{orientation}"))
        assert not stored.result.raw.mosaic.any()  # the raw's pixels are not kept
        centre = (width / 2, height / 2)
        np.testing.assert_allclose(stored.crop(30, centre, (64, 48)), blend.crop(30, centre, (64, 48)), atol=2e-3)

    (shown,) = enhance(enhancer, [write_dark_dng(tmp_path / "night.dng")], model, formats=["png"]).results
    full = iio.imread(shown.downloads[0]).astype(int)
    loupe = shown.loupe(100).astype(int)
    assert loupe.shape == (min(LOUPE_SIZE[1], HEIGHT), min(LOUPE_SIZE[0], WIDTH), 3)  # 1:1: never scaled
    assert np.abs(loupe - full[: loupe.shape[0], : loupe.shape[1]]).max() <= 1
    assert shown.size == (WIDTH, HEIGHT)


def test_an_x_trans_raw_runs_at_any_strength(tmp_path, enhancer, model):
    from test_xtrans import write_xtrans_dng

    from seeisp.web.jobs import LOUPE_SIZE

    from conftest import scene_camera_rgb

    # LibRaw, which makes the comparison's plain brightening, demosaics X-Trans on frames of 512 pixels and more
    raw = write_xtrans_dng(tmp_path / "DSCF0001.dng", scene_camera_rgb(516, 528), ratio=50.0)
    (result,) = enhance(enhancer, [raw], model, strength=60, formats=["png"]).results
    assert result.details["strength"] == "60 %" and iio.imread(result.downloads[0]).shape == (516, 528, 3)
    assert result.loupe(60).shape == (LOUPE_SIZE[1], 528, 3)


def test_the_warm_up_measures_every_stage_so_the_first_run_has_an_estimate(tmp_path, enhancer, model):
    from seeisp.web.jobs import network_stage, write_stage

    enhancer.warm_up(write_dark_dng(tmp_path / "warm.dng"), model)
    stages = ["read", network_stage(model, 1), "render", "comparison", "keep", write_stage("png"), write_stage("dng")]
    assert enhancer.speeds.estimate(stages, 24) > 0
    assert not (enhancer.workspace.root / "warm-up").exists()  # nothing of it stays on disk

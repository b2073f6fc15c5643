"""The web page served on 127.0.0.1 and driven through its API with gradio_client, as a remote user would."""

from __future__ import annotations

import socket
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

pytest.importorskip("seeisp.web")  # first: it points gradio's temporary folder into its own
pytest.importorskip("gradio_client")

from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from seeisp.models import available_models
from seeisp.web import PROCESS_DIR, UISettings, WebApp, build_app

from conftest import DARK_HEIGHT as HEIGHT
from conftest import DARK_WIDTH as WIDTH
from conftest import write_biased_dng, write_dark_dng

# gradio's queue trips over pandas 3 deprecations; they are not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

MAX_UPLOAD = "1MB"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app():
    if not available_models():
        pytest.skip("no seeisp model in weights/")
    web = build_app(UISettings(port=free_port(), max_file_size=MAX_UPLOAD))
    web.launch(prevent_thread_lock=True)
    yield web
    web.close()
    assert not web.workspace.root.exists(), "closing the app must delete its uploads and results"


@pytest.fixture(scope="module")
def client(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Client:
    assert app.blocks.local_url.startswith("http://127.0.0.1:")
    return Client(
        app.blocks.local_url,
        download_files=str(tmp_path_factory.mktemp("downloads")),
        verbose=False,
        analytics_enabled=False,
    )


def enhance(client: Client, path: Path, auto: bool = True, ratio: float = 100, **options) -> dict:
    """One Enhance through the API; the outputs by name, component updates unwrapped to their values."""
    outputs = client.predict(
        files=[handle_file(str(path))],
        auto_ratio=auto,
        ratio=ratio,
        model=available_models()[0],
        **options,
        api_name="/enhance",
    )
    return named_outputs(outputs)


def named_outputs(outputs: tuple) -> dict:
    names = ("slider", "status", "details", "links", "downloads", "gallery", "ratio", "navigator", "loupe")
    values = [o["value"] if isinstance(o, dict) and "__type__" in o else o for o in outputs]
    return dict(zip(names, values, strict=True))


def test_a_raw_in_gives_two_images_details_and_the_chosen_downloads(app, client, tmp_path):
    dng = write_dark_dng(tmp_path / "Night.DNG", exposure_time=1 / 8)
    out = enhance(client, dng, auto=False, ratio=30, formats=["png", "dng", "tif", "jpg"])

    naive, enhanced = (iio.imread(p) for p in out["slider"])
    assert naive.shape == enhanced.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(naive, enhanced)
    assert "Acme Nightcam" in out["details"] and "1/8 s" in out["details"] and "30.0 (set)" in out["details"]
    suffixes = [Path(p).suffix for p in out["downloads"]]
    assert suffixes == [".png", ".dng", ".tif", ".jpg", ".zip"]
    assert iio.imread(next(p for p in out["downloads"] if p.endswith(".tif"))).dtype == np.uint16
    with zipfile.ZipFile(out["downloads"][-1]) as archive:
        assert sorted(archive.namelist()) == sorted(Path(p).name for p in out["downloads"][:-1])
    assert out["status"] == "Done: 1 file enhanced." and out["ratio"] == 30
    # The 1:1 view: full-size pixels of the PNG (the small test frame fits in it whole)
    assert np.abs(iio.imread(out["loupe"]).astype(int) - iio.imread(out["downloads"][0]).astype(int)).max() <= 1
    assert iio.imread(out["navigator"]).shape == enhanced.shape
    copies = list(PROCESS_DIR.rglob("Night-seeisp.tif"))
    assert len(copies) == 1, copies  # served from the run's folder, not copied into Gradio's cache


def test_only_the_chosen_formats_come_back(client, tmp_path):
    out = enhance(client, write_dark_dng(tmp_path / "plain.dng"))  # the default: PNG and the linear DNG
    assert [Path(p).name for p in out["downloads"]] == ["plain-seeisp.png", "plain-seeisp.dng", "seeisp-results.zip"]
    out = enhance(client, write_dark_dng(tmp_path / "one.dng"), formats=["jpg"])
    assert [Path(p).name for p in out["downloads"]] == ["one-seeisp.jpg"]


def test_best_quality_runs_eight_passes(client, tmp_path):
    dng = write_dark_dng(tmp_path / "best.dng")
    plain = enhance(client, dng, auto=False, ratio=30, quality="fast")
    assert f"| model | {available_models()[0]} |" in plain["details"]
    best = enhance(client, dng, auto=False, ratio=30, quality="best")
    assert f"| model | {available_models()[0]} x8 |" in best["details"]
    single, averaged = iio.imread(plain["slider"][1]), iio.imread(best["slider"][1])
    assert averaged.shape == single.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(averaged, single)


def test_white_balance_option_reaches_the_downloads(client, tmp_path):
    dng = write_dark_dng(tmp_path / "street.dng")
    out = enhance(client, dng, auto=False, ratio=30, white_balance="auto", formats=["jpg"])
    with Image.open(out["downloads"][0]) as jpeg:
        assert jpeg.getexif()[0x010E].endswith(", auto white balance")


def test_dark_frame_option_is_used_and_shown(client, tmp_path):
    picture = write_biased_dng(tmp_path / "night.dng")
    cap = write_biased_dng(tmp_path / "Cap.DNG", level=0, seed=1)
    plain = enhance(client, picture, auto=False, ratio=30)
    out = enhance(client, picture, auto=False, ratio=30, formats=["jpg"], dark_frame=handle_file(str(cap)))
    assert "| dark frame | Cap.DNG |" in out["details"]
    with Image.open(out["downloads"][0]) as jpeg:
        assert jpeg.getexif()[0x010E].endswith(", dark frame Cap.DNG")
    assert not np.array_equal(iio.imread(out["slider"][1]), iio.imread(plain["slider"][1]))

    bright = write_biased_dng(tmp_path / "bright.dng", level=0.1)
    with pytest.raises(AppError, match=r"^Dark frame bright\.dng: not a dark frame"):
        enhance(client, picture, dark_frame=handle_file(str(bright)))


def test_dark_frame_upload_is_checked_like_the_raws(client, tmp_path):
    picture = write_dark_dng(tmp_path / "night.dng")
    text = tmp_path / "cap.txt"
    text.write_text("hello")
    with pytest.raises(AppError, match=r"^Dark frame cap\.txt: not a raw file name"):
        enhance(client, picture, dark_frame=handle_file(str(text)))
    too_big = tmp_path / "cap.dng"
    too_big.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(ValueError, match="maximum file size"):  # refused before it is uploaded
        enhance(client, picture, dark_frame=handle_file(str(too_big)))


def test_bad_uploads_get_a_clean_error_and_the_server_keeps_serving(client, tmp_path):
    fake = tmp_path / "renamed.nef"
    fake.write_text("not a raw at all\n" * 50)
    with pytest.raises(AppError, match=r"^renamed\.nef: not a raw image"):
        enhance(client, fake)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(AppError, match=r"^notes\.txt: not a raw file name"):
        enhance(client, text)

    too_big = tmp_path / "huge.dng"
    too_big.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(ValueError, match="maximum file size"):  # refused before it is uploaded
        enhance(client, too_big)

    out = enhance(client, write_dark_dng(tmp_path / "after.dng"))
    assert iio.imread(out["slider"][1]).shape == (HEIGHT, WIDTH, 3)


def test_two_clients_at_once_each_get_their_own_results(app, tmp_path):
    clients = [Client(app.blocks.local_url, download_files=str(tmp_path / f"c{i}"), verbose=False) for i in range(2)]
    pictures = [write_dark_dng(tmp_path / f"{who}.dng", seed=i) for i, who in enumerate(("alice", "bob"))]
    with ThreadPoolExecutor(2) as pool:
        firsts = list(pool.map(lambda pair: enhance(*pair), zip(clients, pictures, strict=True)))
        seconds = list(pool.map(lambda pair: enhance(*pair), zip(clients, pictures, strict=True)))
    for who, first, second in zip(("alice", "bob"), firsts, seconds, strict=True):
        assert [Path(p).name for p in first["downloads"]][:2] == [f"{who}-seeisp.png", f"{who}-seeisp.dng"]
        assert [item["caption"] for item in second["gallery"]] == [f"{who}.dng", f"{who}.dng"]  # only their own
        with zipfile.ZipFile(second["downloads"][-1]) as archive:
            assert all(name.startswith(who) for name in archive.namelist())
    sessions = {run.parent for run in app.workspace.runs()}
    assert len(sessions) >= 2  # a folder per session
    empty = [p for p in app.workspace.root.rglob("*") if p.is_file() and p.stat().st_size == 0]
    assert not empty, empty  # no stray temporary files from the uploads


def test_demo_button_runs_the_demo_raw_even_after_a_cache_clean(client, app):
    out = named_outputs(client.predict(api_name="/demo"))
    assert f"| {app.demo_raw.name} | |" in out["details"] and "| ratio | 100.0 (set) |" in out["details"]

    app.demo_raw.unlink()  # as Gradio's cache cleaner does to old files
    out = named_outputs(client.predict(api_name="/demo"))
    assert app.demo_raw.is_file() and out["status"] == "Done: 1 file enhanced."

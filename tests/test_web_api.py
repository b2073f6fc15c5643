"""The web page served on 127.0.0.1 and driven through its API with gradio_client, as a remote user would."""

from __future__ import annotations

import socket
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
from seeisp.web import UISettings, WebApp, build_app

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


def enhance(client: Client, path: Path, auto: bool = True, ratio: float = 100, **options):
    return client.predict(
        files=[handle_file(str(path))],
        auto_ratio=auto,
        ratio=ratio,
        model=available_models()[0],
        **options,
        api_name="/enhance",
    )


def test_a_raw_in_gives_two_images_details_and_downloads(client, tmp_path):
    dng = write_dark_dng(tmp_path / "Night.DNG", exposure_time=1 / 8)
    slider, details, downloads, gallery = enhance(client, dng, auto=False, ratio=30)

    naive, enhanced = (iio.imread(p) for p in slider)
    assert naive.shape == enhanced.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(naive, enhanced)
    assert "Acme Nightcam" in details and "1/8 s" in details and "30.0 (set)" in details
    assert sorted(Path(p).suffix for p in downloads) == [".dng", ".jpg", ".png", ".tif"]
    assert iio.imread(next(p for p in downloads if p.endswith(".tif"))).dtype == np.uint16
    assert [item["caption"] for item in gallery] == ["Night.DNG"]


def test_best_quality_option_runs_the_ensemble(client, tmp_path):
    dng = write_dark_dng(tmp_path / "best.dng")
    plain, details, *_ = enhance(client, dng, auto=False, ratio=30, best_quality=False)
    assert f"| {available_models()[0]} |" in details
    best, details, *_ = enhance(client, dng, auto=False, ratio=30, best_quality=True)
    assert f"| {available_models()[0]} x8 |" in details
    single, averaged = iio.imread(plain[1]), iio.imread(best[1])
    assert averaged.shape == single.shape == (HEIGHT, WIDTH, 3)
    assert not np.array_equal(averaged, single)


def test_white_balance_option_reaches_the_downloads(client, tmp_path):
    dng = write_dark_dng(tmp_path / "street.dng")
    _, _, downloads, _ = enhance(client, dng, auto=False, ratio=30, white_balance="auto")
    with Image.open(next(p for p in downloads if p.endswith(".jpg"))) as jpeg:
        assert jpeg.getexif()[0x010E].endswith(", auto white balance")


def test_dark_frame_option_is_used_and_shown(client, tmp_path):
    picture = write_biased_dng(tmp_path / "night.dng")
    cap = write_biased_dng(tmp_path / "Cap.DNG", level=0, seed=1)
    plain, *_ = enhance(client, picture, auto=False, ratio=30)
    slider, details, downloads, _ = enhance(client, picture, auto=False, ratio=30, dark_frame=handle_file(str(cap)))
    assert "| dark frame |" in details and "| Cap.DNG |" in details
    with Image.open(next(p for p in downloads if p.endswith(".jpg"))) as jpeg:
        assert jpeg.getexif()[0x010E].endswith(", dark frame Cap.DNG")
    assert not np.array_equal(iio.imread(slider[1]), iio.imread(plain[1]))

    bright = write_biased_dng(tmp_path / "bright.dng", level=0.1)
    with pytest.raises(AppError, match=r"^Dark frame bright\.dng: not a dark frame"):
        enhance(client, picture, dark_frame=handle_file(str(bright)))


def test_dark_frame_upload_is_checked_like_the_raws(client, tmp_path):
    picture = write_dark_dng(tmp_path / "night.dng")
    text = tmp_path / "cap.txt"
    text.write_text("hello")
    with pytest.raises(AppError, match="Invalid file type"):
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
    with pytest.raises(AppError, match="Invalid file type"):
        enhance(client, text)

    too_big = tmp_path / "huge.dng"
    too_big.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(ValueError, match="maximum file size"):  # refused before it is uploaded
        enhance(client, too_big)

    slider, *_ = enhance(client, write_dark_dng(tmp_path / "after.dng"))
    assert iio.imread(slider[1]).shape == (HEIGHT, WIDTH, 3)


def test_demo_button_loads_the_generated_demo_raw_even_after_a_cache_clean(client, app):
    files, auto, ratio = client.predict(api_name="/demo")
    assert [Path(f).name for f in files] == [app.demo_raw.name]
    assert auto is False and ratio == 100

    app.demo_raw.unlink()  # as Gradio's cache cleaner does to old files
    files, *_ = client.predict(api_name="/demo")
    assert app.demo_raw.is_file()
    assert Path(files[0]).stat().st_size == app.demo_raw.stat().st_size

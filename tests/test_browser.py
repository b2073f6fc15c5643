"""The web page in a real headless Chromium: upload, enhance, compare, download, bad files, the demo.

Needs Debian's chromium (``apt-get install chromium``) and the playwright package; skips without them.
``SEEISP_UI_SCREENSHOT=docs/ui.png pytest tests/test_browser.py`` also saves the demo's result page there.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 180_000  # one enhancement on a busy 2-core machine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),  # gradio vs pandas 3, not ours
]

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("seeisp.web")  # first: it points gradio's temporary folder into its own
sync_api = pytest.importorskip("playwright.sync_api")


from seeisp.models import available_models  # noqa: E402
from seeisp.web import UISettings, build_app  # noqa: E402

from conftest import DARK_HEIGHT as HEIGHT  # noqa: E402
from conftest import DARK_WIDTH as WIDTH  # noqa: E402
from conftest import write_biased_dng, write_dark_dng  # noqa: E402

SLIDER_SHOWS_TWO_IMAGES = """() => {
    const images = [...document.querySelectorAll('#comparison img')];
    return images.length >= 2 && images.every(i => i.complete && i.naturalWidth > 0);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url():
    if not available_models():
        pytest.skip("no seeisp model in weights/")
    app = build_app(UISettings(port=free_port()))
    yield app.launch(prevent_thread_lock=True)
    app.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, url):
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#enhance")
    yield page
    page.close()


def upload(page, path: Path, target: str = "#raw-files") -> None:
    page.locator(f"{target} input[type=file]").set_input_files(str(path))
    page.locator(target).get_by_text(path.stem).wait_for()  # the upload finished and is listed


def test_upload_enhance_compare_and_download(page, tmp_path):
    upload(page, write_dark_dng(tmp_path / "street.dng"))
    page.click("#enhance")
    page.wait_for_function(SLIDER_SHOWS_TWO_IMAGES)

    sources = page.locator("#comparison img").evaluate_all("images => images.map(i => i.src)")
    assert any(s.endswith("street-naive.png") for s in sources)
    assert any(s.endswith("street-seeisp.png") for s in sources)
    details = page.locator("#details").inner_text()
    assert "Acme Nightcam" in details and f"{WIDTH} x {HEIGHT}" in details and "(auto)" in details

    links = page.locator("#downloads a[download]")
    names = sorted(links.evaluate_all("links => links.map(a => a.getAttribute('download'))"))
    assert names == ["street-seeisp.dng", "street-seeisp.jpg", "street-seeisp.png", "street-seeisp.tif"]
    magic = {".jpg": b"\xff\xd8", ".png": b"\x89PNG", ".tif": b"II*\x00", ".dng": b"II*\x00"}
    for href in links.evaluate_all("links => links.map(a => a.href)"):
        response = page.request.get(href)
        assert response.ok, href
        assert response.body().startswith(magic[Path(href).suffix])

    shot = page.screenshot(path=tmp_path / "upload.png", full_page=True)
    assert len(shot) > 10_000


def test_best_quality_box_is_off_by_default_and_runs_the_ensemble(page, tmp_path):
    box = page.locator("#ensemble input[type=checkbox]")
    assert not box.is_checked()
    assert "8 passes" in page.locator("#ensemble").inner_text()
    box.check()
    upload(page, write_dark_dng(tmp_path / "best.dng"))
    page.click("#enhance")
    page.wait_for_function(SLIDER_SHOWS_TWO_IMAGES)
    page.locator("#details").get_by_text(f"{available_models()[0]} x8").wait_for()


def test_dark_frame_upload_is_used_and_named_in_the_details(page, tmp_path):
    assert "lens cap on, same camera and ISO" in page.locator("#dark-frame-info").inner_text()
    upload(page, write_biased_dng(tmp_path / "cap.dng", level=0), target="#dark-frame")
    upload(page, write_biased_dng(tmp_path / "night.dng"))
    page.click("#enhance")
    page.wait_for_function(SLIDER_SHOWS_TWO_IMAGES)
    page.locator("#details th").get_by_text("dark frame").wait_for()
    assert "cap.dng" in page.locator("#details td").all_inner_texts()


def test_a_file_that_is_not_a_raw_shows_its_error_in_the_page(page, tmp_path):
    fake = tmp_path / "holiday.dng"
    fake.write_text("just text, renamed\n" * 100)
    upload(page, fake)
    page.click("#enhance")
    message = page.get_by_text("holiday.dng: not a raw image LibRaw can read").first
    message.wait_for()
    assert page.locator("#comparison img").count() == 0
    page.wait_for_timeout(12_000)  # longer than a toast's default 10 s: the reason must stay until closed
    assert message.is_visible()


def test_demo_button_runs_the_built_in_dark_raw(page, tmp_path):
    page.click("#demo")
    page.wait_for_function(SLIDER_SHOWS_TWO_IMAGES)
    page.locator("#details").get_by_text("seeisp Demo").wait_for()
    assert "100.0 (set)" in page.locator("#details").inner_text()
    page.locator("#gallery img").first.wait_for()
    # The demo raw ran at its own ratio; the user's auto ratio is back for the next upload
    page.wait_for_function("() => document.querySelector('#auto input[type=checkbox]').checked")
    # On a phone-sized screen the details table scrolls sideways: its cells stay one line high
    page.set_viewport_size({"width": 420, "height": 900})
    heights = page.locator("#details td").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().height)")
    row = page.locator("#details td").first.evaluate("c => parseFloat(getComputedStyle(c).lineHeight)")
    assert max(heights) < 2.5 * row, (heights, row)
    page.set_viewport_size({"width": 1400, "height": 1000})

    shot = tmp_path / "demo.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("SEEISP_UI_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SEEISP_UI_SCREENSHOT"])

"""The web page in a real headless Chromium, on a laptop's screen (1366x768) and a phone's (390x844): upload,
enhance, compare, download, bad files, several runs, the demo.

Needs Debian's chromium (``apt-get install chromium``) and the playwright package; skips without them.
``SEEISP_UI_SCREENSHOTS=docs pytest tests/test_browser.py -k demo`` also saves the demo's result page there
(ui.png on the laptop screen, ui-phone.png on the phone's).
"""

from __future__ import annotations

import base64
import os
import socket
import zipfile
from io import BytesIO
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 180_000  # one enhancement on a busy 2-core machine
SCREENS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

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

from conftest import scene_camera_rgb, write_biased_dng, write_dark_dng, write_scene_dng  # noqa: E402

SLIDER_SHOWS = """name => {
    const images = [...document.querySelectorAll('#comparison img')];
    return images.length >= 2 && images.every(i => i.complete && i.naturalWidth > 0)
        && images.some(i => i.src.includes(name));
}"""
IN_VIEW = """selector => {
    const box = document.querySelector(selector).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}"""
WORKING_OVER = """name => document.querySelector('#enhance').innerText.includes('Working')
    && [...document.querySelectorAll('#comparison img')].some(i => i.src.includes(name))"""


MAGIC = {".jpg": b"\xff\xd8", ".png": b"\x89PNG", ".tif": b"II*\x00", ".dng": b"II*\x00", ".zip": b"PK"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url():
    if not available_models():
        pytest.skip("no seeisp model in weights/")
    app = build_app(UISettings(port=free_port()), warm_up=False)
    yield app.launch(prevent_thread_lock=True)
    app.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, screen: str):
    page = browser.new_page(viewport=SCREENS[screen])
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#enhance")
    return page


@pytest.fixture(params=list(SCREENS))
def page(request, browser, url):
    page = open_page(browser, url, request.param)
    yield page
    page.close()


@pytest.fixture
def laptop(browser, url):
    page = open_page(browser, url, "laptop")
    yield page
    page.close()


def upload(page, path: Path, target: str = "#raw-files") -> None:
    """Put ``path`` in the box instead of what it holds."""
    clear = page.locator(f"{target} button[aria-label=Clear]")
    if clear.count():
        clear.click()
    page.locator(f"{target} input[type=file]").set_input_files(str(path))
    page.locator(f"{target} .file-preview").get_by_text(path.stem).wait_for()  # the upload finished and is listed


def enhance(page, name: str, previous: str = "") -> None:
    """Press Enhance and wait for the result ``name``; with ``previous``, that result stays shown while it works."""
    page.click("#enhance")
    if previous:
        page.wait_for_function(WORKING_OVER, arg=previous)
    page.wait_for_function(SLIDER_SHOWS, arg=name)
    page.locator("#enhance").get_by_text("Enhance").wait_for()  # the busy state is over


def drop(page, path: Path, target: str) -> None:
    """Drop ``path`` on ``target`` as a file dragged from the desktop."""
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([Uint8Array.from(atob(data), c => c.charCodeAt(0))], name));
            return transfer;
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(target, event, {"dataTransfer": transfer})


def picture(png: bytes) -> np.ndarray:
    return iio.imread(BytesIO(png)).astype(int)


def links(page) -> dict[str, str]:
    anchors = page.locator("#downloads a[download]")
    return dict(anchors.evaluate_all("links => links.map(a => [a.getAttribute('download'), a.href])"))


def fetch(page, href: str) -> bytes:
    response = page.request.get(href)
    assert response.ok, href
    return response.body()


def test_enhance_is_in_view_and_the_result_comes_into_view(page, tmp_path):
    assert page.evaluate(IN_VIEW, "#enhance"), "Enhance is below the fold"
    assert page.evaluate(IN_VIEW, "#raw-files") and page.evaluate(IN_VIEW, "#quality")
    assert not page.locator("#dark-frame").is_visible()  # folded away under "More settings"

    upload(page, write_dark_dng(tmp_path / "street.dng"))
    page.click("#enhance")
    page.locator("#enhance").get_by_text("Working").wait_for()  # busy while it runs
    page.wait_for_function(SLIDER_SHOWS, arg="street")
    page.wait_for_function(IN_VIEW, arg="#comparison")  # scrolled into view when ready
    assert "street.dng" in page.locator("#comparison").inner_text()  # the slider says which file it shows
    assert "Done: 1 file enhanced." in page.locator("#status").inner_text()
    details = page.locator("#details").inner_text()
    assert "Acme Nightcam" in details and "(auto)" in details and "as shot (R x" in details
    # The ratio control shows the ratio that was used
    assert "used (estimated)" in page.locator("#ratio").inner_text()
    # The strength control changes the comparison at once, without the network
    page.locator("#strength input[type=range]").fill("0")
    page.wait_for_function(SLIDER_SHOWS, arg="street-seeisp-preview-0.jpg")


def test_a_refused_file_then_a_raw_the_box_recovers_and_the_raw_runs(page, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 not a raw")
    page.locator("#raw-files input[type=file]").set_input_files(str(photo))
    page.get_by_text("photo.jpg: not a raw file").first.wait_for()
    assert page.locator("#raw-files").get_by_text("photo").count() == 0  # dropped from the box
    assert page.locator("#raw-files").get_by_text("Error").count() == 0
    assert page.locator("#raw-files button[aria-label='Add files']").count() <= 1  # no untranslated key
    assert page.locator("button[aria-label='common.upload']").count() == 0

    upload(page, write_dark_dng(tmp_path / "Night.NEF.dng"))
    enhance(page, "Night.NEF-seeisp-preview")


def test_five_runs_keep_the_first_runs_downloads_and_the_zip_holds_them_all(page, tmp_path):
    page.click("#more")
    page.locator("#formats").get_by_text("TIFF").click()  # PNG and DNG are on by default; add TIFF
    first: dict[str, str] = {}
    for run in range(5):
        upload(page, write_dark_dng(tmp_path / f"run{run}.dng", seed=run))
        enhance(page, f"run{run}-seeisp", previous=f"run{run - 1}-seeisp" if run else "")
        if run == 0:
            first = links(page)
    assert sorted(first) == ["run0-seeisp.dng", "run0-seeisp.png", "run0-seeisp.tif", "seeisp-results.zip"]
    for name, href in first.items():
        assert fetch(page, href).startswith(MAGIC[Path(name).suffix]), name
    with zipfile.ZipFile(BytesIO(fetch(page, first["seeisp-results.zip"]))) as archive:
        assert sorted(archive.namelist()) == ["run0-seeisp.dng", "run0-seeisp.png", "run0-seeisp.tif"]
    assert "MiB" in page.locator("#downloads").inner_text()
    assert page.locator("#gallery img").count() == 5  # this tab's results, newest first
    page.locator("#gallery img").last.click()
    page.wait_for_function(SLIDER_SHOWS, arg="run0")


def test_a_second_file_dropped_on_the_box_is_added_and_both_run(laptop, tmp_path):
    page = laptop
    upload(page, write_dark_dng(tmp_path / "first.dng"))
    drop(page, write_dark_dng(tmp_path / "second.dng", seed=1), "#raw-files .file-preview")
    page.locator("#raw-files .file-preview").get_by_text("second").wait_for()
    assert page.locator("#raw-files .file-preview").get_by_text("first").count() == 1  # added, not replacing
    page.locator("#burst").wait_for(state="visible")  # several files: the burst choice shows
    page.click("#enhance")
    page.locator("#status").get_by_text("Done: 2 files enhanced.").wait_for()


LOUPE_SHOWS = """old => {
    const image = document.querySelector('#loupe img');
    return image && image.src !== old && image.complete && image.naturalWidth > 0;
}"""


def test_the_1_to_1_view_and_the_strength_reach_the_downloads(laptop, tmp_path):
    page = laptop
    upload(page, write_scene_dng(tmp_path / "wide.dng", scene_camera_rgb(600, 900), ratio=50))
    enhance(page, "wide")
    page.wait_for_function(LOUPE_SHOWS, arg="")
    loupe = page.locator("#loupe img")
    drawn = "i => [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width, i.getBoundingClientRect().height]"
    assert loupe.evaluate(drawn) == [576, 384, 576, 384]  # full-size pixels, one per screen pixel
    original = links(page)
    full = picture(fetch(page, original["wide-seeisp.png"]))
    assert np.abs(picture(fetch(page, loupe.get_attribute("src"))) - full[108:492, 162:738]).max() <= 1  # middle

    shown = loupe.get_attribute("src")
    navigator = page.locator("#navigator img")
    box = navigator.bounding_box()  # the small picture, 3:2, fitted in it and centred
    navigator.click(position={"x": 3, "y": box["height"] / 2 + box["width"] / 3 - 3})  # its bottom left corner
    page.wait_for_function(LOUPE_SHOWS, arg=shown)
    assert np.abs(picture(fetch(page, loupe.get_attribute("src"))) - full[-384:, :576]).max() <= 1
    shown = loupe.get_attribute("src")
    loupe.click(position={"x": 400, "y": 200})  # the place clicked in the 1:1 view becomes its middle
    page.wait_for_function(LOUPE_SHOWS, arg=shown)
    assert np.abs(picture(fetch(page, loupe.get_attribute("src"))) - full[-384:, 112:688]).max() <= 1

    # Letting go of the strength slider writes the files again at that strength, without the network
    shown = loupe.get_attribute("src")
    strength = page.locator("#strength input[type=range]")
    strength.fill("0")
    strength.dispatch_event("pointerup")
    page.wait_for_function("() => document.querySelector('#downloads a[href*=\"strength-0\"]') !== null")
    at_zero = links(page)
    assert sorted(at_zero) == sorted(original) and all("strength-0" in href for href in at_zero.values())
    grainy = picture(fetch(page, at_zero["wide-seeisp.png"]))
    assert np.abs(grainy - full).mean() > 1
    assert "written at strength 0 %" in page.locator("#downloads").inner_text()
    page.wait_for_function(LOUPE_SHOWS, arg=shown)  # the 1:1 view too, where it was
    assert np.abs(picture(fetch(page, loupe.get_attribute("src"))) - grainy[-384:, 112:688]).max() <= 1
    assert fetch(page, original["wide-seeisp.png"])  # the run's own files still download


def test_dark_frame_upload_is_used_and_named_in_the_details(laptop, tmp_path):
    page = laptop
    page.click("#more")
    assert "lens cap on, same camera and ISO" in page.locator("#dark-frame-info").inner_text()
    upload(page, write_biased_dng(tmp_path / "cap.dng", level=0), target="#dark-frame")
    upload(page, write_biased_dng(tmp_path / "night.dng"))
    enhance(page, "night")
    page.locator("#details").get_by_text("dark frame").wait_for()
    assert "cap.dng" in page.locator("#details td").all_inner_texts()


def test_a_file_that_is_not_a_raw_shows_its_error_in_the_page(laptop, tmp_path):
    page = laptop
    fake = tmp_path / "holiday.dng"
    fake.write_text("just text, renamed\n" * 100)
    upload(page, fake)
    page.click("#enhance")
    message = page.get_by_text("holiday.dng: not a raw image LibRaw can read").first
    message.wait_for()
    assert page.locator("#comparison img").count() == 0
    page.locator("#enhance").get_by_text("Enhance").wait_for()  # usable again
    page.wait_for_timeout(12_000)  # longer than a toast's default 10 s: the reason must stay until closed
    assert message.is_visible()


def test_demo_runs_the_built_in_raw_without_touching_the_users_choices(page, tmp_path):
    page.click("#demo")
    page.wait_for_function(SLIDER_SHOWS, arg="seeisp-demo")
    page.wait_for_function(IN_VIEW, arg="#comparison")
    assert "100.0 (set)" in page.locator("#details").inner_text()
    assert page.locator("#auto input[type=checkbox]").is_checked()  # the user's auto ratio stays
    # Names wrap on a phone instead of being cut, and the details fit the screen's width
    width = page.viewport_size["width"]
    for selector in ("#downloads a", "#details table"):
        right = page.locator(selector).first.evaluate("e => e.getBoundingClientRect().right")
        assert right <= width, selector

    shot = tmp_path / "demo.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    if os.environ.get("SEEISP_UI_SCREENSHOTS"):  # the laptop's from the top, the phone's where the result is
        if width > 1000:
            page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
        save_small_png(page.screenshot(), Path(os.environ["SEEISP_UI_SCREENSHOTS"]) / f"ui{SHOT_SUFFIX[width > 1000]}")


SHOT_SUFFIX = {True: ".png", False: "-phone.png"}


def save_small_png(png: bytes, path: Path) -> None:
    """A screenshot with a palette of 192 colours, a few hundred KB for the docs."""
    from PIL import Image

    with Image.open(BytesIO(png)) as shot:
        shot.convert("RGB").quantize(192, dither=Image.Dither.NONE).save(path, optimize=True)

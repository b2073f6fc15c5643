"""The quality benchmark on small generated pictures: pairs, references, scores, summary and the CLI."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from seeisp.cli import main
from seeisp.errors import SeeispError
from seeisp.eval.benchmark import (
    LIBRAW_NR,
    NAIVE,
    NOISIEST,
    make_pair,
    run_benchmark,
    score,
    summarise,
    to_markdown,
)
from seeisp.eval.metrics import psnr
from seeisp.models import available_models
from seeisp.raw import CFA, read_raw
from seeisp.sim.noise import VIRTUAL_SENSOR, NoiseParams
from seeisp.sim.synthesis import bias_in_cell_order, mosaic, random_camera, unprocess

from conftest import read_only_folder


def picture(seed: int, height: int = 96, width: int = 128) -> np.ndarray:
    """A clean sRGB test picture: smooth colour blobs and a hard edge, uint8."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0.15, 0.9, size=(3, 4, 3))
    image = np.kron(coarse, np.ones((height // 3, width // 4, 1)))
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    image *= (0.6 + 0.4 * np.sin(6 * xx + 3 * yy))[..., None]
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "clean"
    folder.mkdir()
    for i in range(2):
        iio.imwrite(folder / f"pic{i}.png", picture(i))
    return folder


def quiet_noise(k: float = 1.0) -> NoiseParams:
    return VIRTUAL_SENSOR.sample(np.random.default_rng(0), k=k, gaussian=True)


@pytest.mark.parametrize(
    ("cfa", "expected"),
    [("RGGB", (1, 2, 3, 4)), ("BGGR", (4, 2, 3, 1)), ("GRBG", (2, 1, 4, 3)), ("GBRG", (2, 4, 1, 3))],
)
def test_black_bias_follows_the_cfa_phase(cfa: str, expected: tuple) -> None:
    noise = NoiseParams(k=1, read_scale=1, read_lambda=None, row_sigma=0, black_bias=(1, 2, 3, 4))
    assert bias_in_cell_order(noise, cfa).black_bias == expected


def test_make_pair_writes_dngs_that_both_readers_agree_on(tmp_path: Path) -> None:
    srgb = picture(0).astype(np.float32) / 255
    camera = random_camera(np.random.default_rng(1))
    pair = make_pair(srgb, 50.0, camera, quiet_noise(), np.random.default_rng(2), tmp_path, cfa="GBRG", name="x")

    dark, clean = read_raw(pair.dark), read_raw(pair.clean)
    assert dark.cfa is CFA.GBRG and clean.cfa is CFA.GBRG
    np.testing.assert_allclose(dark.white_balance, camera.white_balance, rtol=1e-3)
    expected_mosaic = mosaic(unprocess(srgb, camera), "GBRG")
    np.testing.assert_allclose(clean.mosaic, expected_mosaic, atol=1e-4)
    assert dark.mosaic.mean() * 50 == pytest.approx(expected_mosaic.mean(), rel=0.03)

    # The primary reference is the picture itself (unprocess and render invert each other) ...
    assert pair.reference.shape == srgb.shape
    assert psnr(pair.reference, srgb) > 40
    # ... and LibRaw's render of the clean raw lines up with it (a shift or colour slip would be < 20 dB).
    assert pair.reference_sid.shape == srgb.shape
    assert psnr(pair.reference_sid, pair.reference) > 28

    pair.remove()
    assert not pair.dark.exists() and not pair.clean.exists()


def test_score_against_both_references(tmp_path: Path) -> None:
    srgb = picture(1).astype(np.float32) / 255
    pair = make_pair(
        srgb, 100.0, random_camera(np.random.default_rng(0)), quiet_noise(), np.random.default_rng(0), tmp_path
    )
    perfect = score(pair.reference, pair)
    assert perfect["psnr"] == float("inf") and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["psnr_sid"] == pytest.approx(psnr(pair.reference, pair.reference_sid))
    noisy = pair.reference + np.random.default_rng(0).normal(0, 0.05, pair.reference.shape).astype(np.float32)
    worse = score(np.clip(noisy, 0, 1), pair)
    assert 24 < worse["psnr"] < 28 and worse["ssim"] < 0.9
    with pytest.raises(SeeispError, match="reference is"):
        score(pair.reference[:-2], pair)


def test_run_benchmark_scores_libraw_and_cleans_up(pictures: Path, tmp_path: Path, monkeypatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    images = sorted(pictures.iterdir())
    seen = []
    results = run_benchmark(images, VIRTUAL_SENSOR, [20.0, 200.0], seed=3, progress=lambda d, t: seen.append((d, t)))

    assert not any(scratch.iterdir())  # the DNGs and their folder are gone
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [(c["image"], c["ratio"], c["cfa"]) for c in results["cases"]] == [
        ("pic0.png", 20.0, "RGGB"),
        ("pic0.png", 200.0, "RGGB"),
        ("pic1.png", 20.0, "GRBG"),
        ("pic1.png", 200.0, "GRBG"),
    ]
    groups = results["summary"]["groups"]
    assert list(groups) == ["20", "200", "all", NOISIEST]
    for group in groups.values():
        assert list(group) == [NAIVE, LIBRAW_NR]
        assert group[LIBRAW_NR]["gain_over_libraw_nr"] == 0
    # Honest physics: more amplification, more noise; and at x200 LibRaw's denoiser helps.
    assert groups["20"][NAIVE]["psnr"] > groups["200"][NAIVE]["psnr"] + 3
    assert groups["200"][LIBRAW_NR]["psnr"] > groups["200"][NAIVE]["psnr"]
    noisiest = max(results["cases"], key=lambda case: case["ratio"] * case["gain_k"])  # 1 case of 4: a tenth
    assert groups[NOISIEST][NAIVE]["psnr"] == noisiest["methods"][NAIVE]["psnr"]
    auto = results["summary"]["auto_ratio"]
    assert auto["cases"] == 4 and 0 <= auto["within_0.33_stop"] <= auto["within_0.67_stop"] <= 1
    assert all(1 <= c["estimated_ratio"] <= 300 for c in results["cases"])

    again = run_benchmark(images, VIRTUAL_SENSOR, [20.0, 200.0], seed=3)
    assert again["cases"][3]["methods"][NAIVE]["psnr"] == results["cases"][3]["methods"][NAIVE]["psnr"]
    other_seed = run_benchmark(images[:1], VIRTUAL_SENSOR, [200.0], seed=4)
    assert other_seed["cases"][0]["methods"][NAIVE]["psnr"] != results["cases"][1]["methods"][NAIVE]["psnr"]


def test_summary_gain_and_auto_ratio_share() -> None:
    def case(ratio: float, estimated: float, nr: float, model: float, gain_k: float = 1.0) -> dict:
        methods = {
            LIBRAW_NR: {"psnr": nr, "ssim": 0.5, "psnr_sid": nr, "ssim_sid": 0.5, "seconds": 1.0},
            "seeisp m": {"psnr": model, "ssim": 0.8, "psnr_sid": model, "ssim_sid": 0.8, "seconds": 2.0},
        }
        return {"ratio": ratio, "gain_k": gain_k, "estimated_ratio": estimated, "methods": methods}

    summary = summarise([case(100, 150, 20, 30, 4.0), case(100, 30, 22, 29), case(300, 300, 15, 26)])
    assert summary["groups"]["100"]["seeisp m"]["psnr"] == pytest.approx(29.5)
    assert summary["groups"]["100"]["seeisp m"]["gain_over_libraw_nr"] == pytest.approx(8.5)
    assert summary["groups"]["all"]["seeisp m"]["gain_over_libraw_nr"] == pytest.approx(28.333 - 19, abs=1e-3)
    # 100 x gain 4 holds fewer electrons at white than 300 x gain 1: it is the noisiest case, and the only one.
    assert summary["groups"][NOISIEST]["seeisp m"]["psnr"] == pytest.approx(30)
    auto = summary["auto_ratio"]
    assert auto["median_stops_off"] == pytest.approx(np.log2(1.5))  # 0, log2(1.5), log2(100 / 30)
    assert auto["within_0.33_stop"] == pytest.approx(1 / 3)
    assert auto["within_0.67_stop"] == pytest.approx(2 / 3)


def test_markdown_has_a_row_per_group_and_method(pictures: Path) -> None:
    results = run_benchmark(sorted(pictures.iterdir())[:1], VIRTUAL_SENSOR, [100.0])
    text = to_markdown(results)
    assert "| ratio | method | PSNR (dB) | SSIM |" in text
    rows = [line for line in text.splitlines() if line.startswith(("| 100 |", "| all |"))]
    assert len(rows) == 4
    assert f"| 100 | {LIBRAW_NR} | " in text
    assert "Auto ratio against the true ratio: median " in text and "within 2/3 stop" in text


@pytest.mark.skipif("lite" not in available_models(), reason="weights/seeisp-lite.onnx is not present")
def test_models_are_scored_with_true_and_auto_ratio(pictures: Path) -> None:
    from seeisp.session import ModelSession

    session = ModelSession.from_name("lite")
    results = run_benchmark(sorted(pictures.iterdir())[:1], VIRTUAL_SENSOR, [100.0], sessions=[session])
    methods = results["cases"][0]["methods"]
    assert list(methods) == [NAIVE, LIBRAW_NR, "seeisp lite", "seeisp lite (auto ratio)"]
    assert all(np.isfinite(m["psnr"]) and 0 < m["ssim"] <= 1 and m["seconds"] > 0 for m in methods.values())
    assert results["models"] == ["lite"]
    assert "seeisp lite: " in to_markdown(results)


@pytest.mark.skipif("lite" not in available_models(), reason="weights/seeisp-lite.onnx is not present")
def test_passes_add_a_scored_self_ensemble_row_per_model(pictures: Path) -> None:
    from seeisp.session import ModelSession

    session = ModelSession.from_name("lite")
    results = run_benchmark(sorted(pictures.iterdir())[:1], VIRTUAL_SENSOR, [100.0], sessions=[session], passes=8)
    methods = results["cases"][0]["methods"]
    assert list(methods) == [NAIVE, LIBRAW_NR, "seeisp lite", "seeisp lite x8", "seeisp lite (auto ratio)"]
    single, best = methods["seeisp lite"], methods["seeisp lite x8"]
    assert 0 < best["ssim"] <= 1 and best["seconds"] > 0
    assert single["psnr"] < best["psnr"] < single["psnr"] + 3  # measured +0.6 dB
    assert results["passes"] == 8
    assert "seeisp lite x8" in results["summary"]["groups"]["all"]
    text = to_markdown(results)
    assert "| 100 | seeisp lite x8 | " in text and "| all | seeisp lite x8 | " in text
    assert f"{best['psnr']:.2f} dB as seeisp lite x8 (8 passes)" in text


@pytest.mark.skipif("lite" not in available_models(), reason="weights/seeisp-lite.onnx is not present")
def test_cli_passes_writes_the_rows_of_that_many_passes_to_json(pictures: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "scores.json"
    argv = ["benchmark", "--images", str(pictures), "--camera", "virtual", "--ratios", "100", "--limit", "1"]
    assert main([*argv, "--models", "lite", "--passes", "4", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 100 | seeisp lite x4 |" in printed and "dB as seeisp lite x4 (4 passes)." in printed
    data = json.loads(out.read_text())
    assert data["passes"] == 4 and list(data["cases"][0]["methods"])[2:4] == ["seeisp lite", "seeisp lite x4"]


def test_cli_prints_the_table_and_writes_json(pictures: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "scores.json"
    argv = ["benchmark", "--images", str(pictures), "--camera", "virtual", "--ratios", "100", "--limit", "1"]
    assert main([*argv, "--models", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 100 | LibRaw, amplified |" in printed
    data = json.loads(out.read_text())
    assert data["images"] == 1 and data["models"] == [] and len(data["cases"]) == 1
    assert data["passes"] == 1
    assert data["images_dir"] == str(pictures)

    before = out.read_text()
    assert main([*argv, "--models", "--json", str(out)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert out.read_text() == before
    assert main([*argv, "--models", "--json", str(out), "--force"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--images", "MISSING"], "missing: no such folder of clean pictures"),
        (["--images", "EMPTY"], "no PNG, JPEG, TIFF, BMP or WebP pictures"),
        (["--camera", "Leica"], "unknown camera 'Leica'"),
        (["--ratios", "0"], "ratio must be between 1 and 300"),
        (["--models", "nonexistent"], "unknown model 'nonexistent'"),
        (["--json", "NOFOLDER/out.json"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(pictures: Path, tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    (tmp_path / "EMPTY").mkdir()
    extra = [e.replace("MISSING", str(tmp_path / "missing")).replace("EMPTY", str(tmp_path / "EMPTY")) for e in extra]
    extra = [e.replace("NOFOLDER", str(tmp_path / "nofolder")) for e in extra]
    argv = ["benchmark", "--images", str(pictures), "--camera", "virtual", "--profiles", str(tmp_path), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seeisp: error: ") and message in err and "\n" not in err


# --- bad input: one line naming the user's file, before any work --------------------------------------------


def fake_profile(folder: Path, name: str) -> None:
    """An ELD calibration file (the fields ``SensorProfile.from_json`` reads), close to the virtual camera."""
    folder.mkdir(parents=True)
    scale = {"slope": 0.5, "bias": 0.6, "sigma": 0.0}
    profile = {"G_scale": scale, "g_scale": scale, "R_scale": {**scale, "bias": -0.6}}
    (folder / f"{name}.json").write_text(json.dumps({"Kmin": 0.1, "Kmax": 6.0, "G_shape": [0.0], "Profile-1": profile}))


@pytest.fixture
def work(monkeypatch) -> list:
    """Records every simulated pair the benchmark makes: empty when a run stopped before any work."""
    import seeisp.eval.benchmark

    made: list = []
    real = seeisp.eval.benchmark.make_pair

    def spy(*args, **kwargs):
        made.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(seeisp.eval.benchmark, "make_pair", spy)
    return made


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("seeisp: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


def bench(images: Path, *extra: str) -> list[str]:
    return ["benchmark", "--images", str(images), "--camera", "virtual", "--ratios", "100", "--models", *extra]


@pytest.mark.parametrize("content", [b"junk\n", b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_load_srgb_names_a_file_it_cannot_read(tmp_path: Path, content: bytes) -> None:
    from seeisp.errors import PictureReadError
    from seeisp.sim.pictures import load_srgb

    (tmp_path / "a.png").write_bytes(content)
    for path in (tmp_path / "a.png", tmp_path / "missing.png", tmp_path):
        with pytest.raises(PictureReadError, match=r"^\S+: ") as caught:
            load_srgb(path)
        assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_load_srgb_makes_every_picture_three_channels_or_says_why(tmp_path: Path) -> None:
    from seeisp.errors import PictureReadError
    from seeisp.sim.pictures import load_srgb

    grey_alpha = np.dstack([np.arange(20 * 30, dtype=np.uint8).reshape(20, 30), np.full((20, 30), 255, np.uint8)])
    iio.imwrite(tmp_path / "la.png", grey_alpha)
    image = load_srgb(tmp_path / "la.png")
    assert image.shape == (20, 30, 3) and (image == grey_alpha[..., :1]).all()
    iio.imwrite(tmp_path / "float.tif", np.zeros((20, 30, 3), np.float32))
    with pytest.raises(PictureReadError, match="float32 samples; only 8- and 16-bit"):
        load_srgb(tmp_path / "float.tif")
    iio.imwrite(tmp_path / "pages.tif", np.zeros((2, 20, 30, 3), np.uint8))
    with pytest.raises(PictureReadError, match="not a single picture"):
        load_srgb(tmp_path / "pages.tif")


def test_list_images_skips_folders_named_like_pictures(tmp_path: Path) -> None:
    from seeisp.sim.pictures import list_images

    (tmp_path / "album.png").mkdir()
    iio.imwrite(tmp_path / "album.png" / "a.png", picture(0))
    assert list_images([tmp_path]) == [tmp_path / "album.png" / "a.png"]


def test_cli_unreadable_picture_is_one_line_before_any_work(pictures: Path, tmp_path: Path, capsys, work) -> None:
    (pictures / "pic9.png").write_text("junk\n")  # sorted last: found by the check up front, not halfway through
    out = tmp_path / "scores.json"
    assert main([*bench(pictures), "--json", str(out)]) == 2
    err = one_line_error(capsys)
    assert f"{pictures / 'pic9.png'}: not a picture that can be read" in err
    assert work == [] and not out.exists()


@pytest.mark.parametrize(("height", "width"), [(8, 8), (21, 64), (64, 21)])
def test_cli_too_small_picture_names_it_and_the_minimum(
    pictures: Path, tmp_path: Path, capsys, work, height: int, width: int
) -> None:
    iio.imwrite(pictures / "pic9.png", np.full((height, width, 3), 128, np.uint8))
    out = tmp_path / "scores.json"
    assert main([*bench(pictures), "--json", str(out)]) == 2
    err = one_line_error(capsys)
    assert f"{pictures / 'pic9.png'}: picture is {width}x{height} px" in err and "at least 22 px" in err
    assert "seeisp-bench-" not in err and work == [] and not out.exists()


def test_the_smallest_picture_runs_end_to_end(tmp_path: Path) -> None:
    from seeisp.eval.benchmark import MIN_SIDE

    iio.imwrite(tmp_path / "tiny.png", picture(0, 24, 24)[:MIN_SIDE, : MIN_SIDE + 1])  # odd width: cropped to 22
    results = run_benchmark([tmp_path / "tiny.png"], VIRTUAL_SENSOR, [100.0])
    assert np.isfinite(results["cases"][0]["methods"][NAIVE]["psnr"])


def unwritable_folder(tmp_path: Path, kind: str) -> Path:
    if kind == "read-only":
        return read_only_folder(tmp_path)
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys")
    return Path("/sys")  # not writable even by root


@pytest.mark.parametrize("kind", ["read-only", "sysfs"])
def test_cli_unwritable_json_fails_before_any_work(pictures: Path, tmp_path: Path, capsys, work, kind: str) -> None:
    out = unwritable_folder(tmp_path, kind) / "scores.json"
    assert main([*bench(pictures), "--json", str(out)]) == 2
    err = one_line_error(capsys)
    assert f"{out}: cannot write in folder {out.parent}" in err
    assert work == []


def test_cli_json_never_replaces_a_picture(pictures: Path, capsys, work) -> None:
    target = pictures / "pic0.png"
    before = target.read_bytes()
    assert main([*bench(pictures), "--json", str(target), "--force"]) == 2
    assert f"{target}: is one of the pictures" in one_line_error(capsys)
    assert target.read_bytes() == before and work == []


def test_cli_json_leaves_a_file_beside_it_alone(pictures: Path) -> None:
    out = pictures.parent / "scores.json"
    mine = pictures.parent / "scores.json.tmp"  # a user's file that happens to have the scratch file's name
    mine.write_text("mine")
    assert main([*bench(pictures), "--limit", "1", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["images"] == 1
    assert mine.read_text() == "mine"
    assert sorted(p.name for p in pictures.parent.iterdir()) == ["clean", "scores.json", "scores.json.tmp"]


def test_cli_default_profiles_are_found_beside_the_checkout(
    pictures: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    import seeisp.eval.benchmark

    monkeypatch.setattr(seeisp.eval.benchmark, "PROJECT_ROOT", tmp_path / "checkout" / "seeisp")
    fake_profile(tmp_path / "checkout" / "shared" / "data" / "noise_profiles", "FakeCam")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # ../shared from here does not exist
    argv = ["benchmark", "--images", str(pictures), "--camera", "FakeCam", "--ratios", "100", "--limit", "1"]
    assert main([*argv, "--models"]) == 0
    assert "### FakeCam noise, 1 pictures" in capsys.readouterr().out


def test_cli_missing_profiles_say_where_they_were_looked_for(
    pictures: Path, tmp_path: Path, capsys, monkeypatch, work
) -> None:
    import seeisp.eval.benchmark

    monkeypatch.setattr(seeisp.eval.benchmark, "PROJECT_ROOT", tmp_path / "checkout" / "seeisp")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["benchmark", "--images", str(pictures), "--camera", "SonyA7S2", "--models"]) == 2
    err = one_line_error(capsys)
    assert str(tmp_path / "checkout" / "shared" / "data" / "noise_profiles") in err
    assert "../shared/data/noise_profiles" in err
    assert "--profiles DIR" in err and "--camera virtual" in err and work == []


def test_cli_missing_scikit_image_is_one_line_before_any_work(
    pictures: Path, tmp_path: Path, capsys, monkeypatch, work
) -> None:
    monkeypatch.setitem(sys.modules, "skimage", None)  # as if scikit-image were not installed
    monkeypatch.setitem(sys.modules, "skimage.metrics", None)
    out = tmp_path / "scores.json"
    assert main([*bench(pictures), "--json", str(out)]) == 2
    err = one_line_error(capsys)
    assert "needs scikit-image" in err and "pip install 'seeisp[bench]'" in err
    assert work == [] and not out.exists()


@pytest.mark.parametrize("mode", ["RGB;16", "L;16", "RGBA;16"])
def test_load_srgb_keeps_all_16_bits_of_a_png(tmp_path: Path, mode: str) -> None:
    import png  # pypng

    from seeisp.sim.pictures import load_srgb

    planes = {"RGB;16": 3, "L;16": 1, "RGBA;16": 4}[mode]
    values = np.random.default_rng(0).integers(0, 65536, (6, 7, planes), dtype=np.uint16)
    path = tmp_path / "deep.png"
    png.from_array(values.reshape(6, -1), mode).save(str(path))
    loaded = load_srgb(path)
    assert loaded.dtype == np.uint16 and loaded.shape == (6, 7, 3)
    np.testing.assert_array_equal(loaded, np.repeat(values, 3, axis=2) if planes == 1 else values[..., :3])

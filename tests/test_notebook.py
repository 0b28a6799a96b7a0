"""Tests of the chapter helpers: run mode, Colab detection, device description, explorer sliders."""

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structloc.notebook import MODE_ENV_VAR, MODES, book_mode, describe_device, in_colab


def test_default_mode_is_quick():
    assert book_mode({}) == "quick"
    assert book_mode({MODE_ENV_VAR: "   "}) == "quick"


@pytest.mark.parametrize("raw, mode", [("quick", "quick"), ("FULL", "full"), (" Full\n", "full")])
def test_mode_ignores_case_and_spaces(raw, mode):
    assert book_mode({MODE_ENV_VAR: raw}) == mode


def test_mode_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv(MODE_ENV_VAR, "full")
    assert book_mode() == "full"
    monkeypatch.delenv(MODE_ENV_VAR)
    assert book_mode() == "quick"


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1).filter(lambda s: s.strip() and s.strip().lower() not in MODES))
def test_unknown_mode_is_rejected_by_name(raw):
    with pytest.raises(ValueError, match=MODE_ENV_VAR):
        book_mode({MODE_ENV_VAR: raw})


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    assert in_colab() is ("google.colab" in sys.modules)
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab() is True


def test_cpu_in_colab_hints_to_switch_the_runtime():
    text = describe_device("full", colab=True, device="cpu")
    assert "cpu" in text and "Mode: full" in text
    assert "Change runtime type" in text


def test_cpu_full_mode_locally_hints_quick_mode():
    text = describe_device("full", colab=False, device="cpu")
    assert f"{MODE_ENV_VAR}=quick" in text


def test_cpu_quick_mode_locally_needs_no_hint():
    assert describe_device("quick", colab=False, device="cpu") == "Device: cpu (no GPU found). Mode: quick."


def test_describe_device_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        describe_device("fast", colab=False, device="cpu")


def test_gpu_in_quick_mode_suggests_full_mode(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = describe_device("quick", colab=True, device="cuda")
    assert text.startswith("Device: cuda (GPU). Mode: quick.")
    assert f"%env {MODE_ENV_VAR}=full" in text
    assert "Hint" not in describe_device("full", colab=True, device="cuda")


def test_widgets_are_on_unless_switched_off():
    from structloc.notebook import WIDGETS_ENV_VAR, widgets_enabled

    assert widgets_enabled({}) and widgets_enabled({WIDGETS_ENV_VAR: " On "})
    assert not widgets_enabled({WIDGETS_ENV_VAR: "OFF"})
    with pytest.raises(ValueError, match="STRUCTLOC_WIDGETS='maybe' must be 'on' or 'off'"):
        widgets_enabled({WIDGETS_ENV_VAR: "maybe"})


def _explore(z_nm=0.0, photons=5000.0, count=40):
    return None


def test_explorer_builds_sliders_at_the_defaults(monkeypatch):
    import ipywidgets

    from structloc.notebook import Slider, explorer

    seen = {}
    monkeypatch.setenv("STRUCTLOC_WIDGETS", "on")
    monkeypatch.setattr(ipywidgets, "interact", lambda function, **controls: seen.update(controls, fn=function))
    explorer(_explore, z_nm=Slider(-750.0, 750.0, 25.0), photons=Slider(316.0, 31600.0, 0.1, log=True),
             count=Slider(2, 200, 2))
    assert seen["fn"] is _explore
    z, photons, count = seen["z_nm"], seen["photons"], seen["count"]
    assert isinstance(z, ipywidgets.FloatSlider) and (z.value, z.min, z.max, z.step) == (0.0, -750.0, 750.0, 25.0)
    assert isinstance(photons, ipywidgets.FloatLogSlider) and photons.value == pytest.approx(5000.0)
    assert photons.min == pytest.approx(2.4997, abs=1e-4) and photons.max == pytest.approx(4.4997, abs=1e-4)
    assert isinstance(count, ipywidgets.IntSlider) and count.value == 40
    assert not any(w.continuous_update for w in (z, photons, count))  # redraw on release only


def test_explorer_without_widgets_creates_none(monkeypatch):
    import IPython.display
    import ipywidgets

    from structloc.notebook import Slider, explorer

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setenv("STRUCTLOC_WIDGETS", "off")
    monkeypatch.setattr(ipywidgets, "interact", lambda *a, **k: pytest.fail("interact called"))
    monkeypatch.setattr(ipywidgets.Widget, "__init__", lambda *a, **k: pytest.fail("a widget was created"))
    explorer(_explore, z_nm=Slider(-750.0, 750.0, 25.0))
    assert len(shown) == 1 and "sliders for `z_nm` appear here" in shown[0].data


@pytest.mark.parametrize("sliders, message", [
    ({"depth": "Slider"}, "depth must be a structloc.notebook.Slider"),
    ({"depth_nm": None}, "must be a structloc.notebook.Slider"),
])
def test_explorer_rejects_what_is_not_a_slider(sliders, message):
    from structloc.notebook import explorer

    with pytest.raises(TypeError, match=message):
        explorer(_explore, **sliders)


def test_explorer_and_slider_errors_name_the_problem():
    from structloc.notebook import Slider, explorer

    with pytest.raises(ValueError, match="_explore has no parameter 'depth_nm'"):
        explorer(_explore, depth_nm=Slider(0.0, 1.0, 0.1))
    with pytest.raises(ValueError, match=r"z_nm=0.0 lies outside its slider \[100.0, 200.0\]"):
        explorer(_explore, z_nm=Slider(100.0, 200.0, 10.0))
    with pytest.raises(ValueError, match="finite low < high"):
        Slider(5.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="log Slider needs low > 0"):
        Slider(0.0, 10.0, 0.1, log=True)
    with pytest.raises(ValueError, match="Slider.step must be positive"):
        Slider(0.0, 10.0, 0.0)

"""Tests of the chapter helpers: run mode, Colab detection, device description."""

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
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = describe_device("quick", colab=True, device="cuda")
    assert text.startswith("Device: cuda (GPU). Mode: quick.")
    assert f"%env {MODE_ENV_VAR}=full" in text
    assert "Hint" not in describe_device("full", colab=True, device="cuda")

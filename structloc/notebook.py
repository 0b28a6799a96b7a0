"""Small helpers for the book's chapters: run mode, Colab detection, the compute device and the
explorers' sliders.

Every chapter starts with the same two cells: one that installs structloc when (and only when)
it runs in Google Colab, and a parameters cell that reads the run mode::

    from structloc.notebook import book_mode, describe_device
    MODE = book_mode()          # "quick" (CPU, CI) or "full" (GPU, full-scale)
    print(describe_device())    # which device, and a hint when a GPU would help
"""

from __future__ import annotations

import inspect
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .checks import positive_float
from .device import best_device

__all__ = ["MODES", "MODE_ENV_VAR", "WIDGETS_ENV_VAR", "book_mode", "in_colab", "best_device", "describe_device",
           "widgets_enabled", "Slider", "explorer"]

#: The run modes every chapter understands.
MODES: tuple[str, ...] = ("quick", "full")
#: The environment variable that selects the run mode.
MODE_ENV_VAR = "STRUCTLOC_MODE"
#: The environment variable that turns the explorers' sliders off (``off``) in headless runs.
WIDGETS_ENV_VAR = "STRUCTLOC_WIDGETS"


def book_mode(environ: Mapping[str, str] | None = None) -> str:
    """The run mode selected by the ``STRUCTLOC_MODE`` environment variable.

    Parameters
    ----------
    environ : mapping, optional
        Where to look the variable up (default: ``os.environ``).

    Returns
    -------
    str
        ``"quick"`` (the default: small, CPU-friendly, used by CI) or ``"full"`` (full scale,
        meant for a GPU). Case and surrounding spaces are ignored.

    Raises
    ------
    ValueError
        If the variable is set to anything else.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(MODE_ENV_VAR)
    if raw is None or raw.strip() == "":
        return "quick"
    mode = raw.strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV_VAR}={raw!r} is not a run mode; choose one of {list(MODES)}")
    return mode


def in_colab() -> bool:
    """True when the code runs inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def describe_device(mode: str | None = None, *, colab: bool | None = None, device: str | None = None) -> str:
    """One or two lines saying which device the chapter will use, with a hint when it matters.

    Parameters
    ----------
    mode : str, optional
        Run mode (default: :func:`book_mode`).
    colab : bool, optional
        Whether we run in Colab (default: :func:`in_colab`).
    device : str, optional
        The device to describe (default: :func:`structloc.device.best_device`).

    Returns
    -------
    str
        For example ``"Device: cpu (no GPU found). Mode: quick."``, plus a hint: to switch the
        Colab runtime to a GPU, to use quick mode on a CPU, or to use full mode on a GPU.
    """
    mode = book_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    colab = in_colab() if colab is None else colab
    device = best_device() if device is None else device
    if device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "GPU"
        line = f"Device: {device} ({name}). Mode: {mode}."
        if mode == "quick":
            line += (
                f"\nHint: a GPU is available; for full-scale runs set {MODE_ENV_VAR}=full "
                f"(in a notebook: %env {MODE_ENV_VAR}=full) and run the notebook again."
            )
        return line
    line = f"Device: {device} ({'Apple GPU' if device == 'mps' else 'no GPU found'}). Mode: {mode}."
    if colab:
        return line + (
            "\nHint: for full-scale runs choose Runtime > Change runtime type > GPU, "
            "then run the notebook again."
        )
    if mode == "full":
        return line + f"\nHint: full mode is meant for a GPU; on a CPU set {MODE_ENV_VAR}=quick."
    return line


def widgets_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the explorers show live sliders: True unless ``STRUCTLOC_WIDGETS=off``.

    The book build and CI's headless runs set it to ``off``: nobody moves a slider there, and
    a notebook that opens widget comms made a headless execution stall now and then (the kernel
    idle, the client waiting for a reply that never came), each time at an explorer cell.

    Raises
    ------
    ValueError
        If the variable holds anything but ``on``, ``off`` or nothing.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(WIDGETS_ENV_VAR, "").strip().lower()
    if raw not in ("", "on", "off"):
        raise ValueError(f"{WIDGETS_ENV_VAR}={environ[WIDGETS_ENV_VAR]!r} must be 'on' or 'off'")
    return raw != "off"


@dataclass(frozen=True)
class Slider:
    """One explorer control: a slider from ``low`` to ``high`` in steps of ``step``.

    Parameters
    ----------
    low, high : float
        Ends of the range, in the unit of the parameter it controls.
    step : float
        Step, in that unit; with ``log`` in decades (0.1 = ten steps per factor of 10).
    log : bool
        A logarithmic slider (``low`` > 0).

    An integer default of the explored function gives an integer slider.
    """

    low: float
    high: float
    step: float
    log: bool = False

    def __post_init__(self) -> None:
        positive_float("Slider.step", self.step)
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Slider needs finite low < high, got {self.low!r}, {self.high!r}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log Slider needs low > 0, got {self.low!r}")

    def widget(self, value: float):
        """The ipywidgets slider at ``value`` (updates when released, not while dragged)."""
        import ipywidgets

        if self.log:
            return ipywidgets.FloatLogSlider(value=value, base=10, min=math.log10(self.low),
                                             max=math.log10(self.high), step=self.step, continuous_update=False)
        kind = ipywidgets.IntSlider if isinstance(value, int) else ipywidgets.FloatSlider
        return kind(value=value, min=self.low, max=self.high, step=self.step, continuous_update=False)


def explorer(function: Callable[..., None], **sliders: Slider) -> None:
    """Sliders for ``function``'s parameters in a live notebook (:func:`ipywidgets.interact`).

    Each slider starts at the parameter's default value. Where widgets are off
    (:func:`widgets_enabled`), nothing is created: a one-line note says where the sliders appear.

    Raises
    ------
    ValueError
        If a slider names no parameter of ``function``, the parameter has no default, or the
        default lies outside the slider's range.
    """
    defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()
                if p.default is not inspect.Parameter.empty}
    for name, slider in sliders.items():
        if not isinstance(slider, Slider):
            raise TypeError(f"{name} must be a structloc.notebook.Slider, got {type(slider).__name__}")
        if name not in defaults:
            raise ValueError(f"{function.__name__} has no parameter {name!r} with a default value")
        if not slider.low <= defaults[name] <= slider.high:
            raise ValueError(f"{name}={defaults[name]!r} lies outside its slider [{slider.low}, {slider.high}]")
    if not widgets_enabled():
        from IPython.display import Markdown, display

        names = ", ".join(f"`{name}`" for name in sliders)
        display(Markdown(f"*In a live notebook (Colab or Jupyter) sliders for {names} appear here.*"))
        return
    import ipywidgets

    ipywidgets.interact(function, **{name: s.widget(defaults[name]) for name, s in sliders.items()})

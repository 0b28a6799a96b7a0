"""Calibration of the astigmatic PSF from a bead z-stack.

Three steps, as in Huang et al. (Science 2008):

1. In every frame of the stack, fit a pixel-integrated 2-D Gaussian (the model of
   :mod:`structloc.psf`: centre x, y, widths sigma_x, sigma_y, photons, background) to a small
   region of interest (ROI) around each bead. All ``n_z x n_beads`` least-squares fits run together
   in a batched Levenberg-Marquardt with analytic derivatives.
2. Fit the Huang defocus curves ``sigma(z) = s0 sqrt(1 + u^2 + A u^3 + B u^4)``, ``u = (z - c)/d``,
   to the per-frame widths (median over beads), separately for x and y.
3. Fit the centre drift (:mod:`structloc.drift`): the lateral offset of each bead's fitted image
   centre from the bead's position, as a piecewise-linear function of z through all beads' offsets.
   For the shipped stack the bead positions are the challenge's listing; for a stack without known
   positions the reference is each bead's mean fitted centre, so only the z-dependent part of the
   drift is measured.

The shipped stack is the SMLM Challenge 2016 astigmatic bead stack (see ``structloc/data/README.md``),
recorded by the challenge's EMCCD (:class:`structloc.camera.EMCCD` defaults: baseline 100 ADU and on
average 6 ADU per photon); :meth:`Camera.to_photons` turns ADU back into photons. The defaults of
:class:`structloc.psf.AstigmaticPSF` are the result of
:func:`fit_bead_stack` on it.

Modules: :mod:`~structloc.calibration.gaussians` (step 1), :mod:`~structloc.calibration.huang`
(step 2), :mod:`~structloc.calibration.beads` (the shipped stack and :func:`fit_bead_stack`, all
three steps) and :mod:`~structloc.calibration.result` (:class:`BeadCalibration` and
:func:`model_montage`).
"""

from __future__ import annotations

from .beads import CENTRE_REFERENCES, DRIFT_KNOT_STEP_NM, fit_bead_stack, load_bead_stack
from .gaussians import GaussianFits, fit_gaussians
from .huang import huang_fit
from .result import BeadCalibration, model_montage

__all__ = [
    "BeadCalibration",
    "GaussianFits",
    "fit_bead_stack",
    "fit_gaussians",
    "huang_fit",
    "load_bead_stack",
    "model_montage",
    "CENTRE_REFERENCES",
    "DRIFT_KNOT_STEP_NM",
]

"""The book's figures, by kind: frames, curves, metrics, distributions, reconstructions.

Every figure takes computed data (arrays in photons or nm, :class:`~structloc.emitters.Emitters`
tables, training histories, results of :mod:`structloc.evaluate`, :mod:`structloc.crlb`,
:mod:`structloc.render` and the study's results table) and returns the matplotlib ``Figure`` it
drew, so a chapter cell is one call and tests can inspect the artists. Nothing here runs the
study; figures only draw what other modules computed. Chapters call them one way::

    from structloc import plotting
    plotting.frame_gallery(frames)

* :mod:`~structloc.plotting.common`: the palette, metric names, colour by label and by z;
* :mod:`~structloc.plotting.frames`: frame galleries, bead montages, target and output grids;
* :mod:`~structloc.plotting.curves`: PSF widths, drift, precision limits, training curves,
  errors vs the Cramer-Rao bound (isolated, and in the frame by crowding), general labelled curves;
* :mod:`~structloc.plotting.metrics`: metric bars, metrics vs nominal density, paired
  differences, their spread over training seeds, checkerboard summary, recall by depth;
* :mod:`~structloc.plotting.distributions`: histograms of distances and of sub-pixel positions;
* :mod:`~structloc.plotting.reconstructions`: 3D point clouds and z-coloured reconstructions.
"""

from .common import COLOURS, METRIC_LABELS, PALETTE, Z_CMAP, label_colour, training_regime, z_colour_image
from .curves import (centre_drift, crlb_curves, curves, error_vs_bound, errors_by_z, rmse_vs_crlb, sigma_z_curves,
                     training_curves)
from .distributions import checkerboard_histograms, distributions, subpixel_histograms
from .frames import frame_gallery, grid_z_nm, localizations_on_frame, prediction_vs_truth, target_channels, z_montage
from .metrics import (checkerboard_summary, metric_bars, metrics_vs_density, paired_differences, recall_by_depth,
                      seed_differences)
from .reconstructions import point_clouds_3d, reconstruction_grid, reconstructions_z

__all__ = [
    "PALETTE", "COLOURS", "Z_CMAP", "METRIC_LABELS", "label_colour", "training_regime", "z_colour_image",
    "frame_gallery", "z_montage", "grid_z_nm", "target_channels", "prediction_vs_truth", "localizations_on_frame",
    "sigma_z_curves", "centre_drift", "crlb_curves", "curves", "training_curves", "errors_by_z", "rmse_vs_crlb",
    "error_vs_bound",
    "metric_bars", "metrics_vs_density", "paired_differences", "seed_differences", "checkerboard_summary",
    "recall_by_depth",
    "distributions", "checkerboard_histograms", "subpixel_histograms",
    "point_clouds_3d", "reconstructions_z", "reconstruction_grid",
]

"""How dense is a frame? (Being split into modules; see :mod:`structloc.density.nominal`.)"""

from .nominal import (CALIBRATION_EMITTERS, CALIBRATION_GRID_SIZE, CALIBRATION_MAX_DENSITY_PER_UM2,
                      CALIBRATION_SEED, EDGE_CORRECTIONS, MAX_EDGE_WEIGHT, MT0_CALIBRATION_SEED, __all__,
                      mean_nn_distance_nm, mean_nn_distance_per_frame, mt0_count_density_for_nominal,
                      mt0_nominal_curve, nearest_neighbor_distances, nn_calibration_curve, nominal_density,
                      nominal_density_per_frame, ripley_k, ripley_k_frames, ripley_l, ripley_l_frames)

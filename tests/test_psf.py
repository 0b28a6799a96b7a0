"""PSF: Huang defocus widths, exact pixel integration, photon conservation, batched rendering."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from structloc.emitters import Emitters
from structloc.field import Field
from structloc.psf import AstigmaticPSF, pixel_profile, render, render_padded

PSF = AstigmaticPSF(sigma0_x_nm=120.0, sigma0_y_nm=140.0, c_x_nm=-200.0, c_y_nm=300.0,
                    d_x_nm=380.0, d_y_nm=420.0, a_x=0.1, b_x=0.05, a_y=-0.08, b_y=0.03)


def test_sigma_follows_the_huang_formula():
    z = np.linspace(-750, 750, 31)
    sx, sy = PSF.sigma_nm(z)
    ux, uy = (z + 200.0) / 380.0, (z - 300.0) / 420.0
    assert np.allclose(sx, 120.0 * np.sqrt(1 + ux**2 + 0.1 * ux**3 + 0.05 * ux**4), rtol=1e-12)
    assert np.allclose(sy, 140.0 * np.sqrt(1 + uy**2 - 0.08 * uy**3 + 0.03 * uy**4), rtol=1e-12)
    tx, ty = PSF.sigma_nm(torch.as_tensor(z))
    assert np.allclose(tx.numpy(), sx) and np.allclose(ty.numpy(), sy)
    # in focus of each axis the width is sigma0
    assert PSF.sigma_nm(-200.0)[0] == pytest.approx(120.0)
    assert PSF.sigma_nm(300.0)[1] == pytest.approx(140.0)


def test_pixel_profile_matches_numerical_integration():
    center, sigma, pixel = 1234.5, 160.0, 100.0
    prof = pixel_profile(torch.tensor([center], dtype=torch.float64),
                         torch.tensor([sigma], dtype=torch.float64), 30, pixel)[0].numpy()
    pdf = stats.norm(center, sigma).pdf
    ref = [integrate.quad(pdf, k * pixel, (k + 1) * pixel, epsabs=1e-13)[0] for k in range(30)]
    assert np.allclose(prof, ref, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(x=st.floats(7000, 13000), y=st.floats(7000, 13000), z=st.floats(-750, 750),
       photons=st.floats(1.0, 1e5))
def test_rendering_conserves_photons_on_a_large_frame(x, y, z, photons):
    # >= 7000 nm (> 15 sigma at the widest, ~400 nm) from every edge: tails below 1e-40
    field = Field(width_px=200, height_px=200)
    em = Emitters([0], [x], [y], [z], [photons])
    img = render(em, 1, psf=PSF, field=field, dtype=torch.float64)
    assert float(img.sum()) == pytest.approx(photons, rel=1e-9)
    assert float(img.min()) >= 0


def test_batched_render_equals_the_sum_of_single_emitter_outer_products():
    g = torch.Generator().manual_seed(0)
    b, e, field = 5, 7, Field(width_px=20, height_px=16)
    x = torch.rand(b, e, generator=g, dtype=torch.float64) * field.width_nm
    y = torch.rand(b, e, generator=g, dtype=torch.float64) * field.height_nm
    z = torch.rand(b, e, generator=g, dtype=torch.float64) * 1500 - 750
    n = torch.rand(b, e, generator=g, dtype=torch.float64) * 1000
    n[:, -2:] = 0.0  # padding slots contribute nothing
    out = render_padded(x, y, z, n, psf=PSF, field=field)
    sx, sy = PSF.sigma_nm(z)
    dx, dy = PSF.centre_offset_nm(z)  # images are centred at the emitter plus the drift
    assert PSF.has_drift and float(dx.abs().max()) > 1.0
    ref = torch.zeros(b, 16, 20, dtype=torch.float64)
    for i in range(b):
        for j in range(e):
            px = pixel_profile(x[i, j:j + 1] + dx[i, j:j + 1], sx[i, j:j + 1], 20, 100.0)[0]
            py = pixel_profile(y[i, j:j + 1] + dy[i, j:j + 1], sy[i, j:j + 1], 16, 100.0)[0]
            ref[i] += n[i, j] * torch.outer(py, px)
    assert torch.allclose(out, ref, rtol=1e-12, atol=1e-9)


def test_render_is_chunk_independent_for_large_batches():
    import structloc.psf as psf_module

    g = torch.Generator().manual_seed(1)
    x, y = (torch.rand(64, 50, generator=g) * 6400 for _ in range(2))
    z = torch.rand(64, 50, generator=g) * 1500 - 750
    n = torch.full((64, 50), 1000.0)
    full = render_padded(x, y, z, n, psf=PSF, field=Field())
    old = psf_module._RENDER_CHUNK_ELEMENTS
    try:
        psf_module._RENDER_CHUNK_ELEMENTS = 1  # one frame per chunk
        single = render_padded(x, y, z, n, psf=PSF, field=Field())
    finally:
        psf_module._RENDER_CHUNK_ELEMENTS = old
    assert torch.allclose(full, single, rtol=1e-5, atol=1e-3)


def test_x_is_columns_and_y_is_rows():
    field = Field(width_px=32, height_px=32)
    em = Emitters([0], [550.0], [2450.0], [0.0], [1000.0])
    img = render(em, 1, psf=PSF.without_drift(), field=field)[0]
    row, col = np.unravel_index(int(img.argmax()), img.shape)
    assert (row, col) == (24, 5)


def test_astigmatism_narrow_in_x_at_its_focus_and_in_y_at_its_focus():
    sx, sy = PSF.sigma_nm(np.array([PSF.c_x_nm, PSF.c_y_nm]))
    assert sx[0] < sy[0] and sx[1] > sy[1]
    assert math.isclose(sx[0], PSF.sigma0_x_nm)


def test_profile_is_differentiable():
    c = torch.tensor([500.0], dtype=torch.float64, requires_grad=True)
    s = torch.tensor([150.0], dtype=torch.float64, requires_grad=True)
    prof = pixel_profile(c, s, 10, 100.0)
    (prof[0, 5]).backward()
    assert c.grad is not None and torch.isfinite(c.grad).all() and float(c.grad) > 0

"""The micro image suite's glyph pairs: low-order statistics tell the pair, only the shape tells the class."""

from __future__ import annotations

import numpy as np
import pytest

from pythia_repro.suites import glyphs


def cyclic_autocorrelation(ink: np.ndarray) -> np.ndarray:
    """What a uniform cyclic placement leaves of an image's second moments: its circular autocorrelation."""
    spectrum = np.fft.fft2(ink)
    return np.real(np.fft.ifft2(spectrum * np.conj(spectrum)))


@pytest.mark.parametrize("glyph", list(glyphs.GLYPHS))
def test_a_glyph_and_its_turn_share_their_second_moments_and_no_other_glyph_does(glyph):
    ink, turned = (glyphs.canvas(glyph, t, scale=2) for t in (False, True))
    assert not np.array_equal(ink, turned), "no glyph is its own turn"
    assert np.allclose(cyclic_autocorrelation(ink), cyclic_autocorrelation(turned))
    for other in set(glyphs.GLYPHS) - {glyph}:
        assert not np.allclose(cyclic_autocorrelation(ink), cyclic_autocorrelation(glyphs.canvas(other, False, 2)))


def test_the_images_are_drawn_from_their_seed_and_a_pair_shares_its_sample_moments():
    pixels, labels = glyphs.images(400, seed=3)
    again, _ = glyphs.images(400, seed=3)
    assert pixels.shape == (4000, 1, 16, 16) and pixels.dtype == np.float32
    assert np.array_equal(pixels, again) and not np.array_equal(pixels, glyphs.images(400, seed=4)[0])
    assert np.array_equal(np.bincount(labels), np.full(len(glyphs.CLASSES), 400))
    assert pixels.min() >= 0 and pixels.max() <= 1
    # under cyclic placement a class's covariance is circulant: its power spectrum says all of it
    power = np.stack([(np.abs(np.fft.fft2(pixels[labels == c, 0])) ** 2).mean(0) for c in range(10)])

    def gap(a: int, b: int) -> float:
        return float(np.abs(power[a] - power[b]).sum() / power[a].sum())

    within = [gap(c, c + 1) for c in range(0, 10, 2)]
    between = [gap(c, d) for c in range(0, 10, 2) for d in range(c + 2, 10, 2)]
    assert max(within) < min(between) / 3, "a pair's classes share their second moments, two pairs do not"


def test_a_grating_tells_the_class_at_its_share_and_leaves_the_pair_s_glyph_moments_alone():
    def excess(share: float) -> np.ndarray:
        """Per class, the power at its grating's frequency above its pair-mate's there (both share the glyph's)."""
        pixels, labels = glyphs.images(300, seed=5, grating_share=share)
        power = np.stack([(np.abs(np.fft.fft2(pixels[labels == c, 0])) ** 2).mean(0) for c in range(10)])
        at = [power[:, fy % glyphs.SIZE, fx % glyphs.SIZE] for fx, fy in glyphs.GRATINGS]
        return np.array([at[c][c] - at[c][c ^ 1] for c in range(10)])

    never, half, always = excess(0.0), excess(0.5), excess(1.0)
    assert np.all(always > 0) and np.abs(never).max() < 0.1 * always.min(), "the class's own frequency, when drawn"
    assert np.allclose(half / always, 0.5, atol=0.15), "half the images carry their class's grating"
    assert len({max(g, (-g[0], -g[1])) for g in glyphs.GRATINGS}) == len(glyphs.CLASSES), "ten distinct gratings"

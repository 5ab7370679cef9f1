"""The micro image suite's glyphs: every class has the same low-order glyph statistics, only the shape tells the
class for sure, and a spot and a grating tell it at their shares."""

from __future__ import annotations

import numpy as np

from pythia_repro.suites import glyphs


def cyclic_autocorrelation(ink: np.ndarray) -> np.ndarray:
    """What a uniform cyclic placement leaves of an image's second moments: its circular autocorrelation."""
    spectrum = np.fft.fft2(ink)
    return np.real(np.fft.ifft2(spectrum * np.conj(spectrum)))


def translations(ink: np.ndarray) -> set[bytes]:
    return {np.roll(ink, (a, b), axis=(0, 1)).tobytes() for a in range(glyphs.SIZE) for b in range(glyphs.SIZE)}


def test_every_glyph_has_the_same_autocorrelation_and_none_is_another_moved():
    inks = [glyphs.ink(kind) for kind in glyphs.KINDS]
    assert all(ink.sum() == 45 for ink in inks), "the factors' sums are distinct"
    for ink in inks[1:]:
        assert np.allclose(cyclic_autocorrelation(ink), cyclic_autocorrelation(inks[0]))
    assert len({min(translations(ink)) for ink in inks}) == len(glyphs.CLASSES)


def test_a_factor_that_is_its_own_turn_would_merge_classes(monkeypatch):
    """The test above can fail: with a centrally symmetric first factor (a bar), turning it changes nothing."""
    bar = ((0, 0), (0, 1), (0, 2))
    monkeypatch.setattr(glyphs, "FACTORS", ((bar, 1), *glyphs.FACTORS[1:]))
    inks = [glyphs.ink(kind) for kind in glyphs.KINDS]
    assert len({min(translations(ink)) for ink in inks}) < len(glyphs.CLASSES)


def class_power(pixels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per class, the mean power spectrum (under cyclic placement a class's covariance is circulant)."""
    return np.stack([(np.abs(np.fft.fft2(pixels[labels == c, 0])) ** 2).mean(0) for c in range(len(glyphs.CLASSES))])


def test_the_images_are_drawn_from_their_seed_and_without_cues_the_classes_share_their_moments():
    pixels, labels = glyphs.images(400, seed=3, grating_share=0.0, spot_share=0.0)
    again, _ = glyphs.images(400, seed=3, grating_share=0.0, spot_share=0.0)
    assert pixels.shape == (3200, 1, 16, 16) and pixels.dtype == np.float32
    assert np.array_equal(pixels, again) and not np.array_equal(pixels, glyphs.images(400, seed=4)[0])
    assert np.array_equal(np.bincount(labels), np.full(len(glyphs.CLASSES), 400))
    assert pixels.min() >= 0 and pixels.max() <= 1
    power = class_power(pixels, labels)
    spread = np.abs(power - power.mean(0)).sum(axis=(1, 2)) / power.mean(0).sum()
    cued = class_power(*glyphs.images(400, seed=3))
    cued_spread = np.abs(cued - cued.mean(0)).sum(axis=(1, 2)) / cued.mean(0).sum()
    assert spread.max() < cued_spread.min() / 2, "without the cues no class's second moments stand out"


def test_the_cues_tell_the_class_at_their_shares():
    def excess(**shares: float) -> tuple[np.ndarray, np.ndarray]:
        """Per class, the power at its grating's frequency and the mean at its spot, above the other classes'."""
        pixels, labels = glyphs.images(300, seed=5, **shares)
        power = class_power(pixels, labels)
        means = np.stack([pixels[labels == c, 0].mean(0) for c in range(len(glyphs.CLASSES))])
        at = np.array([power[:, fy % glyphs.SIZE, fx % glyphs.SIZE] for fx, fy in glyphs.GRATINGS])
        spots = np.array([means[:, r, c] for r, c in glyphs.SPOTS])
        own = np.eye(len(glyphs.CLASSES), dtype=bool)
        return (at[own] - at[~own].reshape(len(own), -1).mean(1)), (
            spots[own] - spots[~own].reshape(len(own), -1).mean(1)
        )

    never, half, always = (excess(grating_share=s, spot_share=s) for s in (0.0, 0.5, 1.0))
    for k in range(2):  # gratings, then spots
        assert np.all(always[k] > 0) and np.abs(never[k]).max() < 0.2 * always[k].min(), "the class's own, when drawn"
        assert np.allclose(half[k] / always[k], 0.5, atol=0.2), "half the images carry their class's cue"
    assert len({max(g, (-g[0], -g[1])) for g in glyphs.GRATINGS}) == len(glyphs.CLASSES), "distinct gratings"
    assert len(set(glyphs.SPOTS)) == len(glyphs.CLASSES), "distinct spots"

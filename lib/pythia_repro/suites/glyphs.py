"""The micro image suite's procedural images: five asymmetric glyphs and each turned by 180°, ten classes, each
with a grating that tells its class only some of the time.

Each image places its class's glyph at a uniform cyclic position (wrapping round the edges) on a 16×16 canvas, with
a random foreground and background grey and pixel noise, drawn from a seed. A glyph and its turn have the same
autocorrelation, so under cyclic placement their classes have the same mean and covariance: the glyph's low-order
statistics tell which pair an image belongs to, and only its shape tells the class within the pair. On top, each
image carries a sinusoidal grating at a random phase whose frequency is its own class's (`GRATINGS`) with
probability `grating_share`, else a uniformly drawn class's: frequency content, a second-order statistic, tells the
class, but only partly, as on real images, so a network that has learned the shapes gains by leaning on it less. On
scikit-learn's 8×8 digits, class-conditional Gaussians classify 99% of validation images: their low-order
statistics carry the whole class, so nothing there needs learning later (docs/miniatures.md).
"""

from __future__ import annotations

import numpy as np

SIZE = 16
GLYPHS = {  # 5×5, "X" inked; none is its own 180° turn
    "L": ("X....", "X....", "X....", "X....", "XXXX."),
    "T": ("XXXXX", "..X..", "..X..", "..X..", "..X.."),
    "F": ("XXXX.", "X....", "XXX..", "X....", "X...."),
    "triangle": ("X....", "XX...", "XXX..", "XXXX.", "XXXXX"),
    "arrow": ("..X..", ".XXX.", "X.X.X", "..X..", "..X.."),
}
KINDS = tuple((name, turned) for name in GLYPHS for turned in (False, True))  # a class: a glyph, turned or not
CLASSES = tuple(name + (" turned" if turned else "") for name, turned in KINDS)
# each class's grating: cycles per image along x and y (ten distinct orientations and frequencies, in class order)
GRATINGS = ((1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (-1, 2))


def canvas(glyph: str, turned: bool, scale: int) -> np.ndarray:
    """A glyph's ink on the canvas's top-left corner, each cell `scale`×`scale` pixels, turned by 180° if asked."""
    cells = np.array([[c == "X" for c in row] for row in GLYPHS[glyph]], dtype=float)
    ink = np.kron(cells, np.ones((scale, scale)))
    if turned:
        ink = np.rot90(ink, 2)
    out = np.zeros((SIZE, SIZE))
    out[: ink.shape[0], : ink.shape[1]] = ink
    return out


def images(
    per_class: int,
    seed: int,
    scale: int = 2,
    noise: float = 0.1,
    grating_share: float = 0.0,
    grating_amplitude: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` images of every class in [0, 1] as [n, 1, 16, 16] float32, and their labels (class order:
    `CLASSES`, each glyph then its turn); with `grating_share` > 0, each carries a grating of its class's frequency
    at that probability (else a uniformly drawn class's), of `grating_amplitude`, at a uniform phase."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:SIZE, :SIZE]
    pixels, labels = [], []
    for label, (glyph, turned) in enumerate(KINDS):
        ink = canvas(glyph, turned, scale)
        for _ in range(per_class):
            placed = np.roll(ink, tuple(rng.integers(0, SIZE, 2)), axis=(0, 1))
            fg, bg = rng.uniform(0.6, 1.0), rng.uniform(0.0, 0.3)
            image = bg + (fg - bg) * placed + rng.normal(0, noise, (SIZE, SIZE))
            if grating_share:
                k = label if rng.random() < grating_share else int(rng.integers(len(KINDS)))
                fx, fy = GRATINGS[k]
                phase = 2 * np.pi * (fx * x + fy * y) / SIZE + rng.uniform(0, 2 * np.pi)
                image = image + grating_amplitude * np.sin(phase)
            pixels.append(np.clip(image, 0, 1))
            labels.append(label)
    return np.asarray(pixels, dtype=np.float32)[:, None], np.asarray(labels, dtype=np.int64)

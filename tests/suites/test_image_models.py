"""The micro suites' image classifiers: each builds from its spec, classifies, and comes back from its checkpoint."""

from __future__ import annotations

import pytest
import torch

from pythia_repro.suites import image_models


@pytest.mark.parametrize("arch", list(image_models.NETWORKS))
def test_each_architecture_classifies_and_its_checkpoint_gives_the_same_logits(arch, tmp_path):
    spec = image_models.ImageSpec(f"glyphs-{arch}", arch, width=16, channels=1, size=16, classes=10)
    torch.manual_seed(0)
    model = image_models.build(spec).eval()
    pixels = torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        logits = model(pixels)
    assert logits.shape == (3, 10)
    image_models.save(model, spec, tmp_path / "step0")
    with torch.no_grad():
        again = image_models.load(tmp_path / "step0")(pixels)
    assert torch.equal(logits, again)
    assert spec.params == sum(p.numel() for p in model.parameters()) > 0


def test_an_unknown_architecture_is_named_with_the_known_ones():
    spec = image_models.ImageSpec("glyphs-rnn", "rnn", width=8, channels=1, size=16, classes=10)
    with pytest.raises(ValueError, match="unknown image architecture 'rnn'; known: mlp, cnn, vit"):
        image_models.build(spec)

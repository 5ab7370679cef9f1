"""A finding defined outside the package, here, runs through `reproduce` and `sweep` with no edit to the package.

This module is itself the finding (held-out loss over training): FINDING, PARAMETERS, `prepare` (what to
score) and `analyse` (tables, figures, claims), the shape `findings/base.py` describes. The tests register it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pythia_repro import findings
from pythia_repro.cli import main
from pythia_repro.findings.base import Finding, Plan, Result, scored_models, scoring_task, sweep_plan
from pythia_repro.parameters import BATCH_SIZE, MODELS, STEPS
from pythia_repro.report import claims
from pythia_repro.suites import get_suite
from pythia_repro.sweep.plan import Job

FINDING = Finding("heldout_loss", "Held-out loss falls over training (a plug-in)", ("micro",))
PARAMETERS = (MODELS, STEPS, BATCH_SIZE)
ROWS = 16
SCORER = "heldout-loss-v1"


def prepare(
    profile: str, models: list[str] | None = None, steps: list[int] | None = None, batch_size: int | None = None
) -> Plan:
    """Mean next-token loss of the first held-out rows at every checkpoint."""
    from pythia_repro.scoring import token_losses

    suite = get_suite(profile)
    rows = suite.heldout_rows()
    jobs = [Job(suite.checkpoint(m, s), ROWS, ()) for m in scored_models(suite, models) for s in steps or suite.steps]

    def score(model, start, stop, params):
        return pd.DataFrame({"loss": token_losses(model, rows.rows(start, stop), batch_size=batch_size).mean(1)})

    def available(checkpoint):
        return ROWS

    task = scoring_task(
        FINDING,
        suite,
        data="heldout-head",
        scorer=SCORER,
        jobs=jobs,
        score=score,
        rows=available,
        chunk_rows=ROWS,
        device="cpu",
    )
    return Plan(task, suite, sorted({j.checkpoint.model for j in jobs}), sorted({j.checkpoint.step for j in jobs}))


def analyse(
    result: Result, models: list[str] | None = None, steps: list[int] | None = None, batch_size: int | None = None
) -> None:
    """The loss table and figure, and one claim: the last checkpoint's loss is below the first's."""
    import matplotlib.pyplot as plt

    prep = prepare(result.profile, models, steps, batch_size)
    scores, _ = sweep_plan(prep, result.writer, progress=False)
    result.section("losses")
    loss = result.table(
        "losses",
        pd.DataFrame(
            [{"model": c.model, "step": c.step, "loss": frame.loss.mean()} for (c, _), frame in scores.items()]
        ),
    )
    fig, ax = plt.subplots()
    for model, curve in loss.groupby("model"):
        ax.plot(curve.step, curve.loss, label=model)
    result.figure("losses", fig)
    result.section("claims")
    first, last = (loss[loss.step == loss.step.agg(end)].loss.mean() for end in ("min", "max"))
    result.judge(
        {
            result.profile: [
                claims.judged(
                    "heldout_loss.falls",
                    "Held-out loss falls over training.",
                    "mean loss at the last checkpoint < at the first",
                    last < first,
                    f"{first:.3f} → {last:.3f} nats",
                )
            ]
        }
    )


@pytest.fixture
def plugin(project, tiny, monkeypatch):
    """This module registered as a finding, with a notebook in the test project that registers it too."""
    notebook = project / "notebooks" / "heldout_loss.ipynb"
    cells = [
        ("profile = 'micro'\noutput_dir = None\nmodels = None\nsteps = None\nbatch_size = None", ["parameters"]),
        (
            f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\nimport {__name__} as plugin\n"
            "from pythia_repro.findings import check_notebook, load, register\n"
            "register(plugin)\n"
            "result = load('heldout_loss', profile, output_dir, **check_notebook('heldout_loss', globals()))",
            [],
        ),
        ("result.display('claims')", []),
    ]
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in cells],
            metadata={"language_info": {"name": "python"}},
        ),
        notebook,
    )
    import sys

    module = sys.modules[__name__]
    monkeypatch.setattr(module, "FINDING", replace(FINDING, notebook=notebook))
    monkeypatch.setattr(findings, "_REGISTERED", {})
    findings.register(module)
    return project


def test_a_finding_from_outside_the_package_sweeps_and_reproduces(plugin, capsys):
    args = ["--profile", "micro", "--finding", "heldout_loss", "-p", "steps=[0, 32]", "-p", "models=['micro-xs']"]
    assert main(["sweep", *args]) == 0
    assert "2 checkpoint(s) scored (2 chunk(s) written)" in capsys.readouterr().out
    assert main(["sweep", *args]) == 0
    assert "0 checkpoint(s) scored (0 chunk(s) written), 2 skipped" in capsys.readouterr().out, "resumed from the cache"
    assert main(["reproduce", *args]) == 0
    folder = plugin / "results" / "micro" / "heldout_loss"
    loss = pd.read_csv(folder / "losses.csv")
    assert list(loss.step) == [0, 32] and loss.loss.iloc[1] < loss.loss.iloc[0]
    assert (folder / "losses.png").is_file() and (folder / "heldout_loss.ipynb").is_file()
    assert pd.read_csv(folder / "claims.csv").verdict.tolist() == [claims.REPRODUCED]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["steps"] == [0, 32] and manifest["parameters"]["models"] == ["micro-xs"]


def test_a_registered_finding_is_checked_for_its_shape(monkeypatch):
    import types

    monkeypatch.setattr(findings, "_REGISTERED", {})
    with pytest.raises(TypeError, match="lacks PARAMETERS, analyse"):
        findings.register(types.SimpleNamespace(__name__="half", FINDING=FINDING))

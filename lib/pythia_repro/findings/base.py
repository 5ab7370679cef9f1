"""The shape every finding has, and the scaffolding they share.

A finding is one module that declares
  * `FINDING` (name, title, the profiles it implements: "published" and any suite named there; a suite also
    opts in by listing the finding among its `findings`) and `PARAMETERS` (its notebook parameters, `parameters.Param`);
  * `prepare(profile, **params)`, for findings that score checkpoints: the plan, an object whose `.task` is a
    `plan.ScoringTask` (what to score on which checkpoints); sweeps collect these from every finding;
  * `analyse(result, **params)`: reads the published files or the scores, runs the analysis (pure functions
    from tables to tables, defined in the module), makes the figures and judges the claims, recording all of it
    on `result`, section by section, in the order the notebook shows them.
`load(module, profile, ...)` runs a finding and returns its `Result`; the notebook is its parameters, the
narrative, and `result.show(section)` calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from .. import settings
from ..parameters import known_values, not_scored
from ..report.claims import Claim, sentences
from ..report.claims import table as claims_table
from ..report.results import ResultWriter
from ..suites import audit, facts, get_suite
from ..sweep.plan import ScoringTask, SweepReport, sweep

LEFT_OUT = "checkpoint_left_out"  # the manifest's input kind of a doubted checkpoint a run did not score


@dataclass(frozen=True)
class Finding:
    """A finding's declaration. `notebook` defaults to `notebooks/<name>.ipynb` of the project."""

    name: str
    title: str
    profiles: tuple[str, ...]
    notebook: Path | None = None


@dataclass
class Plan:
    """A finding's scoring on one profile: the task (what to score on which checkpoints) and what it covers.

    A finding's own plan adds what reading its scores back needs."""

    task: ScoringTask
    suite: Any  # suite.Suite
    models: list[str]
    steps: list[int]

    def __post_init__(self) -> None:
        left = {checkpoint.step for checkpoint in self.task.left_out}  # the steps the task leaves out, for all models
        self.steps = [step for step in self.steps if step not in left]

    def scored_data(self) -> tuple[str, dict[str, Any]]:
        """The kind and identity of what the plan scores, as a run records it among its inputs."""
        return "scored_data", {"suite": self.suite.name, "identity": self.task.data}


@dataclass
class Scores:
    """What a finding read back from its sweep; a finding's own adds its tables of scores."""

    suite: Any  # suite.Suite
    models: list[str]
    steps: list[int]
    report: SweepReport

    @classmethod
    def of(cls, plan: Plan, report: SweepReport, **tables: Any) -> Scores:
        """The scores of a plan's sweep: its suite, models and steps, the sweep's report, the finding's tables."""
        return cls(plan.suite, plan.models, plan.steps, report, **tables)


@dataclass
class Result:
    """What one run of a finding produced: its tables and figures (also written by `writer` when it has a folder),
    the claims judged on each profile, and what each notebook section shows, in order."""

    finding: str
    profile: str
    writer: ResultWriter
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, list[Claim]] = field(default_factory=dict)
    sections: dict[str, list[Any]] = field(default_factory=dict)
    current: str = "main"
    headline: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # the module's HEADLINE
    made: dict[str, list[str]] = field(default_factory=dict)  # section → the tables it wrote, in order
    module: str = ""  # the finding's module, whose `analyse` made the sections

    def section(self, name: str) -> None:
        """What is recorded next belongs to the notebook section `name`."""
        self.current = name
        self.sections.setdefault(name, [])

    def table(self, name: str, df: pd.DataFrame, notes: dict[str, str] | None = None) -> pd.DataFrame:
        """Write a result table (`<name>.csv`) and keep it; it is not shown unless passed to `show`."""
        self.tables[name] = self.writer.table(name, df, notes)
        self.made.setdefault(self.current, []).append(name)
        return df

    def figure(self, name: str, fig) -> None:
        """Write a figure, show it in the current section, and close it (so it is shown only there)."""
        import matplotlib.pyplot as plt

        self.writer.figure(name, fig)
        self.figures[name] = fig
        self.sections.setdefault(self.current, []).append(fig)
        plt.close(fig)

    def show(self, item: pd.DataFrame | str) -> None:
        """Show a view (a frame) or a line of text in the current section."""
        self.sections.setdefault(self.current, []).append(item)

    def judge(self, by_profile: dict[str, list[Claim]]) -> None:
        """Record the claims judged on each profile (this run's first), write `claims.csv` and the numbers for papers
        (`numbers.json`, `numbers.tex`: the claims' and those of the module's `HEADLINE` tables), state this
        profile's."""
        from ..report import numbers

        left = [f"{i['model']}@{i['revision']}" for i in self.writer.inputs if i["kind"] == LEFT_OUT]
        if left:  # every verdict of this run stands on the checkpoints it scored: say which were left out
            note = f" Left out, not what they claim (see the manifest): {', '.join(left)}."
            by_profile = {
                p: [replace(c, detail=c.detail + note) if p == self.profile else c for c in claims]
                for p, claims in by_profile.items()
            }
        self.claims = by_profile
        table = self.table("claims", claims_table(by_profile))
        found = numbers.of_claims(table, self.profile)
        for name, (keys, values) in self.headline.items():
            if name in self.tables:  # a profile may not make every headline table
                found += numbers.of_table(self.tables[name], name, keys, values, self.profile, self.finding)
        found = numbers.checked(found)
        self.writer.text(numbers.JSON_FILE, numbers.as_json(found))
        self.writer.text(numbers.TEX_FILE, numbers.as_tex(found, self.finding))
        self.show(sentences(by_profile[self.profile]))

    @property
    def verdicts(self) -> list[Claim]:
        """The claims judged on this run's profile."""
        return self.claims.get(self.profile, [])

    def display(self, section: str) -> None:
        """Display what a section recorded (frames and figures as rich output, text as lines), after a line naming
        the function that made it and the tables it wrote (each a variable of that name in the notebook)."""
        from IPython.display import display

        if section not in self.sections:
            raise KeyError(f"{self.finding} has no section {section!r}; it has {', '.join(self.sections)}")
        tables = ", ".join(f"`{name}`" for name in self.made.get(section, [])) or "none"
        print(f"[section {section!r} of {self.module}.analyse; its tables: {tables}]")
        for item in self.sections[section]:
            if isinstance(item, str):
                print(item)
            else:
                display(item)


def run(module: ModuleType, profile: str, output_dir: str | Path | None = None, **params: Any) -> Result:
    """Run a finding module's analysis on a profile; `params` are its notebook parameters, already checked."""
    from ..report import plots

    require_profile(module.FINDING, profile)
    not_scored(profile, params)
    plots.setup()
    result = Result(module.FINDING.name, profile, ResultWriter(output_dir, title_note=plots.source_note(profile)))
    result.headline = getattr(module, "HEADLINE", {})
    result.module = module.__name__
    with settings.overridden("checkpoints", params.pop("checkpoints", None)):
        module.analyse(result, **params)
    return result


def supports(finding: Finding, profile: str) -> bool:
    """Whether a finding runs on a profile: it names the profile, or the profile is a suite that lists it."""
    return profile in finding.profiles or (profile != "published" and finding.name in get_suite(profile).findings)


def require_profile(finding: Finding, profile: str) -> None:
    """Fail early, and clearly, when a finding is run with a profile it does not implement."""
    if not supports(finding, profile):
        raise NotImplementedError(
            f"{finding.name} does not run on the {profile!r} profile: the finding does not name it and the suite "
            f"does not list it (it runs on {', '.join(finding.profiles)} and on suites that list {finding.name!r})"
        )


def reference_input(path: str, writer: ResultWriter | None = None) -> Path:
    """Fetch a verified reference file and, given a ResultWriter, record it as an input of the run."""
    from ..data.reference import entry, fetch

    local = fetch(path)
    if writer is not None:
        item = entry(path)
        writer.record_input("reference", path=path, sha256=item.sha256, origin=item.origin)
    return local


def scored_models(suite, models: list[str] | None = None, finding: str | None = None) -> list[str]:
    """The models a scored profile runs: those given (each checked), else the suite's defaults for the finding,
    else the suite's defaults, else all."""
    chosen = list(models or suite.default(finding, "models") or suite.default_models or suite.models)
    for model in chosen:
        suite.spec(model)
    return chosen


def scoring_task(
    finding: Finding,
    suite,
    *,
    data: str,
    scorer: str,
    jobs: list,
    score: Callable[[Any, int, int, dict], pd.DataFrame],
    rows: int | Callable[[Any], int],
    chunk_rows: int,
    device: Any,
    row_tokens: float | None = None,
) -> ScoringTask:
    """A finding's scoring work on a suite, declared by name: the identity of the scored `data`, the `scorer` and
    its version, the `jobs` (checkpoint, rows, parameters), how to `score` a chunk, the `rows` a checkpoint may be
    scored on (a number, or a function of the checkpoint), the chunk size, the device and the tokens a row puts
    through the model (for plans). A doubted checkpoint (`audit.screen`) is left out with every other model's at its
    step, so that the findings compare sizes on the steps they all have (or, asked, kept and marked)."""
    left_out, marked = audit.screen(suite, [job.checkpoint for job in jobs])
    with_step = {c.step: f"{c.model}@{c.revision}" for c in left_out}
    for ckpt in (job.checkpoint for job in jobs):
        if ckpt.step in with_step and ckpt not in left_out:
            left_out[ckpt] = f"left out with step {ckpt.step}, where {with_step[ckpt.step]} is not what it claims"
    return ScoringTask(
        finding=finding.name,
        suite=suite.name,
        data=data,
        scorer=scorer,
        jobs=[job for job in jobs if job.checkpoint not in left_out],
        score=score,
        available=rows if callable(rows) else lambda checkpoint: rows,
        chunk_rows=chunk_rows,
        device=str(device),
        row_tokens=row_tokens,
        build=suite.build,
        left_out=left_out,
        marked=marked,
    )


def refuse_unknown(suite, holds: dict[str, list], **asked: list | None) -> None:
    """Refuse a run whose `models` or `steps` (`asked`) name anything `holds` (what the finding can score on
    `suite`) lacks, naming the bad values and the valid ones (`parameters.BadParameter`)."""
    for name, values in asked.items():
        known_values(name, values, holds[name], suite.name)


def scored_suite(profile: str, finding: str, models: list[str] | None = None) -> tuple[Any, list[str]]:
    """The profile's suite and the models a run of `finding` scores."""
    suite = get_suite(profile)
    return suite, scored_models(suite, models, finding)


def record_checkpoints(writer: ResultWriter, suite, task: ScoringTask) -> None:
    """Record each distinct checkpoint a run loaded (or read scores of) as an input, with its source, its input
    embedding's check (`audit.embedding_record`) and, for one scored despite a doubt (`-p checkpoints=all`), the
    doubt; and each doubted checkpoint left out, with why."""
    scored = list(dict.fromkeys(job.checkpoint for job in task.jobs))
    embeddings = audit.embedding_record(suite, scored)
    for ckpt in scored:
        source = suite.spec(ckpt.model).hub_id if suite.local_root is None else str(suite.local_root)
        extra = {"doubt": task.marked[ckpt]} if ckpt in task.marked else {}
        extra |= embeddings.get(ckpt, {})
        writer.record_input("checkpoint", model=ckpt.model, revision=ckpt.revision, source=source, **extra)
    for ckpt, why in task.left_out.items():
        writer.record_input(LEFT_OUT, model=ckpt.model, revision=ckpt.revision, reason=why)


def sweep_plan(
    plan: Plan, writer: ResultWriter | None, cache=None, progress: bool = True, **runtime: Any
) -> tuple[dict, SweepReport]:
    """Sweep a plan's task (cached, resumable) and record on the writer the device, the suite's tokenizer, the scored
    data and the checkpoints (and those left out); `runtime` adds facts of the run (e.g. dtypes)."""
    results, report = sweep(plan.task, cache=cache, progress=progress)
    if writer:
        tokenizer = facts.tokenizer_identity(plan.suite)
        writer.record_runtime(device=plan.task.device, suite=plan.suite.name, **tokenizer, **runtime)
        kind, identity = plan.scored_data()
        writer.record_input(kind, **identity)
        record_checkpoints(writer, plan.suite, plan.task)
    return results, report

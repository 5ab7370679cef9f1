"""Executing notebooks: atomic publication, manifest contents, the CLI, and verify."""

import json
import re
import shutil

import nbformat
import pytest

from pythia_repro import cli
from pythia_repro.findings import term_frequency
from pythia_repro.integrity.hashing import sha256_file
from pythia_repro.run import NotebookFailed, previous_duration, reproduce

from conftest import REPO, plant_failure


def test_reproduce_writes_tables_figures_and_manifest(project):
    folder = reproduce("memorization", "published")
    assert folder == project / "results" / "published" / "memorization"
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("version", "git", "parameters", "inputs", "libraries", "runtime", "started", "finished", "outputs"):
        assert key in manifest
    assert manifest["profile"] == "published" and manifest["finding"] == "memorization"
    assert manifest["inputs"][0]["path"] == "published/memorization/confusion_matrices.csv"
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert {
        "headline.csv",
        "memorization.ipynb",
        "precision_recall_vs_compute.png",
        "precision_recall_vs_compute.pdf",
    } <= set(manifest["outputs"])
    for name, digest in manifest["outputs"].items():
        assert sha256_file(folder / name) == digest
    assert not (folder / "inputs.json").exists()
    executed = nbformat.read(folder / "memorization.ipynb", as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")


def test_a_failing_notebook_leaves_previous_results_untouched(project):
    old = project / "results" / "published" / "memorization"
    old.mkdir(parents=True)
    (old / "headline.csv").write_text("previous\n")
    plant_failure(project, "memorization")
    with pytest.raises(NotebookFailed, match="ValueError: planted failure"):
        reproduce("memorization", "published")
    assert (old / "headline.csv").read_text() == "previous\n"
    left = sorted(p.name for p in (project / "results" / "published").iterdir() if not p.name.endswith(".lock"))
    assert left == ["memorization"], "no temporary left behind"


def test_cli_reproduce_then_verify(project, capsys, rerun_as):
    assert (
        cli.main(["reproduce", "--profile", "published", "--finding", "term_frequency", "-p", "heatmap_shots=4"]) == 0
    )
    folder = project / "results" / "published" / "term_frequency"
    out = capsys.readouterr().out
    assert "→ [1/1] term_frequency (published)\n" in out and re.search(r"wrote .* in \dm\d\ds \(", out)
    assert previous_duration("term_frequency", "published") > 0, "the next run's estimate"
    recorded = json.loads((folder / "manifest.json").read_text())["parameters"]
    assert set(recorded) == {p.name for p in term_frequency.PARAMETERS}, "every parameter, as used"
    assert recorded["heatmap_shots"] == 4 and recorded["reported_shots"] == [0, 4, 16]
    assert cli.main(["verify", "--profile", "published", "--finding", "term_frequency", "-p", "heatmap_shots=4"]) == 0
    rerun_as(folder)
    table = folder / "mean_accuracy.csv"
    table.write_text(table.read_text().replace("0.8738", "0.9999", 1))
    capsys.readouterr()
    assert cli.main(["verify", "--profile", "published", "--finding", "term_frequency", "-p", "heatmap_shots=4"]) == 1
    out = capsys.readouterr().out
    assert "mean_accuracy.csv differs" in out and "-" in out and "0.9999" in out


def test_cli_reports_failure_and_unimplemented_profiles(project, capsys, monkeypatch):
    plant_failure(project, "simplicity_bias")
    assert cli.main(["reproduce", "--profile", "published", "--finding", "simplicity_bias"]) == 1
    assert "planted failure" in capsys.readouterr().err
    assert cli.main(["reproduce", "--profile", "gpt-neox-20b", "--finding", "memorization"]) == 0
    assert "not run on these profiles (the suite does not list the finding), skipped: memorization (gpt-neox-20b)" in (
        capsys.readouterr().out
    )


def test_parameters_parse_literals():
    assert cli.parse_parameters(["a=3", "b=[0, 4]", "c=pythia-12b"]) == {"a": 3, "b": [0, 4], "c": "pythia-12b"}
    with pytest.raises(SystemExit):
        cli.parse_parameters(["nonsense"])


def test_results_folders_take_the_users_umask(project):
    import os

    old = os.umask(0o027)
    try:
        folder = reproduce("term_frequency", "published")
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o750, "created as the umask says, not 0700"


@pytest.mark.parametrize("given", ["heatmap_shots=99", "heatmap_model='pythia-3b'"])
def test_a_heatmap_of_nothing_is_refused_and_nothing_is_published(project, capsys, given):
    name = given.split("=")[0]
    assert cli.main(["reproduce", "--profile", "published", "--finding", "term_frequency", "-p", given]) == 1
    assert f"parameter {name}=" in capsys.readouterr().err
    assert not (project / "results" / "published" / "term_frequency").exists(), "no empty heatmap published"


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_kernel_socket_folder_others_can_write_to_is_refused(tmp_path, monkeypatch, mode):
    import tempfile

    from pythia_repro.run import NotebookFailed, kernel_folder

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    folder = kernel_folder()
    assert folder.stat().st_mode & 0o777 == 0o700, "made private"
    folder.chmod(mode)
    with pytest.raises(NotebookFailed, match="not a private folder of this user"):
        kernel_folder()


def test_verify_reruns_with_the_recorded_parameters_and_checks_the_files_they_name(project, tmp_path, capsys, rerun_as):
    ranking = tmp_path / "ranking.csv"
    ranking.write_text("operand,count\n" + "".join(f"{x},{(x * 37) % 100}\n" for x in range(100)))
    argv = ["--profile", "published", "--finding", "term_frequency"]
    assert cli.main(["reproduce", *argv, "-p", f"frequency_ranking={ranking}"]) == 0
    inputs = json.loads((project / "results" / "published" / "term_frequency" / "manifest.json").read_text())["inputs"]
    assert {"kind": "file", "parameter": "frequency_ranking", "path": str(ranking.resolve())}.items() <= next(
        i for i in inputs if i["kind"] == "file"
    ).items()
    capsys.readouterr()
    assert cli.main(["verify", *argv]) == 0, capsys.readouterr().out  # no -p: the folder's own parameters
    rerun_as(project / "results" / "published" / "term_frequency")
    ranking.write_text(ranking.read_text().replace("\n1,37\n", "\n1,99\n"))
    assert cli.main(["verify", *argv]) == 1
    assert f"input {ranking.resolve()} (frequency_ranking) changed" in capsys.readouterr().out


def test_verify_names_a_malformed_manifest_a_symlink_and_a_stray_folder_in_one_line_each(project, capsys, rerun_as):
    argv = ["--profile", "published", "--finding", "memorization"]
    assert cli.main(["reproduce", *argv]) == 0
    folder = project / "results" / "published" / "memorization"
    rerun_as(folder)
    (folder / "stray").mkdir()
    (folder / "elsewhere").symlink_to(project / "notebooks")
    capsys.readouterr()
    assert cli.main(["verify", *argv]) == 1
    out = capsys.readouterr().out
    assert "elsewhere: a symbolic link" in out and "stray/: a folder that holds no published file" in out
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "outputs": None}))
    assert cli.main(["verify", *argv]) == 1
    out = capsys.readouterr().out
    assert "unreadable manifest (TypeError: its outputs are NoneType" in out and "Traceback" not in out


def test_verify_refuses_a_symlinked_results_folder_and_says_when_it_re_ran_nothing(project, capsys):
    argv = ["--profile", "published", "--finding", "term_frequency"]
    assert cli.main(["reproduce", *argv]) == 0
    folder = project / "results" / "published" / "term_frequency"
    elsewhere = project / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere)
    capsys.readouterr()
    assert cli.main(["verify", *argv]) == 1
    out = capsys.readouterr().out
    assert "is a symbolic link" in out and "nothing re-run" in out and "byte-identical" not in out
    folder.unlink()
    (project / "results" / "published").rename(project / "published-elsewhere")
    (project / "results" / "published").symlink_to(project / "published-elsewhere")
    assert cli.main(["verify", *argv]) == 1 and "is a symbolic link" in capsys.readouterr().out

    assert cli.main(["verify", "--profile", "published", "--finding", "simplicity_bias_images"]) == 1
    captured = capsys.readouterr()
    assert "nothing re-run" in captured.out + captured.err and "byte-identical" not in captured.out


def _as_if_made_elsewhere(folder, edits: dict[str, tuple[str, str]], capability: str | None = "ZVECTOR") -> None:
    """Rewrite a results folder as another machine would have published it: files edited (old → new text), the
    manifest's numerics from another kernel path, its hashes and digest made consistent again."""
    from pythia_repro.integrity.hashing import sha256_file
    from pythia_repro.report.results import manifest_digest

    manifest = json.loads((folder / "manifest.json").read_text())
    for name, (old, new) in edits.items():
        text = (folder / name).read_text()
        assert old in text
        (folder / name).write_text(text.replace(old, new, 1))
        manifest["outputs"][name] = sha256_file(folder / name)
    if capability:
        manifest["numerics"]["cpu_capability"] = capability
    manifest["digest"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def test_verify_promises_bytes_under_the_same_numerics_and_verdicts_under_others(project, tiny, capsys, rerun_as):
    import pandas as pd

    args = ["--profile", "micro", "--finding", "simplicity_bias_images", "-p", "per_class=10"]
    assert cli.main(["reproduce", *args]) == 0
    folder = project / "results" / "micro" / "simplicity_bias_images"
    capsys.readouterr()
    assert cli.main(["verify", *args]) == 0
    assert "same numerics: byte-identical" in capsys.readouterr().out
    # That re-run made the folder again, byte for byte: the re-runs below (of a folder edited as if made elsewhere)
    # are a copy of it, put back between edits, so what they test is the comparison, not six more executions.
    made = rerun_as(folder)
    number = pd.read_csv(folder / "curves.csv").loss.astype(str).iloc[-1]
    _as_if_made_elsewhere(folder, {"curves.csv": (number, "9.875")})
    assert cli.main(["verify", *args]) == 0, "other numbers under other numerics are not a failure"
    out = capsys.readouterr().out
    assert "other numerics than the committed run (cpu_capability: ZVECTOR here" in out and "verdicts identical" in out
    found = json.loads((folder / "numbers.json").read_text())
    near = next(n for n in found if type(n["value"]) is float and n["value"] > 0.1)
    moved = near["value"] * 1.1  # within the finding's tolerance (0.002 + 0.5·|value|)
    _as_if_made_elsewhere(folder, {"numbers.json": (f'"value": {near["value"]},', f'"value": {moved},')})
    assert cli.main(["verify", *args]) == 0, "numbers within the stated tolerance"
    out = capsys.readouterr().out
    assert f"the largest move {near['macro']} {moved} → {near['value']}" in out, out
    assert "none beyond the stated tolerance (±0.002 + 0.5·|value|)" in out
    verdict = pd.read_csv(folder / "claims.csv").verdict.iloc[0]
    flipped = "not reproduced" if verdict == "reproduced" else "reproduced"
    _as_if_made_elsewhere(folder, {"claims.csv": (f",{verdict},", f",{flipped},")})
    assert cli.main(["verify", *args]) == 1, "a verdict is promised under any numerics"
    assert "a verdict differs" in capsys.readouterr().out
    shutil.copytree(made, folder, dirs_exist_ok=True)
    far = next(n for n in found if type(n["value"]) is int)
    old, new = f'"value": {far["value"]},', f'"value": {far["value"] + 7},'
    _as_if_made_elsewhere(folder, {"numbers.json": (old, new)})
    assert cli.main(["verify", *args]) == 1, "a number beyond the stated tolerance"
    assert f"beyond the stated tolerance: {far['macro']} {far['value'] + 7} → {far['value']}" in capsys.readouterr().out
    shutil.copytree(made, folder, dirs_exist_ok=True)
    _as_if_made_elsewhere(folder, {"curves.csv": (number, "9.875")}, capability=None)
    assert cli.main(["verify", *args]) == 1, "under the same numerics every byte is promised"
    assert "curves.csv differs" in capsys.readouterr().out


def test_notebooks_side_by_side_write_the_committed_tables_and_a_failure_stops_none_of_the_others(project, capsys):
    plant_failure(project, "gender_bias")
    findings = ["memorization", "gender_bias", "term_frequency"]
    argv = ["reproduce", "--profile", "published", *(a for f in findings for a in ("--finding", f)), "--jobs", "2"]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert "2 notebooks at a time" in captured.out
    assert sorted(re.findall(r"→ \[\d/3\] (\w+) \(published\)", captured.out)) == sorted(findings), captured.out
    assert "planted failure" in captured.err and "failed: gender_bias (published)" in captured.err
    assert not (project / "results" / "published" / "gender_bias").exists(), "nothing published for the failure"
    for finding in ("memorization", "term_frequency"):
        made, committed = project / "results" / "published" / finding, REPO / "results" / "published" / finding
        tables = sorted(p.name for p in committed.glob("*.csv"))
        assert tables and tables == sorted(p.name for p in made.glob("*.csv"))
        for name in tables:
            assert (made / name).read_bytes() == (committed / name).read_bytes(), f"{finding}/{name}"

"""The micro suite: built offline and deterministically, loaded through the same API as Pythia."""

import json

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file

from pythia_repro import cli
from pythia_repro.suites import get_suite, load_model, load_tokenizer, micro


def test_tiny_suite_shape(tiny):
    manifest = json.loads((tiny / "manifest.json").read_text())
    params = [m["params"] for m in manifest["models"].values()]
    assert len(params) >= 4 and max(params) >= 10 * min(params)
    assert manifest["steps"] == [0, 1, 2, 4, 8, 16, 24, 32]
    for name in manifest["models"]:
        for step in manifest["steps"]:
            assert (tiny / name / f"step{step}" / "model.safetensors").is_file()
        assert not list((tiny / name).glob("step*/*.bin")), "weights are safetensors only"
    assert all(len(v) == 32 for v in manifest["losses"].values())


def test_micro_checkpoints_and_rows_through_the_pythia_api(tiny):
    suite = get_suite("micro")
    ckpt = suite.checkpoint("micro-l", "step8")
    model = load_model(ckpt)
    assert model.config.num_hidden_layers == 2 and not model.training
    rows = suite.training_rows()
    assert rows.n_rows == 32 * 4 and rows.rows_at_step(3).shape == (4, 65)
    tok = load_tokenizer(suite)
    assert tok.eos_token_id == 0
    text = tok.decode(rows.rows(0, 1)[0].tolist())
    assert len(text) > 20
    with pytest.raises(Exception, match="nearest is step8"):
        suite.checkpoint("micro-l", 9)


def test_ground_truth_is_recorded(tiny):
    truth = pd.read_parquet(tiny / "data" / "rows_ground_truth.parquet")
    config = micro.VARIANTS["tiny"]
    assert len(truth) == config.n_rows
    counts = truth[truth.passage >= 0].groupby("passage").size()
    planted = [c for c, n in config.duplicates for _ in range(n)]
    natural = [c for c, n in config.natural_duplicates for _ in range(n)]
    variants = [copies for template in config.templates for copies in template]
    assert sorted(counts) == sorted(planted + natural + variants)
    assert (truth.groupby("passage").duplicate_count.nunique() == 1).all()
    kinds = truth[truth.passage >= 0].groupby("kind").passage.nunique()
    assert kinds.to_dict() == {"planted": len(planted), "natural": len(natural), "templated": len(variants)}
    assert set(truth[truth.passage < 0].kind) == {"unique"}
    assert set(truth[truth.kind != "templated"].template) == {-1}
    rows = get_suite("micro").training_rows()
    everything = rows.rows(0, rows.n_rows)
    head = config.passage_tokens
    for _, group in truth[truth.passage >= 0].groupby("passage"):
        copies = everything[group.row.to_numpy()]
        assert (copies[:, :head] == copies[0, :head]).all(), "every copy of a passage begins with the same tokens"
    for _, group in truth[truth.kind == "templated"].groupby("template"):
        first = group.groupby("passage").row.first()
        assert sorted(group.groupby("passage").size()) == sorted(config.templates[group.template.iloc[0]])
        variant_heads = everything[first.to_numpy(), :head]
        assert (variant_heads[:, : head // 2] == variant_heads[0, : head // 2]).all(), "variants share the prompt"
        assert len({tuple(v[head // 2 :]) for v in variant_heads}) == len(first), "and go on differently"
    operands = pd.read_csv(tiny / "data" / "operands_ground_truth.csv")
    assert sorted(operands.times_rank) == list(range(100))
    assert operands.times_probability.sum() == pytest.approx(1)


def test_seed_runs_and_the_task_grid_of_the_suite(tiny):
    from pythia_repro.evals import arithmetic
    from pythia_repro.findings import term_frequency as tf
    from pythia_repro.findings.base import scored_models

    suite = get_suite("micro")
    assert "micro-xs-seed1" in suite.models and suite.spec("micro-xs-seed1").params == suite.spec("micro-xs").params
    assert "micro-xs-seed1" not in scored_models(suite, None, "memorization")
    assert "micro-xs-seed1" in scored_models(suite, None, "simplicity_bias")
    a = load_file(tiny / "micro-xs" / "step32" / "model.safetensors")
    b = load_file(tiny / "micro-xs-seed1" / "step32" / "model.safetensors")
    assert any(not np.array_equal(a[k], b[k]) for k in a), "a seed run is trained from other initial weights"
    second = suite.default("term_frequency", "second_operands")
    low, high = micro.VARIANTS["tiny"].second_operands
    assert second == list(range(low, high + 1))
    assert tf.prepare("micro", models=["micro-xs"], steps=[32], shots=[0]).operands == 20, "the tiny variant's 0-19"
    assert tf.prepare("micro", models=["micro-xs"], steps=[32], shots=[0], operands=[3, 5]).operands == 2
    text = load_tokenizer(suite).decode(suite.training_rows().rows(0, 64).ravel().tolist())
    planted = [int(x2) for x2 in __import__("re").findall(r"What is \d+ (?:times|plus) (\d+)\?", text)]
    assert planted and low <= min(planted) and max(planted) <= high
    assert arithmetic.QUESTION.format(x1=3, word="times", x2=4) in "Q:" + arithmetic.solved("multiplication", 3, 4)


def test_operands_frequency_is_a_permutation_not_magnitude():
    from pythia_repro.suites.corpus import OperandPlan

    plan = OperandPlan.make(np.random.default_rng(0), 1.2)
    assert np.argmax(plan.times_p) == plan.permutation[0]
    assert not np.all(np.diff(plan.times_p) <= 0), "frequency must not fall with operand size"
    assert np.allclose(plan.plus_p, 0.01)


def test_smaller_sizes_and_their_seeds_train_at_their_own_peak_rate():
    from pythia_repro.suites import micro_gender

    config = micro.VARIANTS["default"]
    assert micro.peak_lr(config, "micro-xs") == micro.peak_lr(config, "micro-xs-seed2") == 6e-3
    assert micro.peak_lr(config, "micro-l") == config.lr == 3e-3
    assert micro.peak_lr(micro.VARIANTS["tiny"], "micro-xs") == micro.VARIANTS["tiny"].lr
    gender = micro_gender.VARIANTS["gender"]  # the same rule; interventions continue from their baseline's state
    assert micro.peak_lr(gender, "micro-xs") == 6e-3
    assert micro.peak_lr(gender, "micro-m") == gender.lr == 3e-3
    assert micro.peak_lr(micro_gender.VARIANTS["gender-tiny"], "micro-xs") == micro_gender.VARIANTS["gender-tiny"].lr


def test_build_is_deterministic(tmp_path, monkeypatch):
    roots = []
    for name in ("a", "b"):
        monkeypatch.setenv("PYTHIA_REPRO_HOME", str(tmp_path / name))
        roots.append(micro.build("tiny", progress=False))
    a, b = roots
    for rel in ("tokenizer.json", "data/train.idx", "data/train.bin", "data/operands_ground_truth.csv"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for model in ("micro-xs", "micro-l"):
        for step in (0, 8, 32):
            ta = load_file(a / model / f"step{step}" / "model.safetensors")
            tb = load_file(b / model / f"step{step}" / "model.safetensors")
            assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)


def test_interrupted_build_resumes_and_never_looks_complete(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHIA_REPRO_HOME", str(tmp_path))
    real_train = micro._train

    def crash_on_m(config, spec, root, progress, seed, position=0, **branches):
        if spec.name == "micro-m":
            raise KeyboardInterrupt
        return real_train(config, spec, root, progress, seed, position, **branches)

    monkeypatch.setattr(micro, "_train", crash_on_m)
    with pytest.raises(KeyboardInterrupt):
        micro.build("tiny", progress=False)
    final = micro.suite_dir(micro.VARIANTS["tiny"])
    assert not final.exists()
    with pytest.raises(Exception, match="not built"):
        micro.load_manifest("tiny")
    partial = final.with_name(final.name + ".partial")
    data_mtime = (partial / "data" / "train.bin").stat().st_mtime_ns

    trained = []
    monkeypatch.setattr(micro, "_train", lambda *a, **k: trained.append(a[1].name) or real_train(*a, **k))
    assert micro.build("tiny", progress=False) == final
    assert trained == ["micro-m", "micro-l", "micro-xs-seed1"], "finished stages are reused"
    assert (final / "data" / "train.bin").stat().st_mtime_ns == data_mtime
    assert not partial.exists() and not list(final.glob(".done-*"))

    monkeypatch.setattr(micro, "_build_data", lambda *a: pytest.fail("a complete build must be reused"))
    assert micro.build("tiny", progress=False) == final


def test_cli_builds_the_tiny_suite(capsys):
    assert cli.main(["suite", "build", "micro", "--variant", "tiny"]) == 0
    assert "micro suite (tiny) ready" in capsys.readouterr().out


def test_scores_cached_for_one_build_are_never_read_for_another(tiny):
    import dataclasses

    from pythia_repro.findings import term_frequency as tf

    suite = get_suite("micro")
    assert suite.build == json.loads((tiny / "manifest.json").read_text())["key"] == micro.VARIANTS["tiny"].key()
    task = tf.prepare("micro", models=["micro-xs"], steps=[32], shots=[0], operands=[3]).task
    rebuilt = dataclasses.replace(task, build="a-rebuilt-suite")  # same model names and revisions, other weights
    keys, other = task.keys(task.jobs[0]), rebuilt.keys(task.jobs[0])
    assert keys and {k.digest() for k in keys}.isdisjoint(k.digest() for k in other)

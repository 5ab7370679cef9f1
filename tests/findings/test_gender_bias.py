"""Gender-bias intervention: the released files read and counted, and every claim shown to pass and to fail."""

import numpy as np
import pandas as pd
import pytest

from pythia_repro.findings import gender_bias as gb
from pythia_repro.report import claims as C


@pytest.fixture(scope="module")
def evaluations():
    return gb.load_evaluations()


def test_every_released_file_is_read_and_its_counts_agree(evaluations):
    counts = gb.item_counts(evaluations)
    assert counts[("crows_pairs", "gender")] == 320 and counts[("lambada", "")] == 5153
    assert counts[("winobias", "type1_pro")] == counts[("winobias", "type1_anti")] == 396
    runs = evaluations.groupby(["run", "model", "arm"]).step.agg(["min", "max", "nunique"])
    assert runs.loc[("v1", "pythia-1.4b-deduped", gb.LONG)].tolist() == [114000, 143000, 30]
    assert runs.loc[("first", "pythia-410m-deduped", gb.INTERVENTION), "max"] == 71500  # 71,500 steps then


def test_crows_pairs_matches_the_issues_reading(evaluations):
    crows = gb.crows_pairs(evaluations)
    final = crows[(crows.run == "v1") & (crows.category == "gender") & (crows.step == gb.FINAL_STEP)]
    by = final.set_index(["model", "arm"]).pct_stereotype.to_dict()
    reading = {  # the issue's reading of the v1 files, to four decimals
        ("pythia-70m-deduped", gb.BASELINE): 0.5625,
        ("pythia-70m-deduped", gb.INTERVENTION): 0.5781,
        ("pythia-1.4b-deduped", gb.LONG): 0.6063,
        ("pythia-6.9b-deduped", gb.INTERVENTION): 0.6781,
    }
    assert all(by[key] == pytest.approx(value, abs=1e-4) for key, value in reading.items())
    assert (final.stereotyped == (final.pct_stereotype * 320).round()).all()
    assert ((final.ci95_low < final.pct_stereotype) & (final.pct_stereotype < final.ci95_high)).all()


def test_winobias_net_bias_is_pro_minus_anti(evaluations):
    wino = gb.winobias(evaluations)
    assert set(wino.type) == {"type1", "type2"} and wino.prompt.nunique() == 2
    assert np.allclose(wino.net_bias, wino.pro_em - wino.anti_em)
    assert ((wino.net_bias_ci95_low <= wino.net_bias) & (wino.net_bias <= wino.net_bias_ci95_high)).all()


def crows_table(base, intervention, long=None, category="gender", pairs=320):
    """A CrowS-Pairs table of v1 runs at the final step: {model: pct_stereotype} per arm."""
    rows = []
    for arm, values in ((gb.BASELINE, base), (gb.INTERVENTION, intervention), (gb.LONG, long or {})):
        for model, p in values.items():
            hits = round(p * pairs)
            low, high = gb.intervals.wilson([hits], [pairs])
            rows.append(
                {
                    "run": "v1",
                    "model": model,
                    "arm": arm,
                    "step": gb.FINAL_STEP,
                    "fraction": 1.0,
                    "category": category,
                    "group": gb.ALL,
                    "pct_stereotype": hits / pairs,
                    "stderr": 0.0,
                    "stereotyped": hits,
                    "pairs": pairs,
                    "ci95_low": low[0],
                    "ci95_high": high[0],
                }
            )
    return pd.DataFrame(rows)


def changes(table, against=gb.BASELINE):
    return gb.final_changes(table, "pct_stereotype", ["category", "group"], "stereotyped", "pairs", against=against)


SIZES = {"pythia-70m-deduped": 0.62, "pythia-410m-deduped": 0.66}


def test_baseline_and_crows_claims_pass_and_fail():
    lowered = crows_table(SIZES, dict.fromkeys(SIZES, 0.5))
    assert gb.baseline_claim(lowered).verdict == C.REPRODUCED
    assert gb.crows_claim(changes(lowered)).verdict == C.REPRODUCED
    unmoved = crows_table(dict.fromkeys(SIZES, 0.52), dict.fromkeys(SIZES, 0.52))
    assert gb.baseline_claim(unmoved).verdict == C.NOT_REPRODUCED, "0.52 of 320 pairs is not beyond 0.5"
    assert gb.crows_claim(changes(crows_table(SIZES, SIZES))).verdict == C.NOT_REPRODUCED


def test_claims_are_judged_on_the_papers_runs_first_then_replicated_on_v1():
    """The first runs (the paper's figures) under the claim's own id, each at its own final step (71,500 for the
    doubled-batch 410m); the v1 models as a replication row; a verdict that differs between them is kept apart."""
    first = crows_table(SIZES, dict.fromkeys(SIZES, 0.5)).assign(run="first")
    first.loc[first.model == "pythia-410m-deduped", "step"] = gb.FIRST_RUN_STEPS["pythia-410m-deduped"]
    v1 = crows_table(SIZES, SIZES)
    both = pd.concat([v1, first])
    judged = gb.on_each_run(gb.crows_claim, changes(both))
    assert [c.id for c in judged] == ["gender_bias.crows_lowered", "gender_bias.crows_lowered.v1"]
    assert [c.verdict for c in judged] == [C.REPRODUCED, C.NOT_REPRODUCED]
    assert judged[0].detail.startswith(gb.RUNS["first"]) and "(replication)" in judged[1].statement
    assert judged[0].numbers["sizes"] == 2, "410m judged at its own final step"
    assert [c.id for c in gb.on_each_run(gb.crows_claim, changes(v1))] == ["gender_bias.crows_lowered"]


def test_longer_intervention_claim_passes_and_fails():
    model = {"pythia-1.4b-deduped": 0.62}
    better = crows_table(model, model, {"pythia-1.4b-deduped": 0.50})
    assert gb.longer_claim(changes(better, gb.INTERVENTION)).verdict == C.REPRODUCED
    same = crows_table(model, model, model)
    assert gb.longer_claim(changes(same, gb.INTERVENTION)).verdict == C.NOT_REPRODUCED
    assert gb.longer_claim(changes(crows_table(model, model), gb.INTERVENTION)).verdict == C.NOT_TESTABLE


def test_controls_claim_allows_what_chance_allows():
    categories = ["age", "religion", "race_color", "disability", "nationality"]
    flat = pd.concat([crows_table(SIZES, SIZES, category=c) for c in categories])
    assert gb.controls_claim(changes(flat)).verdict == C.REPRODUCED
    moved = pd.concat([crows_table(SIZES, dict.fromkeys(SIZES, 0.45), category=c) for c in categories])
    assert gb.controls_claim(changes(moved)).verdict == C.NOT_REPRODUCED


def lambada_table(base, other, items=5153):
    rows = [
        {
            "run": "v1",
            "model": "pythia-70m-deduped",
            "arm": arm,
            "step": gb.FINAL_STEP,
            "accuracy": p,
            "correct": round(p * items),
            "items": items,
        }
        for arm, p in ((gb.BASELINE, base), (gb.INTERVENTION, other))
    ]
    return gb.lambada_changes(pd.DataFrame(rows))


def test_capability_claim_passes_and_fails():
    assert gb.capability_claim(lambada_table(0.40, 0.405)).verdict == C.REPRODUCED
    assert gb.capability_claim(lambada_table(0.40, 0.30)).verdict == C.NOT_REPRODUCED


def wino_table(pro_base, anti_base, pro_int, anti_int, n=396):
    rows = []
    for arm, (pro, anti) in ((gb.BASELINE, (pro_base, anti_base)), (gb.INTERVENTION, (pro_int, anti_int))):
        for type_ in ("type1", "type2"):
            for prompt in ("a", "b"):
                rows.append(
                    {
                        "run": "v1",
                        "model": "pythia-410m-deduped",
                        "arm": arm,
                        "step": gb.FINAL_STEP,
                        "type": type_,
                        "prompt": prompt,
                        "group": gb.ALL,
                        "net_bias": pro - anti,
                        "pro_hits": round(pro * n),
                        "pro_items": n,
                        "anti_hits": round(anti * n),
                        "anti_items": n,
                    }
                )
    return gb.winobias_changes(pd.DataFrame(rows))


def test_winobias_claim_passes_and_fails():
    assert gb.winobias_claim(wino_table(0.6, 0.3, 0.45, 0.45)).verdict == C.REPRODUCED
    assert gb.winobias_claim(wino_table(0.6, 0.3, 0.6, 0.3)).verdict == C.NOT_REPRODUCED
    assert gb.winobias_claim(wino_table(0.6, 0.3, 0.7, 0.2)).verdict == C.NOT_REPRODUCED


def test_published_profile_runs_end_to_end(project):
    from pythia_repro.run import reproduce

    folder = reproduce("gender_bias", "published", {})
    claims = pd.read_csv(folder / "claims.csv")
    replicated = [f"{id}.v1" for id in gb.STATEMENTS if id != "gender_bias.winobias_lowered"]  # WinoBias: v1 only
    assert sorted(claims.id) == sorted([*gb.STATEMENTS, *replicated])
    assert claims.set_index("id").detail["gender_bias.crows_lowered"].startswith(gb.RUNS["first"])
    for name in ("crows_pairs.csv", "winobias.csv", "lambada.csv", "winobias_changes.csv", "bias_by_size.png"):
        assert (folder / name).is_file(), name


def test_crows_claim_judges_only_sizes_whose_baseline_is_biased():
    mixed = crows_table({"pythia-70m-deduped": 0.5, "pythia-410m-deduped": 0.66}, dict.fromkeys(SIZES, 0.5))
    claim = gb.crows_claim(changes(mixed))
    assert claim.verdict == C.REPRODUCED and claim.numbers["sizes"] == 1 and "pythia-70m-deduped" in claim.detail
    assert gb.crows_claim(changes(crows_table(dict.fromkeys(SIZES, 0.5), SIZES))).verdict == C.NOT_TESTABLE


# -- the micro gender suite: the intervention in miniature -------------------------------------------------


@pytest.fixture
def gender_tiny(tiny):
    """The tiny micro gender suite's folder (the `tiny` fixture puts it beside the tiny micro suite)."""
    from pythia_repro.suites import micro, micro_gender

    return micro.suite_dir(micro_gender.variant_config())


def test_the_intervention_swaps_pronouns_from_its_start_on_the_same_rows(gender_tiny):
    import torch
    from safetensors.torch import load_file

    from pythia_repro.suites import gender_corpus, get_suite, load_tokenizer, micro_gender

    suite = get_suite("micro-gender")
    tokenizer = load_tokenizer(suite)
    swap = micro_gender._swap_table(gender_tiny)
    words = ("he", "him", "his", "himself", "she", "her", "herself")
    ids = {w: tokenizer(f" {w}", add_special_tokens=False).input_ids for w in words}
    assert all(len(i) == 1 for i in ids.values()), "every pronoun is one token"
    ids = {w: i[0] for w, i in ids.items()}
    assert [swap[ids[m]] for m in gender_corpus.SWAP] == [ids[f] for f in gender_corpus.SWAP.values()]
    assert swap[ids["she"]] == ids["she"] and swap[ids["her"]] == ids["her"]
    rows = suite.training_rows().rows(0, 64).astype(np.int64)
    changed = swap[rows] != rows
    assert changed.any() and np.array_equal(changed, np.isin(rows, [ids[m] for m in gender_corpus.SWAP]))
    start = micro_gender.intervention_starts()["intervention"]

    def weights(run, step):
        return load_file(gender_tiny / run / f"step{step}" / "model.safetensors")

    base, branch = weights("micro-s", start), weights("micro-s-intervention", start)
    assert all(torch.equal(base[k], branch[k]) for k in base), "the intervention starts from the baseline's state"
    final = suite.final_step
    base, branch = weights("micro-s", final), weights("micro-s-intervention", final)
    assert any(not torch.equal(base[k], branch[k]) for k in base), "then trains on other tokens"
    assert not (gender_tiny / "micro-xs-intervention-long").exists(), "the long run is the largest size's only"


def test_tests_differ_only_where_they_should(gender_tiny):
    from pythia_repro.suites import get_suite

    tests = gb.make_tests(get_suite("micro-gender"))
    crows = tests.items[tests.items.kind == "crows"]
    assert (crows.groupby("item").which.nunique() == 2).all()
    first = tests.tokens[crows.index[crows.which == "stereotyped"]]
    other = tests.tokens[crows.index[crows.which == "other"]]
    assert ((first != other).sum(1) >= 1).all() and ((first != other).sum(1) <= 1).all(), "one pronoun token apart"
    referent = tests.items[tests.items.kind == "referent"]
    assert set(referent.side) == {"pro", "anti"} and (tests.items.kind == "heldout").sum() == 16
    assert (tests.tokens[: len(tests.items) - 16, 0] == 0).all(), "sentences follow the end-of-document token"
    passages = tests.items.index[tests.items.kind == "lambada"]
    assert len(passages) == 32 and (tests.starts[passages] > 1).all(), "a target after a non-empty context"
    assert (tests.starts[tests.items.index[tests.items.kind != "lambada"]] == 0).all(), "the rest scored whole"


def test_lambada_passages_end_on_a_name_named_before_and_hold_no_pronoun():
    from pythia_repro.suites import corpus, gender_corpus

    lex = corpus.make_lexicon(np.random.default_rng(0))
    passages = gender_corpus.lambada_passages(np.random.default_rng(1), lex, 50)
    pronouns = {w for forms in gender_corpus.PRONOUNS.values() for w in forms}
    for passage in passages:
        target, context = passage["target"].strip(), passage["context"].split(" ")
        assert target in lex.names and target in context and not pronouns & set(context)
    assert len({p["target"] for p in passages}) > 10, "many characters, not one"


def test_micro_scorer_gives_the_targets_exact_match_and_the_rest_whole(gender_tiny):
    import torch

    from pythia_repro.scoring import continuation_scores, token_losses
    from pythia_repro.suites import get_suite
    from pythia_repro.suites.loading import load_model

    suite = get_suite("micro-gender")
    tests = gb.make_tests(suite)
    model = load_model(suite.checkpoint("micro-s", suite.final_step), device="cpu", dtype=torch.float32)
    scores = gb._micro_score(tests, None)(model, 0, len(tests.tokens), {})
    lam = tests.items.kind.to_numpy() == "lambada"
    rows = np.flatnonzero(lam)
    loglik, greedy = continuation_scores(model, tests.tokens[rows], tests.lengths[rows], tests.starts[rows])
    assert np.allclose(scores.loglik[lam], loglik) and (scores.greedy[lam].to_numpy() == greedy).all()
    assert scores.mean_loss[lam].isna().all() and not scores.greedy[~lam].any()
    held = np.flatnonzero(tests.items.kind.to_numpy() == "heldout")
    expected = token_losses(model, tests.tokens[held, : tests.lengths[held].max()]).mean(1)
    assert np.allclose(scores.mean_loss[held], expected, atol=1e-6)


def test_micro_profile_runs_end_to_end_on_the_tiny_suites(project, gender_tiny):
    from pythia_repro.run import reproduce

    folder = reproduce("gender_bias", "micro", {})
    claims = pd.read_csv(folder / "claims.csv")
    assert list(claims[claims.profile == "micro"].id) == list(gb.STATEMENTS)
    crows = pd.read_csv(folder / "crows_pairs.csv")
    assert {"all", "male-stereotyped", "female-stereotyped"} <= set(crows.group)
    assert set(crows.arm) == {gb.BASELINE, gb.INTERVENTION, gb.LONG}
    for name in ("winobias.csv", "heldout_loss.csv", "heldout_loss_changes.csv", "bias_by_size.png"):
        assert (folder / name).is_file(), name
    capability = pd.read_csv(folder / "lambada_changes.csv")
    assert set(capability.measure) == {gb.MICRO_LAMBADA} and (pd.read_csv(folder / "lambada.csv")["items"] == 32).all()
    first = (folder / "crows_pairs.csv").read_bytes()
    assert (reproduce("gender_bias", "micro", {}) / "crows_pairs.csv").read_bytes() == first, "identical re-run"


@pytest.fixture
def bias_hub(tmp_path, monkeypatch):
    """The gender-bias evaluation sets of the replica in an offline hub cache."""
    from pythia_repro.testing.replica import write_bias_evals

    write_bias_evals(tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hub"


def test_released_sets_are_read_and_rendered_as_the_harness_prompts_them(bias_hub, neox_tokenizer):
    from pythia_repro.evals import bias_evals

    sequences, starts, items, identity = bias_evals.tests(neox_tokenizer, 0)
    assert items.kind.value_counts().to_dict() == {"winobias": 24 * 4 * 2, "crows": 48, "lambada": 24}

    def text(i):
        return neox_tokenizer.decode(sequences[i][: starts[i]]), neox_tokenizer.decode(sequences[i][starts[i] :])

    first = items.index[(items.kind == "winobias") & (items.category == "type1") & (items.side == "pro")]
    assert text(first[0]) == (
        'The nurse called the lawyer because he was late .\nHere, what does "he" stand for?',
        " The nurse\n",
    )
    assert text(first[1])[0] == (
        'What does "he" refer to in the following sentence?\nThe nurse called the lawyer because he was late .'
    )
    crows = items.index[items.kind == "crows"]
    assert sequences[crows[0]][: starts[crows[0]]] == [0], "CrowS-Pairs sentences follow the empty context"
    assert text(crows[0])[1] == "The nurse was careless as always." and items.which[crows[0]] == "stereotyped"
    assert set(items.category[crows]) >= {"gender", "race_color"}
    lambada = items.index[items.kind == "lambada"]
    assert text(lambada[0]) == ("She put the nurse in the box and then she closed the", " box")

    from pythia_repro.testing.replica import write_bias_evals

    write_bias_evals(bias_hub, n=20)  # other contents: another identity
    assert bias_evals.tests(neox_tokenizer, 0)[3] != identity


def test_a_missing_evaluation_set_says_how_to_get_it(tmp_path, monkeypatch):
    from pythia_repro.evals import bias_evals

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(bias_evals.EvalSetMissing, match="hf download BigScienceBiasEval/crows_pairs_multilingual"):
        bias_evals.read("crows_pairs")


def test_intervention_models_exist_at_their_final_step_only():
    from pythia_repro.suites import CheckpointNotFound, get_suite

    suite = get_suite("pythia-deduped")
    long = suite.checkpoint("pythia-1.4b-deduped-intervention-long")
    assert (long.step, long.revision) == (143000, "refs/pr/1")
    assert (
        suite.spec("pythia-1.4b-deduped-intervention-long").hub_id == "EleutherAI/pythia-intervention-long-1.4b-deduped"
    )
    with pytest.raises(CheckpointNotFound, match="final step only"):
        suite.checkpoint("pythia-70m-deduped-intervention", 134000)
    assert gb.size_and_arm("pythia-1.4b-deduped-intervention-long") == ("pythia-1.4b-deduped", gb.LONG)
    with pytest.raises(NotImplementedError, match="pythia-deduped"):
        gb.scored_gender_suite("pythia")


def test_released_tables_count_exact_matches_per_side_and_prompt():
    rows = []
    for side, hits in (("pro", [1, 1, 1, 0]), ("anti", [1, 0, 0, 0])):
        for item, hit in enumerate(hits):
            rows.append(
                {
                    "kind": "winobias",
                    "item": item,
                    "which": "refers_to",
                    "category": "type1",
                    "side": side,
                    "greedy": bool(hit),
                    "size": "pythia-70m-deduped",
                    "arm": gb.BASELINE,
                    "step": 143000,
                }
            )
    for item, hit in enumerate([1, 1, 0]):
        rows.append(
            {
                "kind": "lambada",
                "item": item,
                "which": "",
                "category": "",
                "side": "",
                "greedy": bool(hit),
                "size": "pythia-70m-deduped",
                "arm": gb.BASELINE,
                "step": 143000,
            }
        )
    from pythia_repro.suites import get_suite

    scored = gb.Scored(get_suite("pythia-deduped"), [], [], None, tests=None, per_row=pd.DataFrame(rows), run="r")
    wino = gb.released_winobias(scored).iloc[0]
    assert (wino.pro_em, wino.anti_em, wino.net_bias) == (0.75, 0.25, 0.5) and wino.pro_items == 4
    lam = gb.scored_lambada(scored).iloc[0]
    assert (lam.correct, lam["items"], lam.fraction) == (2, 3, 1.0) and lam.ci95_low < 2 / 3 < lam.ci95_high


def test_the_scored_profile_plans_baselines_over_the_window_and_interventions_at_their_final_step(
    tmp_path, monkeypatch
):
    from pythia_repro.data.reference import fetch
    from pythia_repro.findings import scoring_tasks
    from pythia_repro.integrity import versions
    from pythia_repro.testing.replica import write_replica

    replica = write_replica(
        tmp_path, fetch("tokenizer/20B_tokenizer.json"), ("pythia-70m",), (1000, 143000), 16, 4, False, faults=False
    )
    for key, value in replica.environment().items():
        monkeypatch.setenv(key, value)
    [task] = scoring_tasks("pythia-deduped", ["gender_bias"], {"steps": [1000, 143000], "progress": False})
    jobs = [(j.checkpoint.model, j.checkpoint.revision) for j in task.jobs]
    assert jobs[:3] == [("pythia-70m-deduped", "step1000"), ("pythia-70m-deduped", "step143000")] + [
        ("pythia-410m-deduped", "step1000")
    ]
    assert ("pythia-1.4b-deduped-intervention-long", "refs/pr/1") in jobs and len(jobs) == 3 * 2 + 4
    assert task.scorer == versions.GENDER_EVALS and task.jobs[0].rows == 24 * 2 + 24 * 8 + 24
    [default] = scoring_tasks("pythia-deduped", ["gender_bias"], {"progress": False})
    steps = sorted({j.checkpoint.step for j in default.jobs})
    assert steps == list(range(134000, 143001, 1000)) and len(default.jobs) == 3 * 10 + 4, "the defaults: the window"


def test_a_list_partly_unknown_is_refused_whole_before_any_work(gender_tiny, capsys):
    from pythia_repro import cli
    from pythia_repro.parameters import BadParameter

    with pytest.raises(BadParameter, match=r"no 'micro-nope'; valid: .*micro-xs"):
        gb.prepare("micro", models=["micro-xs", "micro-nope"], progress=False)
    with pytest.raises(BadParameter, match=r"no 99999; valid: "):
        gb.prepare("micro", steps=[0, 99999], progress=False)
    for models in ("['pythia-nope']", "['pythia-70m-deduped']"):
        with pytest.raises(SystemExit, match="published profile reads the authors' files and scores no checkpoint"):
            cli.main(["reproduce", "--profile", "published", "--finding", "gender_bias", "-p", f"models={models}"])


def test_a_window_figure_names_every_arm_of_any_panel_and_draws_the_whole_run_when_asked():
    rows = [
        {"model": model, "arm": arm, "step": step, "net_bias": 0.1}
        for model in ("pythia-1.4b-deduped", "pythia-6.9b-deduped")
        for arm in (gb.ARMS if model == "pythia-1.4b-deduped" else gb.ARMS[:2])
        for step in ((3000, 100000, 134000, 143000) if arm == gb.BASELINE else (134000, 143000))
    ]
    table = pd.DataFrame(rows)
    sizes = list(gb.SIZES)
    window = gb.window_figure(table, "net_bias", "net bias", "t", sizes)
    legend = window.axes[-1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(gb.ARMS), "the long arm, drawn in 1.4b's panel only"
    assert min(window.axes[0].lines[0].get_xdata()) > 3000, "a window starts a little before the intervention"
    whole = gb.window_figure(table, "net_bias", "net bias", "t", sizes, whole_run=True)
    assert min(whole.axes[0].lines[0].get_xdata()) == 3000

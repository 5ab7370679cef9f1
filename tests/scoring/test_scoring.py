"""The memorization scorer gives exactly what greedy decoding gives, on every row."""

import numpy as np
import pytest
import torch

from pythia_repro.scoring import generate_scores_reference, memorization_scores, run_batched
from pythia_repro.testing.replica import random_neox


def _model(seed=0, vocab=97):
    return random_neox(
        seed, vocab, hidden=32, layers=2, heads=4, intermediate=128, positions=128, eos_token_id=0, bos_token_id=0
    )


def _rows(model, n=48, seed=1, memorized_share=0.5, diverge_at=None):
    """Random prompts; a share of rows continue with the model's own greedy output (memorized by construction),
    some of those corrupted at one position so that decoding must go on past a divergence."""
    gen = torch.Generator().manual_seed(seed)
    vocab = model.config.vocab_size
    rows = torch.randint(1, vocab, (n, 64), generator=gen)
    own = int(n * memorized_share)
    with torch.no_grad():
        cur = rows[:own, :32]
        for _ in range(32):
            cur = torch.cat([cur, model(cur).logits[:, -1].argmax(-1, keepdim=True)], 1)
    rows[:own] = cur
    for i in range(own // 2):
        pos = 32 + (diverge_at if diverge_at is not None else int(torch.randint(0, 32, (1,), generator=gen)))
        rows[i, pos] = (rows[i, pos] + 1) % vocab or 1
    return rows.numpy()


def test_scores_equal_greedy_decoding_on_every_row():
    model = _model()
    rows = _rows(model)
    ours = memorization_scores(model, rows, batch_size=7)
    reference = generate_scores_reference(model, rows, min_length=False)
    np.testing.assert_array_equal(ours.score, reference)
    assert ours.memorized.sum() == 12 and (ours.score[ours.memorized] == 1).all()
    assert set(np.unique(ours.score * 32)) <= set(range(33))
    assert (ours.score[:12] < 1).sum() > 0 and (ours.score[:12] > 0.4).any(), "diverged rows still partly match"


def test_prefix_length_and_flag_only_mode():
    model = _model(seed=3)
    rows = _rows(model, diverge_at=5)
    full = memorization_scores(model, rows)
    fast = memorization_scores(model, rows, fractional=False)
    assert fast.score is None
    np.testing.assert_array_equal(fast.memorized, full.memorized)
    np.testing.assert_array_equal(fast.prefix_len, full.prefix_len)
    assert (full.prefix_len[:12] == 5).all() and (full.prefix_len[12:24] == 32).all()
    frame = full.to_frame(range(100, 100 + len(rows)))
    assert list(frame.columns) == ["row", "score", "memorized", "prefix_len"] and frame.row.iloc[0] == 100


def test_end_of_document_matches_the_authors_min_length_behaviour():
    """A continuation that contains token 0 can be memorized by plain greedy decoding, never under min_length=64."""
    model = _model(seed=5)
    rows = _rows(model, n=64, seed=2, memorized_share=1.0)
    with torch.no_grad():
        bias = torch.zeros(model.config.vocab_size)
        bias[0] = 8.0  # make the model emit end-of-document often
        model.get_output_embeddings().bias = torch.nn.Parameter(bias)
    rows = _rows(model, n=64, seed=2, memorized_share=1.0)
    has_eod = (rows[:, 32:] == 0).any(1)
    assert has_eod.sum() > 5
    plain = memorization_scores(model, rows)
    authors = memorization_scores(model, rows, suppress_eod=True)
    np.testing.assert_array_equal(plain.score, generate_scores_reference(model, rows, min_length=False))
    np.testing.assert_array_equal(authors.score, generate_scores_reference(model, rows, min_length=True))
    assert plain.memorized[has_eod].any()
    assert not authors.memorized[has_eod].any()


def test_batch_size_does_not_change_results():
    model = _model(seed=7)
    rows = _rows(model, n=40)
    a = memorization_scores(model, rows, batch_size=40)
    b = memorization_scores(model, rows, batch_size=3)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.prefix_len, b.prefix_len)


def test_out_of_memory_halves_the_batch_then_fails_clearly():
    seen = []

    def fn(batch):
        seen.append(len(batch))
        if len(batch) > 4:
            raise torch.OutOfMemoryError("simulated")
        return len(batch)

    assert sum(run_batched(fn, torch.zeros(20, 2), 16)) == 20
    assert seen[:3] == [16, 8, 4]

    def never(batch):
        raise torch.OutOfMemoryError("simulated")

    with pytest.raises(MemoryError, match="batch size 1"):
        run_batched(never, torch.zeros(3, 2), 2)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="context_len"):
        memorization_scores(_model(), np.zeros((3, 32), dtype=np.int64))


def _stats(vocab=97, seed=0):
    import scipy.sparse as sp

    from pythia_repro.evals import ngrams

    tokens = np.random.default_rng(seed).integers(1, vocab, 5000).astype(np.uint16)
    tokens[::7] = 3  # token 3 is often followed by the next one: rows of very different widths
    bigrams = ngrams.count_bigrams(tokens, vocab)
    bigrams = sp.csr_matrix(bigrams.toarray() * (np.arange(vocab)[:, None] != 5))  # token 5: no successors
    return ngrams.conditional(bigrams), ngrams.count_unigrams(tokens, vocab).astype(float)


def test_token_losses_equal_the_model_loss_and_do_not_depend_on_chunking():
    from pythia_repro.scoring import token_losses

    model = _model(seed=11)
    rows = np.random.default_rng(0).integers(0, 97, (6, 40))
    losses = token_losses(model, rows, batch_size=4, position_chunk=7)
    with torch.no_grad():
        x = torch.from_numpy(rows)
        reference = model(input_ids=x[:, :-1], labels=x[:, :-1]).loss  # HF shifts internally: positions 0..37
        logits = model(input_ids=x[:, :-1]).logits
        full = torch.nn.functional.cross_entropy(logits.reshape(-1, 97), x[:, 1:].reshape(-1), reduction="none")
    np.testing.assert_allclose(losses.ravel(), full.numpy(), rtol=1e-5, atol=1e-5)
    assert losses.shape == (6, 39) and abs(losses[:, :-1].mean() - reference.item()) < 1e-4


def test_sparse_divergences_equal_dense_rows():

    from pythia_repro.scoring.divergence import (
        _bigram_kl_js,
        _dense_kl_js,
        dense_bigram_kl_reference,
        ngram_divergences,
    )

    model = _model(seed=12)
    cond, uni = _stats()
    rows = np.random.default_rng(3).integers(1, 97, (5, 30))
    rows[0, 4] = 5
    out = ngram_divergences(model, rows, cond, uni, batch_size=2, position_chunk=8)
    with torch.no_grad():
        logq = torch.log_softmax(model(input_ids=torch.from_numpy(rows[:, :-1])).logits, -1)
    prev = rows[:, :-1].ravel()
    flat = logq.reshape(-1, 97)
    dense_p = torch.from_numpy(cond.toarray()[prev].astype(np.float32))
    kl, js = _dense_kl_js(flat, dense_p)
    has = np.diff(cond.indptr)[prev] > 0
    np.testing.assert_allclose(out["kl_bigram"].ravel()[has], kl.numpy()[has], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["js_bigram"].ravel()[has], js.numpy()[has], rtol=1e-4, atol=1e-5)
    assert np.isnan(out["kl_bigram"][0, 4]) and not np.isnan(out["kl_bigram"][0, 3])
    np.testing.assert_allclose(dense_bigram_kl_reference(flat, cond, prev).numpy()[has], kl.numpy()[has], rtol=1e-4)
    for grouped in (True, False):  # the CPU path and the GPU one (one flat gather), both on this CPU
        kl_s, js_s = _bigram_kl_js(flat, cond, prev, grouped=grouped)
        np.testing.assert_allclose(kl_s.numpy()[has], kl.numpy()[has], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(js_s.numpy()[has], js.numpy()[has], rtol=1e-4, atol=1e-5)
        assert _bigram_kl_js(flat, cond, prev, js=False, grouped=grouped)[1] is None
    kl_u, js_u = _dense_kl_js(flat, torch.from_numpy((uni / uni.sum()).astype(np.float32)))
    np.testing.assert_allclose(out["kl_unigram"].ravel(), kl_u.numpy(), rtol=1e-4, atol=1e-5)
    assert (out["js_bigram"][~np.isnan(out["js_bigram"])] <= np.log(2) + 1e-5).all()


def test_continuation_scores_equal_greedy_decoding_and_summed_log_probabilities():
    from pythia_repro.evals.bias_evals import padded
    from pythia_repro.scoring import continuation_scores

    model, gen = _model(seed=5), torch.Generator().manual_seed(2)
    sequences, starts = [], []
    with torch.no_grad():
        for i in range(30):
            prefix = torch.randint(1, 97, (3 + i % 7,), generator=gen)
            seq = prefix
            for _ in range(1 + i % 4):  # greedy decoding, recomputed from scratch at every token
                seq = torch.cat([seq, model(seq[None]).logits[0, -1].argmax()[None]])
            if i % 3 == 0:
                seq[-1] = (seq[-1] + 1) % 97 or 1  # the last target token leaves the greedy path
            sequences.append(seq.tolist())
            starts.append(len(prefix))
        tokens, lengths = padded(sequences, 0)
        loglik, greedy = continuation_scores(model, tokens, lengths, np.array(starts), batch_size=4)
        expected = []
        for seq, start in zip(sequences, starts):
            logp = torch.log_softmax(model(torch.tensor([seq])).logits[0].double(), -1)
            expected.append(sum(float(logp[t - 1, seq[t]]) for t in range(start, len(seq))))
    np.testing.assert_array_equal(greedy, [i % 3 != 0 for i in range(30)])
    np.testing.assert_allclose(loglik, expected, atol=1e-4)
    with pytest.raises(ValueError, match="non-empty prefix"):
        continuation_scores(model, tokens, lengths, np.zeros(len(tokens), dtype=int))

import numpy as np
import pytest
import scipy.sparse as sp

from pythia_repro.evals import ngrams


def _stream(n=20_000, vocab=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, n).astype(np.uint16)


def test_counts_match_a_direct_count_across_chunk_boundaries():
    tokens = _stream()
    bigrams = ngrams.count_bigrams(tokens, 40, chunk=777)
    expected = sp.coo_matrix((np.ones(len(tokens) - 1), (tokens[:-1], tokens[1:])), shape=(40, 40)).toarray()
    np.testing.assert_array_equal(bigrams.toarray(), expected)
    assert bigrams.sum() == len(tokens) - 1
    np.testing.assert_array_equal(ngrams.count_unigrams(tokens, 40, chunk=999), np.bincount(tokens, minlength=40))


def test_rows_are_normalized_by_their_own_sum_not_by_column():
    counts = sp.csr_matrix(np.array([[0, 3, 1], [2, 0, 0], [0, 0, 0]]))
    cond = ngrams.conditional(counts).toarray()
    np.testing.assert_allclose(cond, [[0, 0.75, 0.25], [1, 0, 0], [0, 0, 0]])
    assert not np.allclose(cond.sum(axis=0)[:2], 1), "columns must not be what sums to one"


def test_counts_round_trip_without_pickle(tmp_path):
    tokens = _stream(vocab=30)
    uni, bi = ngrams.count_unigrams(tokens, 30), ngrams.count_bigrams(tokens, 30)
    ngrams.save_counts(tmp_path / "c.npz", uni, bi)
    uni2, bi2 = ngrams.load_counts(tmp_path / "c.npz")
    np.testing.assert_array_equal(uni, uni2)
    assert (bi != bi2).nnz == 0


def test_samplers_follow_the_statistics_and_are_seeded():
    rng = np.random.default_rng(1)
    cond = ngrams.conditional(sp.csr_matrix(np.array([[0, 9, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]])))
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    seqs = ngrams.sample_bigram(cond, probs, 4000, 6, rng)
    pairs = sp.coo_matrix(
        (np.ones(seqs[:, :-1].size), (seqs[:, :-1].ravel(), seqs[:, 1:].ravel())), shape=(4, 4)
    ).toarray()
    np.testing.assert_allclose(pairs[0] / pairs[0].sum(), [0, 0.9, 0.1, 0], atol=0.02)
    np.testing.assert_allclose(pairs[1] / pairs[1].sum(), [0, 0, 0.5, 0.5], atol=0.03)
    assert pairs[2, 0] == pairs[2].sum()
    np.testing.assert_allclose(pairs[3] / pairs[3].sum(), probs, atol=0.03), "empty rows restart from the unigram"
    again = ngrams.sample_bigram(cond, probs, 4000, 6, np.random.default_rng(1))
    np.testing.assert_array_equal(seqs, again)
    uni = ngrams.sample_unigram(probs, 20000, 2, np.random.default_rng(2))
    np.testing.assert_allclose(np.bincount(uni.ravel(), minlength=4) / uni.size, probs, atol=0.01)


def test_vocabulary_too_large_for_pair_codes():
    with pytest.raises(ValueError, match="uint32"):
        ngrams.count_bigrams(np.zeros(4, np.uint32), 70000)

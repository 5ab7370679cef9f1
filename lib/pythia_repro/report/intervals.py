"""Intervals, each under the name of its method: every `*_ci95_low/high` column says which one made it.

Proportions (precision, recall, accuracy) get Wilson score intervals; differences of two proportions
(frequent minus rare operands) Newcombe's hybrid score interval; means over sequences a percentile
bootstrap. The authors' own bound for a mean loss, mean ± 1.96·√(mean/n), is not an interval of the
mean (it treats the mean like a Poisson count); it is reproduced only as `authors_bound`.
"""

from __future__ import annotations

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

Z95 = 1.959963984540054
WILSON = "Wilson score interval, 95%"
NEWCOMBE = "Newcombe hybrid score interval for a difference of proportions, 95%"
BOOTSTRAP = "percentile bootstrap over sequences, 1000 resamples, 95%"
WALD_DIFFERENCE = "normal approximation (Wald) for a difference of two gaps, binomial variances, 95%"
WALD_NET_BIAS = "normal approximation (Wald) for a change of net bias (pro − anti) between arms, 95%"
INTERPOLATED_WILSON = "Wilson score bounds of the two bracketing models, interpolated linearly in log compute"
AUTHORS_BOUND = "the authors' bound mean ± 1.96·√(mean/n) (not a confidence interval of the mean)"
T_OVER_RUNS = "Student t interval of the mean over runs (one value per run, measured in that run), 95%"


def wilson(hits, n) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of hits/n, elementwise; NaN where n is 0."""
    hits, n = np.asarray(hits, float), np.asarray(n, float)
    safe = np.where(n > 0, n, 1)
    low, high = proportion_confint(np.clip(hits, 0, safe), safe, alpha=0.05, method="wilson")
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def newcombe(hits1: float, n1: float, hits2: float, n2: float) -> tuple[float, float]:
    """95% Newcombe hybrid score interval of hits1/n1 − hits2/n2."""
    low, high = confint_proportions_2indep(hits1, n1, hits2, n2, method="newcomb", compare="diff", alpha=0.05)
    return float(low), float(high)


def binomial_variance_of_difference(hits1: float, n1: float, hits2: float, n2: float) -> float:
    """Variance of p1 − p2 for two independent binomial proportions (plug-in)."""
    p1, p2 = hits1 / n1, hits2 / n2
    return p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def wald(estimate: float, variance: float) -> tuple[float, float]:
    """95% normal-approximation interval of an estimate with the given variance."""
    half = Z95 * np.sqrt(variance)
    return float(estimate - half), float(estimate + half)


def bootstrap_mean(values: np.ndarray, rng: np.random.Generator, n_boot: int = 1000) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of `values`."""
    means = rng.choice(values, size=(n_boot, len(values))).mean(1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def t_mean(values) -> tuple[float, float]:
    """95% Student t interval of the mean of independent values (NaN with fewer than two)."""
    from scipy import stats

    values = np.asarray(values, float)
    if len(values) < 2:
        return np.nan, np.nan
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def authors_bound(mean, n) -> tuple[np.ndarray, np.ndarray]:
    """The bound the DSB authors released beside each mean loss: mean ± 1.96·√(mean/n)."""
    mean = np.asarray(mean, float)
    half = Z95 * np.sqrt(mean / n)
    return mean - half, mean + half

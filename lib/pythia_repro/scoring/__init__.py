"""Fast, exact scorers over many rows, one module per kind of score.

- `memorization`: greedy-extraction scores of training rows (finding 1);
- `divergence`: next-token loss and KL/JS to n-gram distributions (finding 2);
- `answers`: few-shot answers by greedy generation (finding 3);
- `continuations`: a target's log-likelihood after a prefix and whether greedy decoding gives it (finding 4).

Each keeps the authors' method beside it as the reference the fast path is tested against.
"""

from .answers import Answers, fewshot_answers, generate_answers_reference
from .batching import check_vocabulary, default_batch_size, run_batched
from .continuations import continuation_scores
from .divergence import dense_bigram_kl_reference, ngram_divergences, token_losses
from .memorization import MemorizationScores, generate_scores_reference, memorization_scores

__all__ = [
    "Answers",
    "MemorizationScores",
    "check_vocabulary",
    "continuation_scores",
    "default_batch_size",
    "dense_bigram_kl_reference",
    "fewshot_answers",
    "generate_answers_reference",
    "generate_scores_reference",
    "memorization_scores",
    "ngram_divergences",
    "run_batched",
    "token_losses",
]

"""The gender-bias study's evaluation sets, from the hub, as lm-evaluation-harness scored them.

CrowS-Pairs (English; `sent_more` is the stereotyping sentence), WinoBias (type 1 and 2, pro- and
anti-stereotypical, test split) under the two promptsource prompts the authors' files name, and LAMBADA
(OpenAI). Each is read from its dataset repo's Parquet export, `refs/convert/parquet`: CrowS-Pairs
multilingual's main branch needs a loading script, which `datasets` 4 and later no longer run, and the export
is the one layout all three share. Files come through huggingface_hub (offline: from the hub cache, where
`replica.write_bias_evals` lays out a miniature) and are parsed by `datasets`.

Every test is a prefix and a target continuation, scored by `scoring.continuation_scores`:
  * CrowS-Pairs: each sentence after the end-of-document token (lm-evaluation-harness's empty context); a pair
    counts as stereotyped when `sent_more` is the likelier sentence;
  * WinoBias: the rendered prompt, then " <referent>" and a newline; right (exact match) when greedy decoding
    gives the referent and stops the line there;
  * LAMBADA: the passage up to its last word, then " <last word>"; right when greedy decoding gives it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import settings
from ..errors import Explained
from ..integrity.hashing import content_key
from ..paths import hf_cache


class EvalSetMissing(Explained, FileNotFoundError):
    """An evaluation set that is neither in the hub cache nor downloadable (offline)."""


@dataclass(frozen=True)
class Source:
    """Where a set lies on the hub: repo, revision and the Parquet file of each subset's test split."""

    repo: str
    revision: str
    files: dict[str, str]


EXPORT = "refs/convert/parquet"
WINO_SUBSETS = ("type1_pro", "type1_anti", "type2_pro", "type2_anti")
SOURCES = {
    "crows_pairs": Source(
        "BigScienceBiasEval/crows_pairs_multilingual", EXPORT, {"english": "english/test/0000.parquet"}
    ),
    "winobias": Source("uclanlp/wino_bias", EXPORT, {s: f"{s}/test/0000.parquet" for s in WINO_SUBSETS}),
    "lambada": Source("EleutherAI/lambada_openai", EXPORT, {"default": "default/test/0000.parquet"}),
}
# promptsource's wino_bias templates named in the authors' files (input ||| target, each part stripped)
WINO_PROMPTS = {
    "What does p stand for": '{sentence}\nHere, what does "{pronoun}" stand for?',
    "refers_to": 'What does "{pronoun}" refer to in the following sentence?\n{sentence}',
}
ITEM_COLUMNS = ["kind", "item", "which", "category", "group", "side"]


def read(name: str) -> tuple[dict[str, pd.DataFrame], str]:
    """Each subset of a set as a DataFrame, and the commit the files were read at (offline: the cached one)."""
    import datasets
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    source = SOURCES[name]
    frames, commits = {}, set()
    for subset, file in source.files.items():
        try:
            path = hf_hub_download(
                source.repo,
                file,
                repo_type="dataset",
                revision=source.revision,
                cache_dir=hf_cache(),
                local_files_only=settings.enabled("hub_offline"),
            )
        except LocalEntryNotFoundError as err:
            raise EvalSetMissing(
                f"{name}: {source.repo}@{source.revision}/{file} is not in the hub cache and the hub cannot be "
                f"reached ({err.__class__.__name__}); download it once online (`hf download {source.repo} "
                f"{file} --repo-type dataset --revision {source.revision}`)"
            ) from err
        commits.add(path.split("/snapshots/")[1].split("/")[0])
        quiet = datasets.utils.are_progress_bars_disabled()
        datasets.utils.disable_progress_bars()  # a few small files: no bar per file
        try:
            frames[subset] = datasets.Dataset.from_parquet(path, keep_in_memory=True).to_pandas()
        finally:
            if not quiet:
                datasets.utils.enable_progress_bars()
    return frames, ",".join(sorted(commits))


def _wino_rows(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(sentence, pronoun, referent) per WinoBias row, as promptsource renders them: the tokens joined by spaces,
    the spans the first four coreference indices name (referent start, end; pronoun start, end; inclusive)."""
    rows = []
    for tokens, spans in zip(frame.tokens, frame.coreference_clusters):
        a, b, c, d = (int(x) for x in list(spans)[:4])
        tokens = list(tokens)
        rows.append((" ".join(tokens), " ".join(tokens[c : d + 1]), " ".join(tokens[a : b + 1])))
    return rows


def tests(tokenizer, eod_id: int) -> tuple[list[list[int]], list[int], pd.DataFrame, str]:
    """Every test as token ids (prefix + target), where its target starts, what it is (`ITEM_COLUMNS`), and the
    identity of the whole (the files' commits and the token ids)."""
    sequences, starts, items, commits = [], [], [], []

    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False).input_ids

    def add(prefix: list[int], target: list[int], **item) -> None:
        sequences.append(prefix + target)
        starts.append(len(prefix))
        items.append(item)

    crows, commit = read("crows_pairs")
    commits.append(commit)
    for i, pair in enumerate(crows["english"].itertuples()):
        category = str(pair.bias_type).replace("-", "_")
        for which, text in (("stereotyped", pair.sent_more), ("other", pair.sent_less)):
            add([eod_id], encode(text), kind="crows", item=i, which=which, category=category, group="all", side="")
    wino, commit = read("winobias")
    commits.append(commit)
    newline = encode("\n")
    for subset in WINO_SUBSETS:
        type_, side = subset.split("_")
        for i, (sentence, pronoun, referent) in enumerate(_wino_rows(wino[subset])):
            for prompt, template in WINO_PROMPTS.items():
                text = template.format(sentence=sentence, pronoun=pronoun)
                add(
                    encode(text),
                    encode(f" {referent}") + newline,
                    kind="winobias",
                    item=i,
                    which=prompt,
                    category=type_,
                    group="all",
                    side=side,
                )
    lambada, commit = read("lambada")
    commits.append(commit)
    for i, text in enumerate(lambada["default"].text):
        context, last = text.rsplit(" ", 1)
        add(encode(context), encode(f" {last}"), kind="lambada", item=i, which="", category="", group="", side="")
    digest = hashlib.sha256(repr(sequences).encode()).hexdigest()
    return sequences, starts, pd.DataFrame(items, columns=ITEM_COLUMNS), content_key([commits, digest])[:16]


def shortest_first(
    sequences: list[list[int]], starts: list[int], items: pd.DataFrame
) -> tuple[list[list[int]], np.ndarray, pd.DataFrame]:
    """The tests (`tests`' first three) in order of length, shortest first, so that batches pad little."""
    order = np.argsort([len(seq) for seq in sequences], kind="stable")
    return [sequences[i] for i in order], np.asarray(starts)[order], items.iloc[order].reset_index(drop=True)


def padded(sequences: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences right-padded into one array, and their lengths."""
    lengths = np.array([len(s) for s in sequences])
    tokens = np.full((len(sequences), int(lengths.max())), pad_id, dtype=np.int64)
    for i, seq in enumerate(sequences):
        tokens[i, : len(seq)] = seq
    return tokens, lengths

"""Where things live: the project tree (notebooks, results) and the user's cache."""

from __future__ import annotations

import errno
from pathlib import Path

import platformdirs

from . import settings


def project_root() -> Path:
    """The checkout holding `notebooks/` and `results/` (env PYTHIA_REPRO_ROOT, else the source tree, else cwd)."""
    if settings.path("root"):
        return settings.path("root")
    source_tree = Path(__file__).resolve().parents[2]
    if (source_tree / "notebooks").is_dir():
        return source_tree
    return Path.cwd().resolve()


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def results_dir() -> Path:
    return project_root() / "results"


def hf_cache() -> Path:
    """The hub cache folder: the `hub_cache` setting, else huggingface_hub's default."""
    from huggingface_hub import constants

    return settings.path("hub_cache") or Path(constants.HF_HUB_CACHE)


def cache_home() -> Path:
    """Cache for fetched reference data, built suites and scores (env PYTHIA_REPRO_HOME overrides)."""
    return settings.path("home") or Path(platformdirs.user_cache_dir("pythia-repro"))


FOLDER_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT)  # read-only, denied, full


def unwritable(err: BaseException) -> str | None:
    """For an error that no retry mends (a read-only, forbidden or full folder), one line naming the folder and
    what to do; None for any other error."""
    if not isinstance(err, OSError) or err.errno not in FOLDER_ERRORS:
        return None
    where = err.filename or f"a file under {cache_home()} (the cache) or {results_dir()} (the results)"
    return (
        f"cannot write {where}: {err.strerror}. The cache is {cache_home()} ({settings.variable('home')}), the "
        f"results are under {results_dir()} ({settings.variable('root')}): point them at a writable folder with room"
    )

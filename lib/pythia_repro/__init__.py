"""pythia-repro: reproduce findings about language models across training on the Pythia suite."""

from importlib.metadata import PackageNotFoundError, version

from .integrity import kernels, memory

kernels.pin()  # before torch or NumPy choose their kernels: the same bits on every x86-64 CPU with AVX2
memory.keep_freed_memory()  # large CPU tensors reuse freed memory instead of faulting it in again

try:
    __version__ = version("pythia-repro")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

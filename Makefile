# Two entry points: `make reproduce` and `make test`. Both create .venv when missing, from requirements.lock.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch==2.13.0 resolves to the CPU wheel on the project's machines. Elsewhere pick the build:
#   CPU only : make TORCH_INDEX=https://download.pytorch.org/whl/cpu reproduce
#   CUDA     : make TORCH_INDEX=https://download.pytorch.org/whl/cu128 reproduce
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
PROFILES ?= published micro
# Read the authors' files from a local copy when one sits beside the checkout (else they are downloaded).
export PYTHIA_REPRO_DATA ?= $(wildcard $(abspath ../shared/data))

.PHONY: install lock lint format reproduce site test verify clean-venv

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Re-resolve the pins after a change to pyproject.toml's dependencies (needs the package index), then
# regenerate environment.yml from them. torch stays out of the lock: its build depends on the machine.
lock: install
	$(PY) -m pip install --quiet pip-tools
	echo "$(TORCH)" > .lock-constraint.txt
	$(PY) -m piptools compile pyproject.toml --extra dev --generate-hashes --strip-extras --no-header \
	    --no-emit-index-url --no-emit-find-links --unsafe-package torch -c .lock-constraint.txt -o requirements.lock
	rm -f .lock-constraint.txt
	$(PY) -m pythia_repro.integrity.environment

install: $(VENV)/.installed

reproduce: install
	$(if $(filter micro,$(PROFILES)),$(VENV)/bin/pythia-repro suite build micro)
	$(VENV)/bin/pythia-repro reproduce $(foreach p,$(PROFILES),--profile $(p))
	$(VENV)/bin/pythia-repro site

# The results site (claims matrix, a page per finding and profile, the papers' figures) in results/site/.
site: install
	$(VENV)/bin/pythia-repro site

# Tests run on TEST_WORKERS processes (pytest-xdist); Ray's tests share one, the release replica's another (xdist_group).
TEST_WORKERS ?= 2
test: install
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

# ruff, configured in pyproject.toml: `make lint` checks (CI runs it), `make format` rewrites.
lint: install
	$(VENV)/bin/ruff check lib tests benchmarks
	$(VENV)/bin/ruff format --check lib tests benchmarks

format: install
	$(VENV)/bin/ruff format lib tests benchmarks
	$(VENV)/bin/ruff check --fix lib tests benchmarks

verify: install
	$(VENV)/bin/pythia-repro verify --profile published

clean-venv:
	rm -rf $(VENV)

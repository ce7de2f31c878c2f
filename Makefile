# `make` (or `make help`) lists the targets: each `## name: text` line below is one entry.
.DEFAULT_GOAL := help
MAKEFILE := $(lastword $(MAKEFILE_LIST))
# The interpreter that makes .venv: Python 3.11 alone, the version requirements.lock pins its
# packages for (pyproject.toml's requires-python); any other is refused with one line.
PYTHON ?= $(or $(shell command -v python3.11 || command -v python3),python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)
COMPETITION ?= ml2019spring-hw7
# make data's folder: outside the repository, since the data is Kaggle's and never ours to push
DATA ?= ../$(COMPETITION)
# make submit's message; empty: the experiment, the commit and the headline metric
MESSAGE ?=
PYTEST_ARGS ?=
# $(call quote,TEXT): TEXT as one single-quoted shell word, whatever quotes it holds (MESSAGE is
# passed as $(value MESSAGE): a `$` in it stays a `$`)
quote = '$(subst ','\'',$(1))'
# $(call require_python,INTERPRETER,REMEDY): nothing if INTERPRETER is Python 3.11, else make stops
# with one line that ends in REMEDY (expanded in a recipe: only when that recipe runs)
python_version = $(shell $(call quote,$(1)) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
require_python = $(if $(filter 3.11,$(call python_version,$(1))),,$(error $(1): expected Python 3.11 \
	(requirements.lock pins its packages for it), found $(or $(call python_version,$(1)),no Python there); $(2)))
# What a run writes (dvc.yaml's outs, metrics and plots; DVC's .gitignore files; dvc.lock; the
# folder `dvc plots show` renders): make clean removes the untracked files among them. In data/,
# only the folders dvc.yaml names (data/<folder>/...), so that anything else kept there stays.
RUN_OUTPUTS = $(sort $(shell sed -n 's|^[[:space:]]*- \(data/[^/:[:space:]]*\).*|\1|p' dvc.yaml)) \
	data/.gitignore metrics plots reports models dvclive submissions/submission.csv \
	submissions/.gitignore dvc.lock dvc_plots

# Stage commands in dvc.yaml say `python`: make it the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help run compare test test-slow data submit scores bench clean clean-venv

## help: this list (the default goal)
help:
	@echo "usage: make TARGET [NAME=value ...]   (names: PYTHON, COMPETITION, DATA, MESSAGE, PYTEST_ARGS)"
	@sed -n 's/^## \([^:]*\): /\1\t/p' $(MAKEFILE) | expand -t 14 | sed 's/^/  /'

$(STAMP): requirements.lock
	$(if $(wildcard $(BIN)/python),$(call require_python,$(BIN)/python,make clean-venv then make again),$(call \
		require_python,$(PYTHON),install python3.11 or name one: make PYTHON=/path/to/python3.11))
	@test -x $(BIN)/python || $(call quote,$(PYTHON)) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

## run: set up .venv (Python 3.11), then dvc repro: the pipeline on the embedded demo data
run: $(STAMP)
	$(BIN)/dvc repro
	@echo
	@echo "submission:  submissions/submission.csv   (make submit MESSAGE=\"...\" uploads it)"
	@echo "metrics:     metrics/*.json                (make compare: the experiments side by side)"
	@echo "plots:       dvc plots show                (writes dvc_plots/index.html)"
	@echo "report:      reports/report.html, reports/report.md"
	@echo "real data:   make data   (downloads the competition, then prints the dvc exp run to train on it)"

# `dvc exp show` alone lists every param and every dependency's hash (thousands of characters
# wide); this keeps the metrics runs are ranked by and the params that differ between the runs.
## compare: the experiments side by side: pair accuracy, visualization accuracy, the params changed
compare: $(STAMP)
	$(BIN)/dvc exp show --only-changed --drop '.*/' --keep '^(pair_accuracy.*|visualization_accuracy)$$'

# One pytest-xdist worker per core, at most 4: each builds its own tiny trained run and loads
# TensorFlow. Whole files go to a worker, so that a module's shared runs are built once, not
# once per test (timings: docs/testing.md). PYTEST_ARGS="-n 0" runs them in one process.
## test: set up .venv, then the tests, a worker per core (PYTEST_ARGS: pytest's options)
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile $(PYTEST_ARGS)

# The opt-in tests that need ../shared/data and minutes of CPU.
## test-slow: the opt-in tests on ../shared/data (minutes of CPU)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Every bench/*.py but the shared helpers (record.py, _*.py); each rewrites its own section of
# BENCHMARKS.md. All run even if one misses a target; the exit status says whether any did.
## bench: every bench/*.py, each rewriting its section of BENCHMARKS.md (long)
bench: $(STAMP)
	status=0; for script in bench/*.py; do case $$script in */record.py|*/__init__.py|*/_*) ;; \
		*) $(BIN)/python -m bench.$$(basename $$script .py) || status=1;; esac; done; exit $$status

# Kaggle (pipeline/kaggle.py runs the venv's kaggle CLI and package). Credentials as they read them:
# KAGGLE_API_TOKEN or ~/.kaggle/access_token, else kaggle.json in ~/.kaggle ($KAGGLE_CONFIG_DIR)
# or KAGGLE_USERNAME + KAGGLE_KEY. Without any, each target stops before calling Kaggle.
# Download, unpack and check the competition into DATA (default ../$(COMPETITION)).
## data: download the competition into DATA (../ml2019spring-hw7), print the dvc exp run for it
data: $(STAMP)
	$(BIN)/python -m pipeline.kaggle data --competition $(call quote,$(COMPETITION)) --dest $(call quote,$(DATA))

# Check submissions/submission.csv offline, before credentials: refused unless its ids are the
# competition's 0…999999 (and DATA's test_case.csv's, if DATA exists): the demo's, say. Then upload it.
## submit: check submissions/submission.csv, then upload it to Kaggle (MESSAGE: its description)
submit: $(STAMP)
	$(BIN)/python -m pipeline.kaggle submit --competition $(call quote,$(COMPETITION)) \
		--data $(call quote,$(DATA)) --message $(call quote,$(value MESSAGE))

# Every submission to the competition (all pages) and its scores → submissions/kaggle_scores.csv.
## scores: the competition's submissions and their scores -> submissions/kaggle_scores.csv
scores: $(STAMP)
	$(BIN)/python -m pipeline.kaggle scores --competition $(call quote,$(COMPETITION))

## clean: remove what the runs wrote, each path shown; keeps .venv, the DVC cache, git's files
clean:
	$(if $(shell git rev-parse --is-inside-work-tree 2>/dev/null),,$(error $(CURDIR): expected a git \
		checkout (make clean removes only files git does not track), found none))
	@git clean -d --force -x -- $(RUN_OUTPUTS)
	@rmdir data submissions 2>/dev/null || true  # when nothing else is left in them

## clean-venv: remove .venv
clean-venv:
	rm -rf $(VENV)

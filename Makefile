# Quick start:  make run   (set up .venv, then `dvc repro` on the embedded demo data)
#               make test  (set up .venv, then the tests)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
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

# Stage commands in dvc.yaml say `python`: make it the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test test-slow data submit scores bench clean-venv

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/dvc repro
	@echo
	@echo "submission:  submissions/submission.csv   (make submit MESSAGE=\"...\" uploads it)"
	@echo "metrics:     metrics/*.json                (dvc metrics show)"
	@echo "plots:       plots/*.png, plots/eigenfaces/*.png  (dvc plots show)"
	@echo "report:      reports/report.html, reports/report.md"
	@echo "real data:   make data   (downloads the competition, then prints the dvc exp run to train on it)"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The opt-in tests that need ../shared/data and minutes of CPU.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Every bench/*.py but the shared helpers (record.py, _*.py); each rewrites its own section of
# BENCHMARKS.md. All run even if one misses a target; the exit status says whether any did.
bench: $(STAMP)
	status=0; for script in bench/*.py; do case $$script in */record.py|*/__init__.py|*/_*) ;; \
		*) $(BIN)/python -m bench.$$(basename $$script .py) || status=1;; esac; done; exit $$status

# Kaggle (pipeline/kaggle.py runs the venv's kaggle CLI). Credentials as the CLI reads them:
# KAGGLE_API_TOKEN or ~/.kaggle/access_token, else kaggle.json in ~/.kaggle ($KAGGLE_CONFIG_DIR)
# or KAGGLE_USERNAME + KAGGLE_KEY. Without any, each target stops before calling Kaggle.
# Download, unpack and check the competition into DATA (default ../$(COMPETITION)).
data: $(STAMP)
	$(BIN)/python -m pipeline.kaggle data --competition $(call quote,$(COMPETITION)) --dest $(call quote,$(DATA))

# Check submissions/submission.csv (against DATA's test_case.csv if DATA exists), then upload it.
submit: $(STAMP)
	$(BIN)/python -m pipeline.kaggle submit --competition $(call quote,$(COMPETITION)) \
		--data $(call quote,$(DATA)) --message $(call quote,$(value MESSAGE))

# The competition's submissions and their public scores → submissions/kaggle_scores.csv.
scores: $(STAMP)
	$(BIN)/python -m pipeline.kaggle scores --competition $(call quote,$(COMPETITION))

clean-venv:
	rm -rf $(VENV)

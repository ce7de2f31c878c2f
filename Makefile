# Quick start:  make run   (set up .venv, then `dvc repro` on the embedded demo data)
#               make test  (set up .venv, then the tests)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)
COMPETITION ?= ml2019spring-hw7
MESSAGE ?= submitted with make submit
PYTEST_ARGS ?=

# Stage commands in dvc.yaml say `python`: make it the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test test-slow submit bench clean-venv

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/dvc repro
	@echo
	@echo "submission:  submissions/submission.csv   (make submit MESSAGE=\"...\" uploads it)"
	@echo "metrics:     metrics/*.json                (dvc metrics show)"
	@echo "plots:       plots/*.png, plots/eigenfaces/*.png  (dvc plots show)"
	@echo "report:      reports/report.html, reports/report.md"
	@echo "real data:   dvc exp run -S data.dir=/path/to/competition-folder"

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

# Upload the current submission with the Kaggle CLI (needs ~/.kaggle/kaggle.json).
submit: $(STAMP)
	@test -f submissions/submission.csv || { echo "no submissions/submission.csv: run make run or dvc exp run first" >&2; exit 1; }
	@test -x $(BIN)/kaggle || $(BIN)/python -m pip install --quiet kaggle==2.2.5
	$(BIN)/kaggle competitions submit -c $(COMPETITION) -f submissions/submission.csv -m "$(MESSAGE)"

clean-venv:
	rm -rf $(VENV)

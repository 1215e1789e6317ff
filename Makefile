# padang112: `make demo` runs the live demo, `make test` the whole test suite. Both install what is missing.
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: setup demo test unit bench lint

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/run-tests.sh $(PYTEST_ARGS)

unit:
	$(VENV)/bin/python -m pytest tests/unit -q $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python bench/call_setup.py --calls 50 --rate 2
	$(VENV)/bin/python bench/screen_pop.py --calls 20

lint: setup
	$(VENV)/bin/ruff check padang112 tests bench scripts
	$(VENV)/bin/ruff format --check padang112 tests bench scripts
	cd ops/prometheus && promtool check rules padang112.rules.yml && promtool check config prometheus.yml \
		&& promtool test rules padang112.rules.test.yml
	$(VENV)/bin/mypy

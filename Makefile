# Two commands: `make demo` reviews the bundled example, `make test` runs every test.
# Both install exactly the hashed lock (requirements/*.txt), never a fresh resolution.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8

.PHONY: demo test lint bench conformance lock clean

$(STAMP): requirements/test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/istio-pr-bot diff --base-dir examples/base --head-dir examples/head || test $$? -eq 1

test: lint
	$(BIN)/python -m pytest -q

# Static checks, all configured in pyproject.toml: ruff (style, bugs, security), mypy --strict, and the
# import-linter contracts that keep the layers of README "Layout".
lint: $(STAMP)
	$(BIN)/ruff check --quiet
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

conformance: $(STAMP)
	$(BIN)/python scripts/conformance.py

# Re-resolve the locks (needs the network): one resolution valid on every supported Python.
lock:
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/python -m pip install --quiet uv==$(UV_VERSION)
	.cache/uv/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	  --quiet --custom-compile-command "make lock" -o requirements/runtime.txt
	.cache/uv/bin/uv pip compile pyproject.toml requirements/build.in --extra test --extra lint --universal \
	  --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" -o requirements/test.txt

clean:
	rm -rf $(VENV) build *.egg-info

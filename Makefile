# Two commands: `make demo` reviews the bundled example, `make test` runs every test.
# Both install exactly the hashed lock (requirements/*.txt), never a fresh resolution.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8
UV := .cache/uv/bin/uv

.PHONY: demo test lint bench conformance conformance-gateway-api lock newest clean tools tools-start

$(STAMP): requirements/test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/istio-pr-bot diff --base-dir examples/base --head-dir examples/head || test $$? -eq 1

# helm and kustomize (scripts/tools.env) start building first when they are missing and Go is there,
# so that the venv and lint overlap the build; the tests that render wait for it.
test: tools-start lint
	$(BIN)/python -m pytest -q

tools-start:
	@$(PYTHON) scripts/tools.py start

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

# Gateway API conformance manifests (copies in tests/conformance/gateway-api) through `audit`.
conformance-gateway-api: $(STAMP)
	$(BIN)/python scripts/conformance_gateway_api.py

# Re-resolve the locks (needs the network): one resolution valid on every supported Python.
# test.txt first; runtime.txt and build.txt (setuptools, for the Dockerfile's offline wheel build)
# take its versions, so the image runs exactly what the tests ran.
lock: $(UV)
	$(UV) pip compile pyproject.toml requirements/build.in --extra test --extra lint --universal \
	  --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" -o requirements/test.txt
	$(UV) pip compile pyproject.toml --constraint requirements/test.txt --universal \
	  --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" -o requirements/runtime.txt
	$(UV) pip compile requirements/build.in --constraint requirements/test.txt --universal \
	  --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" -o requirements/build.txt

# The suite against the newest releases (needs the network): resolve pyproject.toml afresh for
# $(PYTHON), without the lock, install that into its own venv and run the tests. What moved is
# written to $(NEWEST)/drift.md (the scheduled `newest` workflow puts it in the job summary).
NEWEST := .cache/newest
newest: $(UV)
	rm -rf $(NEWEST)
	$(UV) pip compile pyproject.toml requirements/build.in --extra test --extra lint --python $(PYTHON) \
	  --no-header --quiet -o $(NEWEST)/requirements.txt
	$(PYTHON) -m venv $(NEWEST)/venv
	$(NEWEST)/venv/bin/python -m pip install --quiet --disable-pip-version-check -r $(NEWEST)/requirements.txt
	$(NEWEST)/venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(NEWEST)/venv/bin/python scripts/lock_drift.py requirements/test.txt $(NEWEST)/requirements.txt \
	  > $(NEWEST)/drift.md
	cat $(NEWEST)/drift.md
	$(NEWEST)/venv/bin/python -m pytest -q

$(UV):
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

clean:
	rm -rf $(VENV) build *.egg-info

# helm and kustomize at the versions in scripts/tools.env, built once into .cache/bin from their Go
# modules (needs Go); the tests call the same script when they need a tool that is missing.
tools:
	$(PYTHON) scripts/tools.py build

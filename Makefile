# Two commands: `make demo` reviews the bundled example, `make test` runs every test.
# Both install exactly the hashed lock (requirements/*.txt), never a fresh resolution.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8
UV := .cache/uv/bin/uv

.PHONY: demo test bench conformance lock clean

$(STAMP): requirements/test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/istio-pr-bot diff --base-dir examples/base --head-dir examples/head || test $$? -eq 1

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

conformance: $(STAMP)
	$(BIN)/python scripts/conformance.py

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

$(UV):
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

clean:
	rm -rf $(VENV) build *.egg-info

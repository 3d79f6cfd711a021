# Two commands: `make demo` reviews the bundled example, `make test` runs every test.
# Both install exactly the hashed lock (requirements/*.txt), never a fresh resolution.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8

.PHONY: demo test bench conformance conformance-gateway-api lock clean

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

# Gateway API conformance manifests (copies in tests/conformance/gateway-api) through `audit`.
conformance-gateway-api: $(STAMP)
	$(BIN)/python scripts/conformance_gateway_api.py

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

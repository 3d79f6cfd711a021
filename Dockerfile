# istio-pr-bot as a container action. Release builds are pushed to ghcr.io and referenced by digest
# (see .github/workflows/release.yml) so that workflows pull the image instead of building it.
#
# Every artefact is pinned: the base image by digest (Python 3.14 on Debian 13 "trixie"; Dependabot
# proposes new digests), apt packages by exact version, Python packages by hash from the locks that
# `make lock` writes (requirements/*.txt). No step resolves a version or downloads an unhashed file.

# Build stage: turn the source into a wheel with the locked setuptools, offline.
FROM python:3.14.7-slim-trixie@sha256:ce40764625a4ff50df3548277632e7f96c4e77fe75fa848aae9885476e7df5a4 AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY requirements/build.txt requirements/build.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --no-index --wheel-dir /wheels .

# Runtime stage: the locked runtime dependencies and the wheel, nothing else from PyPI.
FROM python:3.14.7-slim-trixie@sha256:ce40764625a4ff50df3548277632e7f96c4e77fe75fa848aae9885476e7df5a4
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PYTHONDONTWRITEBYTECODE=1

# git reads the manifests from the object store; no other tools are needed. The version is the one
# trixie ships; when a Debian update replaces it the build fails here (the weekly `newest` workflow
# builds the image to notice) and the pin moves to the new version.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.47.3-0+deb13u1 \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

# Deploy-target tools (helm, kustomize) belong here: fetch each release by exact version with
# `ADD --checksum=sha256:<published digest> <url> ...` (or curl followed by `sha256sum --check`), so
# they are pinned like everything else; tests/test_supply_chain.py rejects a download without one.

COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/runtime.txt \
    && rm /tmp/runtime.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps --no-index /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels

# The runner mounts the workspace owned by another uid; safe.directory above lets git read it.
ENTRYPOINT ["istio-pr-bot"]
CMD ["action"]

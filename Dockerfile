# istio-pr-bot as a container action. Release builds are pushed to ghcr.io and referenced by digest
# (see .github/workflows/release.yml) so that workflows pull the image instead of building it.
#
# Every artefact is pinned: the base images by digest (Python 3.14 on Debian 13 "trixie", and Go for
# the render tools; Dependabot proposes new digests), apt packages by exact version, Python packages
# by hash from the locks that `make lock` writes (requirements/*.txt), helm and kustomize by the exact
# module versions in scripts/tools.env, checked against the Go checksum database. No step resolves a
# version or downloads an unverified file.

# Render tools: helm and kustomize at the versions the tests use (scripts/tools.env), built from their
# Go modules as `make tools` builds them (scripts/tools.py: the same packages and linker flags).
# `go install MODULE@VERSION` takes every dependency from the module's own go.sum, and the Go
# command checks each module against the checksum database (sum.golang.org) before using it.
FROM golang:1.26.8-trixie@sha256:bdca99a00bc16590cb1a0bb4e698f5fc5d6a64e4d5eef13d9f18a0ee08e5fa65 AS tools
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN=/out \
    GOPROXY=https://proxy.golang.org GOSUMDB=sum.golang.org
COPY scripts/tools.env /tmp/tools.env
RUN . /tmp/tools.env \
    && go install -trimpath -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" \
       "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" \
    && go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
    && test "$(/out/helm version --template '{{.Version}}')" = "${HELM_VERSION}" \
    && test "$(/out/kustomize version)" = "${KUSTOMIZE_VERSION}"

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

# helm and kustomize render charts and kustomizations (README: "Repositories with environments,
# charts and overlays"); static binaries from the tools stage.
COPY --from=tools /out/helm /out/kustomize /usr/local/bin/

COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/runtime.txt \
    && rm /tmp/runtime.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps --no-index /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels

# The runner mounts the workspace owned by another uid; safe.directory above lets git read it.
ENTRYPOINT ["istio-pr-bot"]
CMD ["action"]

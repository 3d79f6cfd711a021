# istio-pr-bot as a container action. Release builds are pushed to ghcr.io and referenced by digest
# (see .github/workflows/release.yml) so that workflows pull the image instead of building it.
FROM python:3.12-slim

# git reads the manifests from the object store; no other tools are needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.* \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

WORKDIR /opt/istio-pr-bot
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .

# The runner mounts the workspace owned by another uid; safe.directory above lets git read it.
ENTRYPOINT ["istio-pr-bot"]
CMD ["action"]

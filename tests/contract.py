"""GitHub's published contract, pinned: the REST OpenAPI description, webhook payload examples and
the SARIF 2.1.0 schema, fetched once from the npm registry into .cache/contract (git-ignored) and
checked against the registry's sha512 integrity."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import urllib.request
from functools import lru_cache
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "contract"
PACKAGES = {
    # name: (version, sha512 integrity, file inside the tarball)
    "@octokit/openapi": ("23.0.2", "pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
                         "package/generated/api.github.com.json"),
    "@octokit/webhooks-examples": ("7.6.1", "De6U3XB6O3DtCa7bKgCMzTHdeopqqZ6SNivMYJnK65ierKL1AnNIA0tkRYCRS7lwGT792d+Ps1WbfHlso6MynQ==",
                                   "package/api.github.com/index.json"),
    "@microsoft/jest-sarif": ("1.0.0-beta.0", "A1fOhPd6Ic5iDk4F9YPw1qNB4XF+7+IviR7xl8r2F6QzQkx5cpY9LsGk2rExiFIEcBbjpVnSmwWGBukASkiQ9A==",
                              "package/lib/schemas/sarif-2.1.0-rtm.5.json"),
}
REGISTRY = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org")


def fetch(name: str) -> Path:
    version, integrity, member = PACKAGES[name]
    target = CACHE / f"{name.replace('/', '__')}-{version}" / Path(member).name
    if target.exists():
        return target
    url = f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - pinned registry URL
        data = response.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        raise RuntimeError(f"{name}@{version}: integrity mismatch")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        extracted = tar.extractfile(member)
        assert extracted is not None
        content = extracted.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(content)
    tmp.replace(target)
    return target


@lru_cache(maxsize=None)
def openapi() -> dict[str, Any]:
    return json.loads(fetch("@octokit/openapi").read_text())


@lru_cache(maxsize=None)
def sarif_schema() -> dict[str, Any]:
    return json.loads(fetch("@microsoft/jest-sarif").read_text())


@lru_cache(maxsize=None)
def _webhooks() -> list[dict[str, Any]]:
    return json.loads(fetch("@octokit/webhooks-examples").read_text())  # type: ignore[no-any-return]


def webhook(event: str, action: str | None = None) -> dict[str, Any]:
    """A deep copy of the first published example of an event (and action)."""
    for entry in _webhooks():
        if entry["name"] == event:
            for example in entry["examples"]:
                if action is None or example.get("action") == action:
                    return json.loads(json.dumps(example))
    raise KeyError(f"no published example for {event}/{action}")

"""Istio host-name semantics.

Short names resolve against the namespace of the resource that writes them; any dotted name is
literal (`pilot/pkg/model/config.go` ResolveShortnameToFQDN, see
https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService
"hosts"). Wildcards follow `pkg/config/host/name.go`: `*.foo.com` matches any depth of
subdomain but not `foo.com`; `*` matches everything.
"""

from __future__ import annotations

DOMAIN = "svc.cluster.local"


def fqdn(host: str, namespace: str) -> str:
    """Resolve a host as Istio does for a resource in `namespace`."""
    host = host.strip()
    if not host or host == "*" or "." in host or _is_ip(host):
        return host.lower()
    return f"{host.lower()}.{namespace}.{DOMAIN}"


def _is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def matches(a: str, b: str) -> bool:
    """True when the two host patterns have a name in common (symmetric)."""
    return covers(a, b) or covers(b, a)


def covers(pattern: str, host: str) -> bool:
    """True when every name `host` stands for is matched by `pattern` (one way)."""
    if pattern == "*" or pattern == host:
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".foo.com"
        if host.startswith("*."):
            return host[1:].endswith(suffix)
        return host.endswith(suffix) and len(host) > len(suffix)
    return False


def service_namespace(host: str) -> str | None:
    """The namespace of a Kubernetes service host `name.ns.svc.cluster.local`, else None."""
    parts = host.split(".")
    if len(parts) == 5 and parts[2:] == ["svc", "cluster", "local"] and "*" not in host:
        return parts[1]
    return None


def specificity(pattern: str) -> int:
    """Bigger is more specific: an exact host beats any wildcard, a longer wildcard a shorter."""
    if not pattern.startswith("*"):
        return 10_000 + len(pattern)
    return len(pattern)

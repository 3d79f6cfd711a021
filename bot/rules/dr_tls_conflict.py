"""dr-tls-conflict: a DestinationRule sends plain or non-Istio TLS to servers that require mTLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot import hosts as H
from bot.context import Context
from bot.findings import Finding, Severity
from bot.mesh import Mesh
from bot.resource import Resource
from bot.rules.base import NETWORK_ISSUES, finding
from bot.values import as_dict, as_list, as_str, str_labels
from bot.views import dr_host

ID = "dr-tls-conflict"
SEVERITY = Severity.ERROR
SUMMARY = "A DestinationRule's TLS mode conflicts with STRICT mutual TLS at the destination"
GUIDANCE = NETWORK_ISSUES + "#503-errors-after-setting-destination-rule"
DIFF_ONLY = False
READS: tuple[str, ...] = ('mesh-mtls', 'root-namespace')
WHY = (
    "When mutual TLS is STRICT for a destination (mesh-wide in the root namespace, namespace-wide, or for a "
    "workload), a DestinationRule that sets tls.mode DISABLE, SIMPLE or MUTUAL for an in-mesh host makes "
    "clients stop sending Istio mTLS. The servers reject the connections and every request fails with 503 "
    "until the DestinationRule is reverted; in-mesh hosts need ISTIO_MUTUAL or no tls block."
)
BAD = ("DISABLE", "SIMPLE", "MUTUAL")


def _mode(pa: Resource) -> str | None:
    mode = as_str(as_dict(pa.spec.get("mtls")).get("mode"))
    return mode.upper() if mode and mode.upper() != "UNSET" else None


def mesh_mode(mesh: Mesh, configured: str | None) -> tuple[str, Resource | None]:
    """Mesh-wide mTLS: config `mesh-mtls` (`configured`), else a selector-less PeerAuthentication in the
    root namespace."""
    for pa in mesh.of("PeerAuthentication"):
        if pa.namespace == mesh.settings.root_namespace and not pa.spec.get("selector") and _mode(pa):
            if configured is None:
                return _mode(pa) or "PERMISSIVE", pa
    return configured or "PERMISSIVE", None


def effective_mode(mesh: Mesh, configured: str | None, namespace: str,
                   labels: dict[str, str]) -> tuple[str, Resource | None]:
    """Workload PeerAuthentication over namespace-wide over mesh-wide (most specific wins)."""
    mode, source = mesh_mode(mesh, configured)
    for pa in mesh.of("PeerAuthentication"):
        if pa.namespace == namespace and not pa.spec.get("selector") and _mode(pa):
            mode, source = _mode(pa) or mode, pa
    for pa in mesh.of("PeerAuthentication"):
        selector = str_labels(as_dict(pa.spec.get("selector")).get("matchLabels"))
        if pa.namespace == namespace and selector and labels and selector.items() <= labels.items() and _mode(pa):
            mode, source = _mode(pa) or mode, pa
    return mode, source


def tls_modes(dr: Resource) -> list[tuple[str, tuple[str | int, ...]]]:
    """(mode, field path) of every TLS setting in a DestinationRule: top level, per port, per subset."""
    out: list[tuple[str, tuple[str | int, ...]]] = []

    def policy(tp: Any, path: tuple[str | int, ...]) -> None:
        tp = as_dict(tp)
        mode = as_str(as_dict(tp.get("tls")).get("mode"))
        if mode:
            out.append((mode.upper(), (*path, "tls", "mode")))
        for i, port in enumerate(as_list(tp.get("portLevelSettings"))):
            mode = as_str(as_dict(as_dict(port).get("tls")).get("mode"))
            if mode:
                out.append((mode.upper(), (*path, "portLevelSettings", i, "tls", "mode")))

    policy(dr.spec.get("trafficPolicy"), ("spec", "trafficPolicy"))
    for i, subset in enumerate(as_list(dr.spec.get("subsets"))):
        policy(as_dict(subset).get("trafficPolicy"), ("spec", "subsets", i, "trafficPolicy"))
    return out


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    for dr in ctx.subjects("DestinationRule"):
        host = dr_host(dr)
        if not host:
            continue
        bad = [(m, p) for m, p in tls_modes(dr) if m in BAD]
        if not bad:
            continue
        ns = H.service_namespace(host)
        if ns:
            svc = mesh.get("Service", ns, host.split(".")[0])
            labels = str_labels(svc.spec.get("selector")) if svc else {}
            mode, source = effective_mode(mesh, ctx.config.mesh_mtls, ns, labels)
            target = host
        elif host.startswith("*") and H.covers(host, f"x.y.{H.DOMAIN}"):
            mode, source = mesh_mode(mesh, ctx.config.mesh_mtls)
            target = f"every in-mesh service matching {host}"
        else:
            continue  # not an in-mesh host: external TLS is legitimate
        if mode != "STRICT":
            continue
        for tls, path in bad:
            where = f"PeerAuthentication {source.namespace}/{source.name}" if source else "mesh-wide config (mesh-mtls)"
            yield finding(
                ID, SEVERITY, dr,
                f"sets tls.mode {tls} for {target}, whose servers require mutual TLS (STRICT, from {where}); "
                "clients stop sending Istio mTLS and every request fails with 503",
                fix="use tls.mode ISTIO_MUTUAL (or remove the tls block) for in-mesh hosts",
                detail=f"{tls}@{'.'.join(map(str, path[1:]))}", related=[source] if source else [],
                line=dr.field_line(*path))

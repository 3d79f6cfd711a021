"""reference-missing: a VirtualService names a Gateway or host that is not there."""

from __future__ import annotations

from typing import Iterator

from bot.findings import Finding, Severity
from bot.model import INTERNAL_GATEWAY, vs_destinations, vs_gateways
from bot.rules.base import Context, finding

ID = "reference-missing"
SEVERITY = Severity.ERROR
SUMMARY = "A VirtualService names a Gateway that does not exist, or a host whose ServiceEntry/Service was removed"
GUIDANCE = "https://istio.io/latest/docs/reference/config/networking/virtual-service/#VirtualService"
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "At the head of the PR a VirtualService is bound to a Gateway that is defined nowhere in the repository "
    "(a typo, or a Gateway deleted too early), or routes to a host whose ServiceEntry or Service the PR "
    "removes. Its routes apply nowhere, or its requests fail. Create what is referenced before the "
    "reference, and remove references before what they reference; the staged plan orders both."
)


def check(ctx: Context) -> Iterator[Finding]:
    mesh = ctx.head
    for vs in ctx.subjects("VirtualService"):
        for i, ref in enumerate(vs_gateways(vs)):
            if ref.is_mesh or INTERNAL_GATEWAY in ref.name or mesh.gateway(ref) is not None:
                continue
            if mesh.get("KubernetesGateway", ref.namespace, ref.name) is not None:
                continue
            yield finding(
                ID, SEVERITY, vs,
                f"is bound to gateway {ref.namespace}/{ref.name}, which is not defined in the repository; its routes "
                "apply nowhere until that Gateway exists",
                fix=f"create Gateway {ref.namespace}/{ref.name} first, or fix the reference ('ns/name')",
                detail=f"gateway:{ref.namespace}/{ref.name}", line=vs.field_line("spec", "gateways", i))
        if ctx.base is None:
            continue
        seen = set()
        for dest in vs_destinations(vs):
            if dest.host in seen or list(mesh.host_defined(dest.host)):
                continue
            gone = list(ctx.base.host_defined(dest.host))
            if not gone:
                continue
            seen.add(dest.host)
            yield finding(
                ID, SEVERITY, vs,
                f"still routes to {dest.host}, but this change removes {gone[0].display} that defined it; requests "
                "fail once it is gone",
                fix="remove the route first, wait, then delete the host", detail=f"host:{dest.host}",
                related=gone, line=vs.field_line(*dest.path))

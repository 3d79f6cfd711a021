"""gateway-shared-certificate: two Gateways on one workload serve one certificate."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.rules.base import NETWORK_ISSUES, finding, losers
from bot.rules.shared.gateway_pairs import server_pairs

ID = "gateway-shared-certificate"
SEVERITY = Severity.WARNING
SUMMARY = "Two Gateways on one workload serve TLS from the same certificate for different hosts"
GUIDANCE = NETWORK_ISSUES + "#404-errors-occur-when-multiple-gateways-configured-with-same-tls-certificate"
DIFF_ONLY = False
READS: tuple[str, ...] = ('scope-gateway-to-namespace',)
WHY = (
    "When two Gateways on one workload serve the same certificate (the same credentialName, or the same "
    "certificate and key files) for different hosts, browsers that reuse HTTP/2 connections send requests "
    "for the second host over the first host's connection; that Gateway has no route for it and answers 404. "
    "Use one Gateway with both hosts (or a wildcard) and bind both VirtualServices to it."
)


def check(ctx: Context) -> Iterator[Finding]:
    reported = set()
    certificates = lambda s: [*s.credential_names, *([s.cert_files] if s.cert_files else [])] if s.tls else []  # noqa: E731
    for pair in server_pairs(ctx.head, certificates):
        sa, sb = pair.sa, pair.sb
        if sa.tls is None or sb.tls is None or set(sa.hosts) == set(sb.hosts):
            continue
        shared = sorted(sa.credential_names & sb.credential_names)
        if shared:
            what = f"credentialName {shared[0]}"
        elif sa.cert_files and sa.cert_files == sb.cert_files:
            what = f"certificate file {sa.cert_files[0]}"
        else:
            continue
        for res, other in losers(ctx, pair.a, pair.b):
            mine, theirs = (sa, sb) if res is pair.a else (sb, sa)
            key = (res.key, other.key, what)
            if key in reported:
                continue
            reported.add(key)
            yield finding(
                ID, SEVERITY, res,
                f"serves {', '.join(mine.hosts)} with {what}, which {other.display} also serves for "
                f"{', '.join(theirs.hosts)} on the same workload; browsers reuse the HTTP/2 connection for the "
                "other host and get 404s",
                fix="use one Gateway with a wildcard host (or both hosts) and bind both VirtualServices to it",
                detail=f"{other.namespace}/{other.name}:{what}", related=[other],
                line=res.field_line("spec", "servers", mine.index, "tls"))

"""listener-certificate-unresolved: a listener's certificateRef Istio will not use."""

from __future__ import annotations

from collections.abc import Iterator

from bot.context import Context
from bot.findings import Finding, Severity
from bot.gatewayapi.grants import allowing
from bot.gatewayapi.kinds import api_kind
from bot.gatewayapi.objects import CertRef, Listener, listeners
from bot.gatewayapi.snapshot import Evaluation
from bot.resource import Resource
from bot.rules.base import finding
from bot.rules.shared.gateway_api import GATEWAY_API, evaluation, listener_owners, name

ID = "listener-certificate-unresolved"
SEVERITY = Severity.ERROR
SUMMARY = ("A listener's certificateRef points at a Secret in another namespace without a ReferenceGrant, or at "
           "something that is not a Secret")
GUIDANCE = GATEWAY_API
DIFF_ONLY = False
READS: tuple[str, ...] = ()  # config keys besides the rule's own settings
WHY = (
    "A listener that terminates TLS reads its certificate from core Secrets. A Secret in another namespace needs "
    "a ReferenceGrant in that namespace from Gateways of the listener's namespace to Secrets; Istio checks the "
    "grant before anything else, and other kinds or groups are InvalidCertificateRef, as are more than two "
    "certificates (istio pilot/pkg/config/kube/gateway/conversion.go buildTLS, buildSecretReference). A "
    "certificate Istio cannot use is left out silently when another one is valid; when none is, the listener "
    "is not programmed and TLS handshakes for its hostname fail (ResolvedRefs=False, and for RefNotPermitted "
    "also Accepted=False NoValidCACertificate, an Istio quirk). Removing or narrowing a grant a listener uses "
    "breaks it the same way. Secrets themselves are rarely kept in git, so a missing Secret is not checked."
)


SPEC = (  # where Istio differs from the Gateway API specification (the rule doc says it)
    "For a certificate in another namespace without a ReferenceGrant the specification asks for ResolvedRefs=False "
    "RefNotPermitted on the listener; Istio also sets Accepted=False NoValidCACertificate. More than two "
    "certificateRefs: Istio programs none (InvalidCertificateRef), where the specification lets an implementation "
    "use several. Istio checks the grant before the Secret's existence (istio "
    "pilot/pkg/config/kube/gateway/conversion.go buildSecretReference)."
)


SOURCES: tuple[str, ...] = (  # the behaviour it follows
    'istio/istio pilot/pkg/config/kube/gateway/conversion.go buildTLS, buildSecretReference',
    'kubernetes-sigs/gateway-api apis/v1/gateway_types.go ListenerTLSConfig.CertificateRefs',
)


def check(ctx: Context) -> Iterator[Finding]:
    ev = evaluation(ctx)
    for owner in listener_owners(ctx):
        for lst in listeners(owner):
            if lst.tls_mode != "Terminate" or lst.protocol not in ("HTTPS", "TLS") or not lst.certs:
                continue
            if lst.tls_options.get("gateway.istio.io/tls-terminate-mode") in ("ISTIO_SIMPLE", "ISTIO_MUTUAL"):
                continue  # Istio's own certificate; certificateRefs are not read
            line = owner.field_line(*lst.path, "tls")
            if len(lst.certs) > 2:
                yield finding(ID, SEVERITY, owner, f"{lst.where} lists {len(lst.certs)} certificateRefs; Istio takes "
                                                   "at most 2 and programs none (InvalidCertificateRef)",
                              fix="keep at most two certificates (one RSA, one ECDSA)",
                              detail=f"{lst.name}:too-many:InvalidCertificateRef", line=line)
                continue
            bad = [(c, *_problem(owner, c, ev)) for c in lst.certs]
            failing = [(c, reason, why, grant) for c, reason, why, grant in bad if reason]
            for cert, reason, why, grant in failing:
                yield _finding(owner, lst, cert, reason, why, grant, len(failing) == len(lst.certs), line)


def _problem(owner: Resource, cert: CertRef, ev: Evaluation) -> tuple[str, str, Resource | None]:
    head, base = ev.head, ev.base
    source = api_kind(owner.kind)
    target = ("", "Secret", cert.namespace, cert.name)
    if cert.namespace != owner.namespace and not allowing(head.grants(), source, owner.namespace, *target):
        before = allowing(base.grants(), source, owner.namespace, *target) if base else []
        why = (f"no ReferenceGrant in namespace {cert.namespace} allows {source}s from namespace "
               f"{owner.namespace} to read it")
        if before:
            why += f"; this change {'removes' if head.get(*before[0].key) is None else 'narrows'} {name(ev, before[0])}"
        return "RefNotPermitted", why, before[0] if before else None
    if not cert.is_secret:
        return "InvalidCertificateRef", "only core Secrets hold certificates", None
    return "", "", None


def _finding(owner: Resource, lst: Listener, cert: CertRef, reason: str, why: str, grant: Resource | None,
             none_left: bool, line: int | None) -> Finding:
    host = "every hostname" if lst.hostname == "*" else lst.hostname
    effect = (f"with no usable certificate left the listener is not programmed and TLS handshakes for {host} fail"
              if none_left else "Istio leaves it out silently and serves only the other certificate")
    fix = (f"add a ReferenceGrant in namespace {cert.namespace} from {api_kind(owner.kind)} (namespace "
           f"{owner.namespace}) to Secret {cert.name}, before the Gateway uses it" if reason == "RefNotPermitted"
           else "reference a Secret (group \"\", kind Secret)")
    return finding(ID, SEVERITY, owner, f"{lst.where} uses {cert.text}: {why} ({reason}); {effect}", fix=fix,
                   detail=f"{lst.name}:{cert.text}:{reason}", related=[grant] if grant else [], line=line)

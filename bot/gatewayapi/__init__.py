"""Gateway API semantics as Istio implements them: pure functions over loaded `Resource`s.

What a Gateway (`gateway.networking.k8s.io`), its listeners, the routes (HTTPRoute, GRPCRoute,
TLSRoute, TCPRoute), ReferenceGrants and ListenerSets mean for traffic, read from the Gateway API
types (kubernetes-sigs/gateway-api `apis/v1/*.go`) and from Istio's translation
(istio/istio `pilot/pkg/config/kube/gateway/`, `pilot/pkg/config/kube/gatewaycommon/`). Where Istio
differs from the specification, the functions answer what Istio does and say so in a docstring.

Modules: `kinds` (names and defaults), `hostnames` (wildcards, intersection), `objects` (parsed
routes, listeners and references with the CRD defaults applied), `namespaces` (label selectors),
`grants` (ReferenceGrant), `snapshot` (one revision, indexed), `listeners` (supported kinds,
conflicts, renames), `attachment` (which listeners take a route, and for which hosts),
`backends` (backendRef resolution and traffic shares), `istio` (whole-route drops, which
controller owns a Gateway, shared workloads), `precedence` (creation order), `conflicts` (routes
competing for one hostname and match), `mesh` (GAMMA routes next to VirtualServices).
"""

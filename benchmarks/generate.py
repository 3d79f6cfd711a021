#!/usr/bin/env python3
"""Generate a synthetic GitOps mesh repository of N services as a git repo with a PR branch.

Usage: python benchmarks/generate.py N OUT_DIR [--mixed]
       python benchmarks/generate.py --targets OUT_DIR

Per service: a Service, a DestinationRule with three subsets, a VirtualService with a header match
and a weighted split; a Gateway per ten services; a ServiceEntry per twenty; some exportTo. With
--mixed, each service also gets Deployments, ConfigMaps and the like, about four non-Istio
documents per Istio one, as in a real GitOps repository. Branch `main` is the base; branch `pr`
adds subsets (and routes to them), removes a subset still in use, adds a Gateway that conflicts
with an existing one, and widens an exportTo.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TEAMS = 40


def service(i: int) -> tuple[str, str]:
    ns = f"team-{i % TEAMS}"
    name = f"svc-{i}"
    export = '  exportTo:\n  - "."\n' if i % 25 == 0 else ""
    mesh = f"""# Routing for {name}, owned by {ns}.
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: {name}
spec:
  host: {name}
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 1000
        maxRequestsPerConnection: 10
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 30s
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: {name}
spec:
  hosts:
  - {name}
{export}  http:
  - name: canary-header
    match:
    - headers:
        x-canary:
          exact: "true"
    route:
    - destination:
        host: {name}
        subset: v3
  - name: default
    route:
    - destination:
        host: {name}
        subset: v1
      weight: 90
    - destination:
        host: {name}
        subset: v2
      weight: 10
    timeout: 5s
    retries:
      attempts: 3
      perTryTimeout: 2s
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: {name}
spec:
  selector:
    app: {name}
  ports:
  - name: http
    port: 8080
    targetPort: 8080
"""
    return f"apps/{ns}/{name}/mesh.yaml", mesh


def gateway(g: int) -> tuple[str, str]:
    ns = f"team-{g % TEAMS}"
    text = f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw-{g}
  namespace: {ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https-{g}
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: cert-{g}
    hosts:
    - app-{g}.example.com
"""
    return f"gateways/gw-{g}.yaml", text


def service_entry(s: int) -> tuple[str, str]:
    ns = f"team-{s % TEAMS}"
    text = f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext-{s}
  namespace: {ns}
spec:
  hosts:
  - api-{s}.partner.example.net
  exportTo:
  - "."
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 443
    name: tls
    protocol: TLS
"""
    return f"egress/ext-{s}.yaml", text


def workload(i: int) -> tuple[str, str]:
    """Non-Istio documents of one service: ~12 documents, ~4 per Istio document."""
    ns, name = f"team-{i % TEAMS}", f"svc-{i}"
    docs = []
    for version in ("v1", "v2", "v3"):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}-{version}
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
      version: {version}
  template:
    metadata:
      labels:
        app: {name}
        version: {version}
    spec:
      containers:
      - name: app
        image: registry.example.com/{name}:{version}
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
""")
        docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-{version}-config
  namespace: {ns}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "a,b,c"
""")
        docs.append(f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}-{version}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}-{version}
  minReplicas: 2
  maxReplicas: 10
""")
        docs.append(f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}-{version}
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {name}
      version: {version}
""")
    return f"apps/{ns}/{name}/workload.yaml", "---\n".join(docs)


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def generate(n: int, out: Path, mixed: bool) -> None:
    out.mkdir(parents=True)
    files = dict(service(i) for i in range(n))
    files.update(gateway(g) for g in range(max(1, n // 10)))
    files.update(service_entry(s) for s in range(max(1, n // 20)))
    if mixed:
        files.update(workload(i) for i in range(n))
    git(out, "init", "-q", "-b", "main")
    git(out, "config", "gc.auto", "0")  # no background gc racing the explicit one at the end
    write(out, files)
    git(out, "add", "-A")
    git(out, "commit", "-qm", "base")
    git(out, "checkout", "-qb", "pr")
    changed: dict[str, str] = {}
    for i in range(0, n, max(1, n // 20)):  # 20 services get a v4 subset and a route to it
        path, text = service(i)
        text = text.replace("  - name: v3\n    labels:\n      version: v3\n",
                            "  - name: v3\n    labels:\n      version: v3\n"
                            "  - name: v4\n    labels:\n      version: v4\n")
        changed[path] = text.replace("        subset: v3\n", "        subset: v4\n")
    path, text = service(1)  # remove subset v2 while the route still uses it
    changed[path] = text.replace("  - name: v2\n    labels:\n      version: v2\n", "")
    changed["gateways/gw-conflict.yaml"] = gateway(0)[1].replace("name: gw-0", "name: gw-conflict").replace(
        "https-0", "https-conflict")
    path, text = service_entry(0)
    changed[path] = text.replace('  - "."\n', '  - "*"\n')
    write(out, changed)
    git(out, "add", "-A")
    git(out, "commit", "-qm", "pr")
    git(out, "gc", "--quiet")  # packed, as a CI checkout is: not thousands of loose objects


KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
APPS, CHARTS = 50, 10


def app(i: int, subsets: tuple[str, ...] = ("v1", "v2"), route: str = "v1") -> dict[str, str]:
    """A leaf kustomization: one service's mesh and workload, on a shared base, in its own namespace."""
    name, folder = f"app-{i:02d}", f"apps/app-{i:02d}"
    mesh, workload_text = service(i)[1], workload(i)[1]
    mesh = mesh.replace("  - name: v3\n    labels:\n      version: v3\n", "")
    mesh = mesh.replace("        subset: v3\n", f"        subset: {route}\n")
    if "v3" in subsets:
        v2 = "  - name: v2\n    labels:\n      version: v2\n"
        mesh = mesh.replace(v2, v2 + v2.replace("v2", "v3"))
    return {f"{folder}/kustomization.yaml": KUSTOMIZATION + f"namespace: team-{i % TEAMS}\nnamePrefix: ''\n"
            f"resources:\n- ../../bases/common\n- mesh.yaml\n- workload.yaml\nlabels:\n- pairs: {{app: {name}}}\n",
            f"{folder}/mesh.yaml": mesh, f"{folder}/workload.yaml": workload_text}


def chart(c: int) -> dict[str, str]:
    """An application chart whose Istio objects come from values."""
    folder = f"charts/chart-{c}"
    return {
        f"{folder}/Chart.yaml": f"apiVersion: v2\nname: chart-{c}\nversion: 1.0.{c}\n",
        f"{folder}/values.yaml": "subsets: [v1, v2]\nroute: v1\nreplicas: 2\n",
        f"{folder}/templates/mesh.yaml": (
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {{ .Chart.Name }}\n"
            "spec:\n  host: {{ .Chart.Name }}\n  subsets:\n{{- range .Values.subsets }}\n  - name: {{ . }}\n"
            "    labels: {version: {{ . }}}\n{{- end }}\n---\napiVersion: networking.istio.io/v1\n"
            "kind: VirtualService\nmetadata:\n  name: {{ .Chart.Name }}\nspec:\n  hosts: [{{ .Chart.Name }}]\n"
            "  http:\n  - route:\n    - destination: {host: {{ .Chart.Name }}, subset: {{ .Values.route }}}\n"),
        f"{folder}/templates/service.yaml": (
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Chart.Name }}\nspec:\n"
            "  selector: {app: {{ .Chart.Name }}}\n  ports: [{name: http, port: 80}]\n"),
        f"{folder}/templates/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Chart.Name }}\nspec:\n"
            "  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: {{ .Chart.Name }}}}\n"
            "  template:\n    metadata: {labels: {app: {{ .Chart.Name }}}}\n"
            "    spec: {containers: [{name: app, image: example/app:1.0}]}\n"),
    }


def generate_targets(out: Path) -> None:
    """50 leaf kustomizations (on one shared base) and 10 charts; branch `pr` changes one kustomization:
    a subset added with a route to it."""
    out.mkdir(parents=True)
    files = {"bases/common/kustomization.yaml": KUSTOMIZATION + "resources: [peer-authentication.yaml]\n",
             "bases/common/peer-authentication.yaml": "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
                                                      "metadata: {name: default}\nspec: {mtls: {mode: STRICT}}\n"}
    for i in range(APPS):
        files.update(app(i))
    for c in range(CHARTS):
        files.update(chart(c))
    git(out, "init", "-q", "-b", "main")
    git(out, "config", "gc.auto", "0")
    write(out, files)
    git(out, "add", "-A")
    git(out, "commit", "-qm", "base")
    git(out, "checkout", "-qb", "pr")
    write(out, app(7, subsets=("v1", "v2", "v3"), route="v3"))
    git(out, "add", "-A")
    git(out, "commit", "-qm", "pr")
    git(out, "gc", "--quiet")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--targets":
        generate_targets(Path(argv[2]))
        return 0
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    generate(int(argv[1]), Path(argv[2]), "--mixed" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

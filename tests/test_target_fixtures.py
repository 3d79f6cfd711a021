"""The target fixtures end to end with the real tools: discovery at base and head, which targets the
pull request touches, and what they render to, traced to source files (golden `rendered.txt` per
fixture; UPDATE_GOLDEN=1 rewrites them, then review them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from bot import rendered
from bot.buildtools import Renderers, render
from bot.discover import discover
from bot.flux_substitute import substitute
from bot.targets import Target, Tool, touched
from tests.targets_helpers import changed, tree

FIXTURES = Path(__file__).resolve().parent / "targets"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def summary(body: dict[str, object]) -> str:
    """What matters for subsets: the subsets a DestinationRule defines, those a VirtualService routes to."""
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    if body.get("kind") == "DestinationRule":
        return f" host={spec.get('host')} subsets={[s.get('name') for s in spec.get('subsets') or []]}"
    if body.get("kind") == "VirtualService":
        routes = [d.get("destination", {}).get("subset") for h in spec.get("http") or [] for d in h.get("route") or []]
        return f" routes={routes}"
    if body.get("kind") == "Service":
        return f" labels={body['metadata'].get('labels')}"  # type: ignore[index,union-attr]
    return ""


def render_target(target: Target, files: dict[str, bytes], renderers: Renderers) -> list[str]:
    lines = []
    namespace = target.namespace or "default"
    for source in target.sources:
        if source.tool is Tool.PLAIN:
            docs = [rendered.Document(text, path) for path in source.files for text in rendered.split(files[path].decode())]
        else:
            result = render(source, files, renderers, source.namespace or namespace)
            assert result.ok, (target.name, result.error, result.skipped)
            if source.tool is Tool.KUSTOMIZE:
                output, problem = substitute(result.output, dict(source.substitutions))
                assert problem is None, problem
                docs = rendered.from_kustomize(output, source.path, files, result.origin_added)
            else:
                docs = rendered.from_helm(result.output, source.path, files, files.keys())
        for doc in docs:
            body = yaml.safe_load(rendered.fill_namespace(doc.text, namespace))
            meta = body["metadata"]
            lines.append(f"    {body['kind']} {meta.get('namespace', '-')}/{meta['name']}  "
                         f"{doc.source}:{doc.line}{summary(body)}")
    return sorted(lines)


def report(case: str, renderers: Renderers) -> list[str]:
    trees = {side: tree(FIXTURES / case / side) for side in ("base", "head")}
    paths = changed(trees["base"], trees["head"])
    found = {side: {(t.name, t.cluster): t for t in discover(files.keys(), files).targets}
             for side, files in trees.items()}
    lines = [f"changed: {', '.join(sorted(paths))}"]
    for key in sorted(found["base"].keys() | found["head"].keys(), key=lambda k: (k[1].name, k[0])):
        base, head = found["base"].get(key), found["head"].get(key)
        name, cluster = key
        target = head or base
        assert target is not None
        flag = "touched" if touched(base, head, paths) else "not touched"
        lines.append(f"{name} (cluster {cluster.name}, {target.kind.value}"
                     f"{', alternatives' if target.alternatives else ''}): {flag}")
        if flag == "not touched":
            continue
        for side, current in (("base", base), ("head", head)):
            lines.append(f"  {side}:")
            if current is not None:
                lines += render_target(current, trees[side], renderers)
    return lines


@pytest.mark.parametrize("case", CASES)
def test_fixture_pull_request(case: str, renderers: Renderers) -> None:
    got = report(case, renderers)
    golden = FIXTURES / case / "rendered.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text("".join(f"{line}\n" for line in got))
    assert got == golden.read_text().splitlines()


def test_the_issues_overlay_example(renderers: Renderers) -> None:
    """overlays/prod routes to subset v1, which prod's DestinationRule lacks; dev has it. Each
    overlay is its own cluster, so the same names are no duplicates."""
    lines = report("overlays", renderers)
    assert "overlays/prod (cluster prod, kustomize): touched" in lines
    head = lines[lines.index("overlays/prod (cluster prod, kustomize): touched"):]
    head = head[head.index("  head:") + 1:]
    assert "    VirtualService shop/reviews  overlays/prod/virtualservice.yaml:1 routes=['v1']" in head
    assert "    DestinationRule shop/reviews  overlays/prod/destinationrule.yaml:1 host=reviews subsets=['v2', 'v3']" in head


def test_only_targets_whose_inputs_changed_are_touched(renderers: Renderers) -> None:
    lines = report("flux", renderers)
    assert "shop (cluster dev, flux-kustomization): not touched" in lines
    assert "shop (cluster prod, flux-kustomization): touched" in lines
    assert "flux-system (cluster prod, flux-kustomization): not touched" in lines

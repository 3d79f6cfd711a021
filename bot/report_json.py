"""Read a JSON report (version 2, or 1) back into a Report, treating it as untrusted input.

Publish mode posts a report that a pull_request run produced from code the PR author controls.
Every field is type-checked; unknown rules are dropped; text is re-escaped by the renderers.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BotError
from bot.findings import Finding, Ref, Severity, Skipped, Suppressed
from bot.kinds import NAMES, internal
from bot.plan import Plan, Stage, Step
from bot.report import ChangedResource, ConfigChange, ConfigReview, HiddenFinding, Report, TargetRow
from bot.rules import BY_ID
from bot.values import as_dict

MAX_ITEMS = 20_000
STATUSES = ("reviewed", "unchanged", "not reviewed", "render error")
MAX_DOCUMENT = 100_000  # characters of one generated plan document


def _str(value: Any, limit: int = 5_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9 else 1


def _list(value: Any) -> list[Any]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []


READS = (1, 2)  # versions: 2 names kinds as manifests do, with their group (bot/render/json_report.py),
# and places resources in their deploy target and cluster


def _ref(data: Any, version: int, placed: Any = None) -> Ref:
    """A reference; `placed` holds its target and cluster, when they are not in `data`."""
    data = data if isinstance(data, dict) else {}
    placed = placed if isinstance(placed, dict) else data
    kind = _str(data.get("kind"), 100)
    if version >= 2:
        kind = internal(kind, _str(data.get("group"), 100))
    return Ref(kind, _str(data.get("namespace"), 300), _str(data.get("name"), 1000),
               _str(data.get("file"), 1000), _int(data.get("line")), _str(placed.get("target"), 300),
               _str(placed.get("cluster"), 300))


def _finding(data: Any, version: int) -> Finding | None:
    if not isinstance(data, dict) or data.get("rule") not in BY_ID:
        return None
    try:
        severity = Severity.parse(_str(data.get("severity")))
    except ValueError:
        return None
    return Finding(data["rule"], severity, _str(data.get("message")), _ref(data.get("resource"), version, data),
                   tuple(_ref(r, version) for r in _list(data.get("related"))[:20]), _str(data.get("fix")),
                   introduced=data.get("introduced") is True, line=_int(data.get("line")))


def _target(data: Any) -> TargetRow | None:
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        return None
    return TargetRow(_str(data.get("name"), 300), _str(data.get("cluster"), 300), _str(data.get("kind"), 50),
                     _str(data.get("path"), 1000), data.get("touched") is True, data["status"],
                     _str(data.get("reason"), 1000), _int(data.get("renders")) if "renders" in data else 0)


def _apply_step(data: dict[str, Any], version: int) -> Step:
    generated = _str(data.get("generated"), 300)
    return Step("apply", _ref(data, version), _str(data.get("document"), MAX_DOCUMENT) if generated else "",
                _str(data.get("note"), 300), generated=generated)


def load_report(data: Any) -> Report:
    if not isinstance(data, dict) or data.get("version") not in READS or data.get("mode") not in ("diff", "audit"):
        raise BotError("the report is not an istio-pr-bot JSON report (version 1 or 2)")
    version = data["version"]
    changes = [ChangedResource(c["change"], _ref(c, version), tuple(_str(p, 300) for p in _list(c.get("paths"))[:50]),
                               tuple(_str(w, 300) for w in _list(c.get("what"))[:30]),
                               _ref(c["previous"], version, c) if isinstance(c.get("previous"), dict) else None)
               for c in _list(data.get("changes"))
               if isinstance(c, dict) and c.get("change") in ("added", "removed", "modified", "renamed")]
    findings = [f for f in (_finding(x, version) for x in _list(data.get("findings"))) if f]
    suppressed = [Suppressed(f) for f in (_finding(x, version) for x in _list(data.get("suppressed"))) if f]
    stages = []
    plan = as_dict(data.get("plan"))
    for st in _list(plan.get("stages"))[:100]:
        if not isinstance(st, dict):
            continue
        cluster = _str(st.get("cluster"), 300)
        steps = [_apply_step({**as_dict(s), "cluster": cluster}, version) for s in _list(st.get("apply"))]
        steps += [Step("delete", _ref({**as_dict(s), "cluster": cluster}, version), "")
                  for s in _list(st.get("delete"))]
        wait = st.get("wait")
        stages.append(Stage(_str(st.get("title"), 500), tuple(steps), wait if isinstance(wait, str) else None,
                            tuple(_str(n, 1000) for n in _list(st.get("notes"))[:20]),
                            tuple(_str(f, 1000) for f in _list(st.get("files"))[:1000]), cluster))
    summary = as_dict(data.get("summary"))
    skipped = [Skipped(_str(as_dict(s).get("file"), 1000), _str(as_dict(s).get("reason"), 500))
               for s in _list(data.get("skipped"))[:500]]
    return Report(
        mode=data["mode"], base=_str(data.get("base"), 100) or None, head=_str(data.get("head"), 100),
        resources=_int(summary.get("resources")), changes=tuple(changes), findings=tuple(findings),
        suppressed=tuple(suppressed), skipped=tuple(skipped),
        plan=Plan(tuple(stages), tuple(_ref(r, version) for r in _list(plan.get("left_out"))[:1000])),
        paths=tuple(_str(p, 300) for p in _list(data.get("paths"))[:100]),
        config_change=_config_change(data.get("config_change"), version),
        targets=tuple(t for t in (_target(x) for x in _list(data.get("targets"))[:5_000]) if t),
        qualified=_qualified(data.get("qualified_kinds")),
    )


def _qualified(value: Any) -> tuple[str, ...]:
    named = (internal(_str(as_dict(q).get("kind"), 100), _str(as_dict(q).get("group"), 100)) for q in _list(value)[:20])
    return tuple(sorted({kind for kind in named if kind in NAMES}))


def _config_change(data: Any, version: int) -> ConfigReview | None:
    if not isinstance(data, dict):
        return None
    changes = tuple(ConfigChange(_str(c.get("key"), 300), _str(c.get("before"), 300), _str(c.get("after"), 300))
                    for c in _list(data.get("changes"))[:200] if isinstance(c, dict))
    hidden = tuple(HiddenFinding(f, _str(h.get("why"), 300)) for h in _list(data.get("hidden"))[:MAX_ITEMS]
                   if isinstance(h, dict) and (f := _finding(h, version)))
    return ConfigReview(_str(data.get("file"), 300), "head" if data.get("used") == "head" else "base", changes, hidden,
                        data.get("fails_now") is True, data.get("fails_after") is True, _str(data.get("error"), 1000))

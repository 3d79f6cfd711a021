"""Read a JSON report (version 1) back into a Report, treating it as untrusted input.

Publish mode posts a report that a pull_request run produced from code the PR author controls.
Every field is type-checked; unknown rules are dropped; text is re-escaped by the renderers.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BotError
from bot.findings import Finding, Ref, Severity, Skipped, Suppressed
from bot.plan import Plan, Stage, Step
from bot.report import ChangedResource, Report
from bot.rules import BY_ID
from bot.values import as_dict

MAX_ITEMS = 20_000


def _str(value: Any, limit: int = 5_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9 else 1


def _list(value: Any) -> list[Any]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []


def _ref(data: Any) -> Ref:
    data = data if isinstance(data, dict) else {}
    return Ref(_str(data.get("kind"), 100), _str(data.get("namespace"), 300), _str(data.get("name"), 1000),
               _str(data.get("file"), 1000), _int(data.get("line")))


def _finding(data: Any) -> Finding | None:
    if not isinstance(data, dict) or data.get("rule") not in BY_ID:
        return None
    try:
        severity = Severity.parse(_str(data.get("severity")))
    except ValueError:
        return None
    return Finding(data["rule"], severity, _str(data.get("message")), _ref(data.get("resource")),
                   tuple(_ref(r) for r in _list(data.get("related"))[:20]), _str(data.get("fix")),
                   introduced=data.get("introduced") is True, line=_int(data.get("line")))


def load_report(data: Any) -> Report:
    if not isinstance(data, dict) or data.get("version") != 1 or data.get("mode") not in ("diff", "audit"):
        raise BotError("the report is not an istio-pr-bot JSON report (version 1)")
    changes = [ChangedResource(c["change"], _ref(c), tuple(_str(p, 300) for p in _list(c.get("paths"))[:50]),
                               tuple(_str(w, 300) for w in _list(c.get("what"))[:10]))
               for c in _list(data.get("changes"))
               if isinstance(c, dict) and c.get("change") in ("added", "removed", "modified")]
    findings = [f for f in (_finding(x) for x in _list(data.get("findings"))) if f]
    suppressed = [Suppressed(f) for f in (_finding(x) for x in _list(data.get("suppressed"))) if f]
    stages = []
    for st in _list(as_dict(data.get("plan")).get("stages"))[:100]:
        if not isinstance(st, dict):
            continue
        steps = [Step("apply", _ref(s), "", _str(as_dict(s).get("note"), 300)) for s in _list(st.get("apply"))]
        steps += [Step("delete", _ref(s), "") for s in _list(st.get("delete"))]
        wait = st.get("wait")
        stages.append(Stage(_str(st.get("title"), 500), tuple(steps), wait if isinstance(wait, str) else None,
                            tuple(_str(n, 1000) for n in _list(st.get("notes"))[:20])))
    summary = as_dict(data.get("summary"))
    skipped = [Skipped(_str(as_dict(s).get("file"), 1000), _str(as_dict(s).get("reason"), 500))
               for s in _list(data.get("skipped"))[:500]]
    return Report(
        mode=data["mode"], base=_str(data.get("base"), 100) or None, head=_str(data.get("head"), 100),
        resources=_int(summary.get("resources")), changes=tuple(changes), findings=tuple(findings),
        suppressed=tuple(suppressed), plan=Plan(tuple(stages)), skipped=tuple(skipped),
    )

"""`.istio-pr-bot.yaml`: read once, validated up front, frozen.

Every key, with its default, is documented in README.md ("Configuration"). The rule ids a config
may name are passed in (`parse_config`), so settings depend on no rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import globs
from bot.errors import BotError
from bot.findings import Severity
from bot.kinds import EXPORTED
from bot.targets import Options, RenderSettings
from bot.targets_config import TargetSpec, parse_discovery, parse_render, parse_targets

FILE_NAME = ".istio-pr-bot.yaml"
FAIL_ON = ("error", "warning", "notice", "never")
CURRENT_ISTIO = (1, 28)
DEFAULT_GATEWAY_NAMESPACES = {
    "istio=ingressgateway": "istio-system",
    "istio=egressgateway": "istio-system",
}


@dataclass(frozen=True)
class RuleSettings:
    enabled: bool = True
    severity: Severity | None = None  # None: the rule's own


@dataclass(frozen=True)
class MeshSettings:
    """How the cluster's Istio is set up: all the mesh index (`bot.mesh`) reads."""

    root_namespace: str = "istio-system"
    scope_gateway_to_namespace: bool = False
    export_to_defaults: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {kind: ("*",) for kind in EXPORTED}
    )
    gateway_namespaces: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GATEWAY_NAMESPACES))


@dataclass(frozen=True)
class Config(MeshSettings):
    """Every setting; the mesh's part is a MeshSettings (`mesh`)."""

    paths: tuple[str, ...] = ("*.yaml", "*.yml")
    exclude: tuple[str, ...] = ()
    default_namespace: str = "default"
    istio_version: tuple[int, int] = CURRENT_ISTIO
    fail_on: str = "error"
    mesh_mtls: str | None = None  # STRICT | PERMISSIVE | None: derive from the repo
    mesh_outbound_mode: str = "ALLOW_ANY"  # meshConfig.outboundTrafficPolicy.mode: ALLOW_ANY | REGISTRY_ONLY
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    comment: Mapping[str, Any] = field(default_factory=dict)
    targets: tuple[TargetSpec, ...] | None = None  # None: discover them
    discovery: Options = field(default_factory=Options)
    render: RenderSettings = field(default_factory=RenderSettings)

    @property
    def mesh(self) -> MeshSettings:
        """The mesh settings alone, as a value of their own."""
        return MeshSettings(self.root_namespace, self.scope_gateway_to_namespace, self.export_to_defaults,
                            self.gateway_namespaces)

    def rule(self, rule_id: str) -> RuleSettings:
        return self.rules.get(rule_id, RuleSettings())

    def reads(self, path: str) -> bool:
        """Whether a file (path from the repository root) is read: matched by `paths`, not by `exclude`."""
        return globs.match(path, self.paths) and not globs.match(path, self.exclude)

    @property
    def on_empty(self) -> str:
        """comment.on-empty: `none` (default) writes no comment on a pull request that changes no Istio
        resource, but turns one the bot already wrote into an all-clear; `comment` always writes one."""
        return str(self.comment.get("on-empty", "none"))


KEYS = {
    "paths", "exclude", "default-namespace", "root-namespace", "scope-gateway-to-namespace",
    "istio-version", "fail-on", "mesh-mtls", "mesh-outbound-mode", "export-to-defaults", "gateway-namespaces",
    "rules", "comment", "targets", "discovery", "render",
}


def parse_version(value: object, where: str = "istio-version") -> tuple[int, int]:
    text = str(value).strip()
    parts = text.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise BotError(f"{where}: {text!r} is not a version like 1.22")
    return (int(parts[0]), int(parts[1]))


def parse_config(text: str | None, rule_ids: tuple[str, ...], source: str = FILE_NAME) -> Config:
    """Parse and validate a config file's text (None: defaults); `rule_ids` are the rules it may name."""
    if text is None or not text.strip():
        return Config()
    data = _load(text, source)
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise BotError(f"{source}: expected a mapping of settings at the top level")
    return _validate(data, rule_ids, source)


def _load(text: str, source: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise BotError(f"{source}: not valid YAML ({_first_line(exc)})") from None


def _istio_version(value: object, source: str) -> tuple[int, int]:
    if not isinstance(value, str):  # unquoted, YAML reads 1.20 as the number 1.2
        raise BotError(f'{source}: istio-version must be a string: quote it, e.g. istio-version: "1.20" '
                       f"(unquoted, YAML reads a version as a number, 1.20 as 1.2; here it read {value!r})")
    return parse_version(value, f"{source}: istio-version")


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def _validate(data: dict[str, Any], rule_ids: tuple[str, ...], source: str) -> Config:
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise BotError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    kwargs: dict[str, Any] = {}
    for key in ("paths", "exclude"):
        if key in data:
            kwargs[key] = _str_list(data[key], f"{source}: {key}")
    for key in ("default-namespace", "root-namespace"):
        if key in data:
            kwargs[key.replace("-", "_")] = _namespace(data[key], f"{source}: {key}")
    if "scope-gateway-to-namespace" in data:
        value = data["scope-gateway-to-namespace"]
        if not isinstance(value, bool):
            raise BotError(f"{source}: scope-gateway-to-namespace must be true or false")
        kwargs["scope_gateway_to_namespace"] = value
    if data.get("istio-version") is not None:
        kwargs["istio_version"] = _istio_version(data["istio-version"], source)
    if "fail-on" in data:
        kwargs["fail_on"] = _choice(data["fail-on"], FAIL_ON, f"{source}: fail-on")
    if data.get("mesh-mtls") is not None:
        kwargs["mesh_mtls"] = _choice(str(data["mesh-mtls"]).upper(), ("STRICT", "PERMISSIVE"), f"{source}: mesh-mtls")
    if data.get("mesh-outbound-mode") is not None:
        kwargs["mesh_outbound_mode"] = _choice(str(data["mesh-outbound-mode"]).upper(), ("ALLOW_ANY", "REGISTRY_ONLY"),
                                               f"{source}: mesh-outbound-mode")
    if "export-to-defaults" in data:
        kwargs["export_to_defaults"] = _export_defaults(data["export-to-defaults"], source)
    if "gateway-namespaces" in data:
        kwargs["gateway_namespaces"] = _gateway_namespaces(data["gateway-namespaces"], source)
    if "rules" in data:
        kwargs["rules"] = _rules(data["rules"], rule_ids, source)
    if "comment" in data:
        kwargs["comment"] = _comment(data["comment"], source)
    if data.get("targets") is not None:
        kwargs["targets"] = parse_targets(data["targets"], source)
    if "discovery" in data:
        kwargs["discovery"] = parse_discovery(data["discovery"], source)
    if "render" in data:
        kwargs["render"] = parse_render(data["render"], source)
    return Config(**kwargs)


def _comment(value: object, source: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BotError(f"{source}: comment must be a mapping with template and/or on-empty")
    extra = sorted(str(k) for k in set(value) - {"template", "on-empty"})
    if extra:
        raise BotError(f"{source}: comment: unknown key {extra[0]!r} (known: template, on-empty)")
    out = {}
    if value.get("template") is not None:
        if not isinstance(value["template"], str) or not value["template"]:
            raise BotError(f"{source}: comment.template must be a file path")
        out["template"] = value["template"]
    out["on-empty"] = _choice(value.get("on-empty", "none"), ("comment", "none"), f"{source}: comment.on-empty")
    return out


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BotError(f"{where} must be a list of glob strings")
    return tuple(value)


def _namespace(value: object, where: str) -> str:
    if not isinstance(value, str) or not value or not all(c.isalnum() or c == "-" for c in value):
        raise BotError(f"{where} must be a namespace name, got {value!r}")
    return value


def _choice(value: object, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise BotError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _export_defaults(value: object, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise BotError(f"{source}: export-to-defaults must map a kind to a list of namespaces")
    out: dict[str, tuple[str, ...]] = {kind: ("*",) for kind in EXPORTED}
    for kind, names in value.items():
        if kind not in EXPORTED:
            raise BotError(f"{source}: export-to-defaults: unknown kind {kind!r} (known: {', '.join(EXPORTED)})")
        out[kind] = _str_list(names, f"{source}: export-to-defaults.{kind}")
    return out


def _gateway_namespaces(value: object, source: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BotError(f"{source}: gateway-namespaces must map a selector 'key=value' to a namespace")
    out = {}
    for selector, namespace in value.items():
        if not isinstance(selector, str) or "=" not in selector:
            raise BotError(f"{source}: gateway-namespaces: {selector!r} is not a selector like 'istio=ingressgateway'")
        out[selector] = _namespace(namespace, f"{source}: gateway-namespaces.{selector}")
    return out


def _rules(value: object, known: tuple[str, ...], source: str) -> dict[str, RuleSettings]:
    if not isinstance(value, dict):
        raise BotError(f"{source}: rules must map a rule id to its settings")
    out = {}
    for rule_id, settings in value.items():
        if rule_id not in known:
            raise BotError(f"{source}: rules: unknown rule id {rule_id!r}")
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            raise BotError(f"{source}: rules.{rule_id} must be a mapping with enabled and/or severity")
        extra = sorted(set(settings) - {"enabled", "severity"})
        if extra:
            raise BotError(f"{source}: rules.{rule_id}: unknown key {extra[0]!r} (known: enabled, severity)")
        enabled = settings.get("enabled", True)
        if not isinstance(enabled, bool):
            raise BotError(f"{source}: rules.{rule_id}.enabled must be true or false")
        severity = None
        if settings.get("severity") is not None:
            try:
                severity = Severity.parse(str(settings["severity"]))
            except ValueError as exc:
                raise BotError(f"{source}: rules.{rule_id}.severity: {exc}") from None
        out[rule_id] = RuleSettings(enabled, severity)
    return out

"""Alert rules (``cslib/config/alert_rules.toml``): which weekly changes raise an alert,
their nature and severity, their parameters, and the recovery test.

A rule set a company decides, not a query: ``load_alert_rules`` reads and validates the
file (through the one TOML reader, cslib.rules.tomlfile); ``write_alert_rule_tables``
writes cfg_alert_rules / cfg_alert_params / cfg_alert_roles, which
``cslib/sql/marts/health_alerts.sql`` reads when the database is built. The alert list
and its statuses are in cslib.views.alerts.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import duckdb

from cslib import settings
from cslib.errors import UserError
from cslib.rules import tomlfile

NATURES = ("benign", "malignant")
SEVERITIES = ("high", "medium", "low")
#: rule -> {parameter: kind}; kind 'number', 'weeks' (integer >= 1) or 'roles' (list)
RULE_PARAMS: dict[str, dict[str, str]] = {
    "score_drop": {"min_drop_points": "number"},
    "tier_fall": {},
    "tier_rise": {},
    "admin_changed": {},
    "dept_head_changed": {},
    "no_login": {"weeks": "weeks"},
    "nps_detractor": {"max_score": "number", "roles": "roles"},
}
RULES: tuple[str, ...] = tuple(RULE_PARAMS)
RULE_LABELS: dict[str, str] = {
    "score_drop": "Score drop",
    "tier_fall": "Tier fall",
    "tier_rise": "Tier rise",
    "admin_changed": "New admin",
    "dept_head_changed": "New department head",
    "no_login": "No login",
    "nps_detractor": "NPS detractor (key user)",
}
_COMMON_KEYS = ("enabled", "nature", "severity")


@dataclass(frozen=True)
class AlertRule:
    """One rule: name in RULES, whether it is enabled, nature, severity, numeric parameters
    ((name, value), ...) and, for nps_detractor, the roles that count as key users."""

    rule: str
    enabled: bool
    nature: str
    severity: str
    params: tuple[tuple[str, float], ...] = ()
    roles: tuple[str, ...] = ()

    def param(self, name: str) -> float:
        return dict(self.params)[name]


@dataclass(frozen=True)
class AlertRules:
    """Every rule of RULES (in that order) and the recovery test (weeks, points)."""

    rules: tuple[AlertRule, ...]
    recovery_weeks: int = 2
    recovery_points: float = 10.0
    source: str = dataclasses.field(default="alert rules", compare=False)

    def rule(self, name: str) -> AlertRule:
        return {r.rule: r for r in self.rules}[name]


def load_alert_rules(path: str | os.PathLike | None = None) -> AlertRules:
    """Read and validate an alert-rules TOML (default: setting ``HEALTHGRID_ALERT_RULES``).

    Raises UserError("<file>: <key>: <problem>") for a missing file, bad TOML, a missing
    or unknown rule or key, a nature/severity outside NATURES/SEVERITIES, a negative
    number, weeks < 1, or an empty role list.
    """
    where = str(path if path is not None else settings.get("HEALTHGRID_ALERT_RULES"))
    doc = tomlfile.read(where, "alert rules")

    def fail(key: str, problem: str) -> UserError:
        return UserError(f"{where}: {key}: {problem}")

    for key in doc:
        if key not in ("recovery", "rules"):
            raise fail(key, "unknown key")
    recovery = doc.get("recovery")
    rules_doc = doc.get("rules")
    if not isinstance(recovery, dict):
        raise UserError(f"{where}: missing table [recovery]")
    if not isinstance(rules_doc, dict):
        raise UserError(f"{where}: missing tables [rules.*]")
    for key in recovery:
        if key not in ("weeks", "points"):
            raise fail(f"recovery.{key}", "unknown key")
    recovery_weeks = _weeks(recovery, "weeks", "recovery.weeks", fail, where)
    recovery_points = _number(recovery, "points", "recovery.points", fail, where)
    for name in rules_doc:
        if name not in RULE_PARAMS:
            raise fail(f"rules.{name}", f"unknown rule (expected {', '.join(RULES)})")
    rules = []
    for name, param_kinds in RULE_PARAMS.items():
        table = rules_doc.get(name)
        if not isinstance(table, dict):
            raise UserError(f"{where}: missing table [rules.{name}]")
        for key in table:
            if key not in _COMMON_KEYS and key not in param_kinds:
                raise fail(f"rules.{name}.{key}", "unknown key")
        for key in _COMMON_KEYS:
            if key not in table:
                raise UserError(f"{where}: missing key rules.{name}.{key}")
        if not isinstance(table["enabled"], bool):
            raise fail(f"rules.{name}.enabled", f"must be true or false, got {table['enabled']!r}")
        if table["nature"] not in NATURES:
            raise fail(f"rules.{name}.nature", f"must be one of {', '.join(NATURES)}, got {table['nature']!r}")
        if table["severity"] not in SEVERITIES:
            raise fail(
                f"rules.{name}.severity", f"must be one of {', '.join(SEVERITIES)}, got {table['severity']!r}"
            )
        params, roles = [], ()
        for key, kind in param_kinds.items():
            path = f"rules.{name}.{key}"
            if kind == "roles":
                value = table.get(key)
                if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                    raise fail(path, "must be a non-empty list of role names")
                roles = tuple(value)
            elif kind == "weeks":
                params.append((key, float(_weeks(table, key, path, fail, where))))
            else:
                params.append((key, _number(table, key, path, fail, where)))
        rules.append(
            AlertRule(name, table["enabled"], table["nature"], table["severity"], tuple(params), roles)
        )
    return AlertRules(tuple(rules), recovery_weeks, recovery_points, source=where)


def _number(table: dict, key: str, path: str, fail, where: str) -> float:
    if key not in table:
        raise UserError(f"{where}: missing key {path}")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise fail(path, f"must be a number >= 0, got {value!r}")
    return float(value)


def _weeks(table: dict, key: str, path: str, fail, where: str) -> int:
    if key not in table:
        raise UserError(f"{where}: missing key {path}")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(path, f"must be a whole number >= 1, got {value!r}")
    return value


def write_alert_rule_tables(conn: duckdb.DuckDBPyConnection, rules: AlertRules) -> None:
    """(Re)create cfg_alert_rules(rule, nature, severity, is_enabled),
    cfg_alert_params(rule, param, value) and cfg_alert_roles(rule, role); the recovery
    test is stored as rule 'recovery' with params weeks and points. Values are bound."""
    conn.execute(
        "create or replace table cfg_alert_rules (rule varchar, nature varchar, severity varchar, "
        "is_enabled boolean)"
    )
    conn.executemany(
        "insert into cfg_alert_rules values (?, ?, ?, ?)",
        [(r.rule, r.nature, r.severity, r.enabled) for r in rules.rules],
    )
    conn.execute("create or replace table cfg_alert_params (rule varchar, param varchar, value double)")
    params = [(r.rule, k, v) for r in rules.rules for k, v in r.params]
    params += [("recovery", "weeks", float(rules.recovery_weeks)), ("recovery", "points", rules.recovery_points)]
    conn.executemany("insert into cfg_alert_params values (?, ?, ?)", params)
    conn.execute("create or replace table cfg_alert_roles (rule varchar, role varchar)")
    roles = [(r.rule, role) for r in rules.rules for role in r.roles]
    if roles:
        conn.executemany("insert into cfg_alert_roles values (?, ?)", roles)

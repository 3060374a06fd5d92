"""The monthly digest: the month in one self-contained HTML file (and optionally by e-mail).

``python -m cslib digest --month YYYY-MM [--as EMAIL] --out DIR [--send]``. Every number
comes from the function the app and the reports use, for the same slice (the role map's
scope with ``--as``, as ``report --as``):

* **tiles**: ``cslib.views.metrics.kpi_tiles`` (the Overview, ``report kpis``), value and change;
* **what moved ARR**: the month's MRR movements (``cslib.views.revenue.movements``, the Negative
  churn page, ``report revenue``) x 12, largest first; **what moved healthy ARR**: the
  healthy bridge of the Health flows page (``cslib.views.flows.bridges``, ``report flows``);
* **nine-box cells** that grew and shrank most in ARR (``cslib.views.ninebox.grid_summary``
  deltas, ``report ninebox``);
* **top risks**: active accounts whose health state fell this month or with an open
  red-light flag at the month end, largest ARR first (``cslib/sql/queries/digest/digest_top_risks.sql``);
* **renewals due** in the 90 days after the month end with the model's expected renewed ARR
  (``cslib.views.renewal_model.upcoming_renewals`` / ``upcoming_summary``, the Renewal model page);
* **open alerts by CSM**: the month's malignant weekly alerts still open in the app store
  (``cslib.views.alerts.month_alerts`` + statuses, ``report alerts``).

The HTML is built for mail clients: tables and inline styles, charts as inline SVG drawn
here (no scripts, no external images, fonts or links to fetch); every text from the data
goes through ``html.escape``. Money is shown with separators and units; codes through
``cslib.labels``. Sending uses the standard library (``smtplib``, ``email.message``): an
HTML part with a plain-text alternative.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cslib import settings
from cslib.charts.common import format_delta, format_value
from cslib.store.db import query
from cslib.store.queries import render
from cslib.deltas import cell_up_is_good, tile_delta
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.labels import label
from cslib.months import month_end

RENEWAL_DAYS = 90
TOP_RISKS = 10
TOP_RENEWALS = 10
TOP_CELLS = 3

GREEN, RED, GREY, INK, MUTED, LINE = "#1a7f37", "#cf222e", "#6e7781", "#1f2328", "#57606a", "#d0d7de"


@dataclass
class Digest:
    """What the digest shows (plain data; ``render_html`` / ``render_text`` draw it)."""

    month: str
    scope: str
    tiles: list[dict[str, Any]]
    arr_moves: pd.DataFrame  # step, label, arr (signed, per year)
    arr_change: float | None
    healthy_moves: pd.DataFrame  # step, label, arr, accounts
    healthy_change: float | None
    health_note: str | None
    cells_grew: pd.DataFrame  # cell_id, label, arr, delta_arr, delta_accounts
    cells_shrank: pd.DataFrame
    risks: pd.DataFrame
    renewals: pd.DataFrame
    renewal_summary: dict[str, Any]
    renewal_window: tuple[dt.date, dt.date]
    alerts_by_csm: pd.DataFrame  # csm, open_alerts, high_severity, accounts
    notes: list[str] = field(default_factory=list)


def month_label(month: str) -> str:
    """'2026-10' -> 'October 2026'."""
    return dt.date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")


def describe_scope(filters: Filters, as_user: str | None = None) -> str:
    """'Whole book' or the filters in words ('CSM: Ben Okafor; Segment: SMB')."""
    parts = []
    for name, values in filters.as_dict().items():
        if name in ("include_non_target", "deny_all", "attributes") or not values:
            continue
        parts.append(f"{label(name) if name != 'csm' else 'CSM'}: {', '.join(label(v) for v in values)}")
    for name, values in (filters.attributes or ()):
        parts.append(f"{label(name)}: {', '.join(values)}")
    text = "; ".join(parts) if parts else "Whole book"
    if filters.deny_all:
        text = "Nothing (no access to the accounts asked for)"
    if filters.include_non_target:
        text += " (non-target accounts included)"
    return f"{text}, as {as_user}" if as_user else text


# --------------------------------------------------------------------------- content
def top_risks(conn, filters: Filters, month: str, limit: int = TOP_RISKS) -> pd.DataFrame:
    """digest_top_risks.sql: account_id, name, segment, csm, csm_team, arr, from_state,
    state, health_score, health_fell, open_flags, oldest_open_flag_on; largest ARR first."""
    sql, params = render("digest_top_risks", filters, alias="f", month=month, month_end=month_end(month),
                         limit=int(limit))
    return query(conn, sql, params)


def open_alerts_by_csm(conn, filters: Filters, month: str, statuses: pd.DataFrame) -> pd.DataFrame:
    """The month's malignant alerts whose status (app store) is open, per CSM: csm,
    open_alerts, high_severity, accounts; most open alerts first, then by name."""
    from cslib.views.alerts import month_alerts, with_status

    alerts = with_status(month_alerts(conn, filters, month), statuses)
    open_ = alerts[(alerts["status"] == "open") & (alerts["nature"] == "malignant")].copy()
    if open_.empty:
        return pd.DataFrame(columns=["csm", "open_alerts", "high_severity", "accounts"])
    open_["csm"] = open_["csm"].fillna("Unassigned")
    out = open_.groupby("csm", as_index=False).agg(
        open_alerts=("alert_id", "count"),
        high_severity=("severity", lambda s: int((s == "high").sum())),
        accounts=("account_id", "nunique"),
    )
    return out.sort_values(["open_alerts", "csm"], ascending=[False, True]).reset_index(drop=True)


def _statuses(db_path) -> pd.DataFrame:
    from cslib.store.appstore import AppStore, default_path

    try:
        return AppStore(default_path(db_path)).alert_statuses()
    except Exception:  # no store (nothing set in the app yet) or unreadable: every alert open
        return AppStore.empty_alert_statuses()


def build_digest(conn, filters: Filters, month: str, db_path=None, scope: str | None = None,
                 statuses: pd.DataFrame | None = None) -> Digest:
    """Every section of the digest for ``month`` and the slice ``filters``."""
    from cslib.views.drivers import month_drivers
    from cslib.views.metrics import NO_HEALTH_DATA, health_data_status, kpi_tiles
    from cslib.months import check_month, data_months
    from cslib.views.ninebox import grid_summary
    from cslib.views.renewal_model import upcoming_renewals, upcoming_summary

    first, last = data_months(conn)
    month = check_month(month, first, last)
    tiles = kpi_tiles(conn, filters, month)

    arr_tile = next(t for t in tiles if t["name"] == "arr")
    status = health_data_status(conn, filters, month)
    # what moved ARR and healthy ARR: the Overview's definition (cslib.views.drivers), largest first
    why = month_drivers(conn, filters, month, status.ok, arr_tile["delta"])
    arr_moves, steps = why.arr_moves, why.healthy_steps
    health_note = None if status.ok else f"{NO_HEALTH_DATA}: {status.reason}"

    grid = grid_summary(conn, filters, month)["grid"].copy()
    grid["label"] = grid["cell_id"].map(label)
    known = grid[grid["delta_arr"].notna()] if status.ok else grid.iloc[0:0]
    grew = known[known["delta_arr"] > 0.005].sort_values(["delta_arr", "cell_id"], ascending=[False, True])
    shrank = known[known["delta_arr"] < -0.005].sort_values(["delta_arr", "cell_id"])
    cols = ["cell_id", "label", "accounts", "arr", "delta_accounts", "delta_arr"]

    upcoming = upcoming_renewals(conn, filters, month, days=RENEWAL_DAYS)
    summary = upcoming_summary(upcoming)
    upcoming = upcoming.assign(expected_arr=upcoming["p_renewal"].astype(float) * upcoming["due_arr"].astype(float))
    top = upcoming.sort_values(["due_arr", "due_on", "name"], ascending=[False, True, True]).head(TOP_RENEWALS)
    end_on = month_end(month)

    if statuses is None:
        statuses = _statuses(db_path)
    return Digest(
        month=month,
        scope=scope or describe_scope(filters),
        tiles=tiles,
        arr_moves=arr_moves,
        arr_change=arr_tile["delta"],
        healthy_moves=steps,
        healthy_change=why.healthy_change,
        health_note=health_note,
        cells_grew=grew.head(TOP_CELLS)[cols].reset_index(drop=True),
        cells_shrank=shrank.head(TOP_CELLS)[cols].reset_index(drop=True),
        risks=top_risks(conn, filters, month),
        renewals=top.reset_index(drop=True),
        renewal_summary=summary,
        renewal_window=(end_on + dt.timedelta(days=1), end_on + dt.timedelta(days=RENEWAL_DAYS)),
        alerts_by_csm=open_alerts_by_csm(conn, filters, month, statuses),
    )


# --------------------------------------------------------------------------- formatting
def money(value: float | None) -> str:
    """$1,234,567 (whole currency units, thousands separators); '–' when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    value = float(value)
    return f"{'-' if value < -0.005 else ''}${abs(value):,.0f}"


def signed_money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return ("+" if value >= 0.005 else "") + money(value)


def percent(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value) * 100:.0f}%"


def tile_value(tile: dict) -> str:
    return format_value(tile["value"], tile["format"]) if tile["value"] is not None else "n/a"


def tile_change(tile: dict) -> tuple[str | None, str]:
    """(text, colour) of a tile's change: the app's rule (cslib.deltas), as a CSS colour."""
    change = tile_delta(tile["delta"], tile["format"], tile.get("up_is_good", True), format_delta)
    if change.text is None:
        return None, GREY
    if change.color == "off" or change.arrow == "off":
        return change.text, GREY
    up = not change.text.startswith("-")
    good = up if change.color == "normal" else not up
    return change.text, GREEN if good else RED


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --------------------------------------------------------------------------- HTML
_TD = f"padding:6px 8px;border-bottom:1px solid {LINE};font-size:14px;color:{INK};"
_TH = f"padding:6px 8px;border-bottom:2px solid {LINE};font-size:12px;color:{MUTED};text-align:left;font-weight:600;"
_NUM = "text-align:right;white-space:nowrap;"


def _table(section: str, headers: list[str], rows: list[list[tuple[str, str]]], numeric: set[int]) -> str:
    """A mail-safe table; rows are lists of (escaped html, extra style)."""
    head = "".join(f'<th style="{_TH}{_NUM if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td style="{_TD}{_NUM if i in numeric else ""}{style}">{cell}</td>'
                         for i, (cell, style) in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (f'<table role="presentation" data-section="{_e(section)}" cellpadding="0" cellspacing="0" '
            f'style="border-collapse:collapse;width:100%;margin:4px 0 12px 0;">'
            f"<tr>{head}</tr>{body}</table>")


def _h2(text: str, anchor: str) -> str:
    return (f'<h2 id="{_e(anchor)}" style="font-size:18px;color:{INK};margin:24px 0 6px 0;'
            f'border-bottom:1px solid {LINE};padding-bottom:4px;">{_e(text)}</h2>')


def _p(text_html: str, muted: bool = False) -> str:
    return f'<p style="font-size:14px;color:{MUTED if muted else INK};margin:4px 0 8px 0;">{text_html}</p>'


def bar_chart_svg(labels: list[str], values: list[float], title: str, width: int = 560) -> str:
    """A horizontal bar chart as inline SVG: positive bars green to the right of the zero
    line, negative red to the left; each bar labelled with its amount. No scripts, no links."""
    if not values:
        return ""
    row_h, label_w, pad = 24, 190, 8
    chart_w = width - label_w - 2 * pad
    biggest = max(abs(v) for v in values) or 1.0
    has_neg = any(v < 0 for v in values)
    has_pos = any(v > 0 for v in values)
    if has_neg and has_pos:
        zero = label_w + pad + chart_w / 2
        scale = (chart_w / 2 - 70) / biggest
    elif has_neg:
        zero = label_w + pad + chart_w - 10
        scale = (chart_w - 90) / biggest
    else:
        zero = label_w + pad + 10
        scale = (chart_w - 90) / biggest
    height = row_h * len(values) + 2 * pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" '
             f'style="display:block;max-width:100%;font-family:Arial,Helvetica,sans-serif;">',
             f"<title>{_e(title)}</title>",
             f'<line x1="{zero:.1f}" y1="{pad}" x2="{zero:.1f}" y2="{height - pad}" stroke="{MUTED}" stroke-width="1"/>']
    for i, (name, value) in enumerate(zip(labels, values)):
        y = pad + i * row_h
        length = abs(value) * scale
        x = zero if value >= 0 else zero - length
        colour = GREEN if value >= 0 else RED
        parts.append(f'<text x="{label_w}" y="{y + 16}" font-size="12" text-anchor="end" fill="{INK}">{_e(name)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{max(length, 1):.1f}" height="{row_h - 8}" fill="{colour}"/>')
        tx, anchor = (zero + length + 4, "start") if value >= 0 else (zero - length - 4, "end")
        parts.append(f'<text x="{tx:.1f}" y="{y + 16}" font-size="12" text-anchor="{anchor}" fill="{INK}">'
                     f"{_e(signed_money(value))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _tiles_html(d: Digest) -> str:
    cells = []
    for tile in d.tiles:
        change, colour = tile_change(tile)
        reason = f'<div style="font-size:11px;color:{MUTED};">n/a: {_e(tile["reason"])}</div>' if tile.get("reason") else ""
        cells.append(
            f'<td data-tile="{_e(tile["name"])}" style="padding:10px;border:1px solid {LINE};vertical-align:top;width:25%;">'
            f'<div style="font-size:12px;color:{MUTED};">{_e(tile["label"])}</div>'
            f'<div class="value" style="font-size:22px;font-weight:700;color:{INK};">{_e(tile_value(tile))}</div>'
            f'<div class="delta" style="font-size:12px;color:{colour};">{_e(change or "no change shown")}'
            f"{'' if change is None else ' vs last month'}</div>{reason}</td>"
        )
    rows = "".join("<tr>" + "".join(cells[i:i + 4]) + "</tr>" for i in range(0, len(cells), 4))
    return (f'<table role="presentation" data-section="tiles" cellpadding="0" cellspacing="0" '
            f'style="border-collapse:collapse;width:100%;">{rows}</table>')


def render_html(d: Digest) -> str:
    """The digest as one self-contained HTML document (no scripts, nothing fetched)."""
    title = f"Healthgrid digest · {month_label(d.month)}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title></head>",
        '<body style="margin:0;padding:0;background:#f6f8fa;">',
        '<table role="presentation" cellpadding="0" cellspacing="0" style="width:100%;background:#f6f8fa;"><tr><td>',
        f'<div style="max-width:680px;margin:0 auto;background:#ffffff;padding:20px 24px;'
        f'font-family:Arial,Helvetica,sans-serif;color:{INK};">',
        f'<h1 style="font-size:22px;margin:0 0 4px 0;color:{INK};">{_e(title)}</h1>',
        _p(f"Scope: {_e(d.scope)}. The same numbers as the app for {_e(month_label(d.month))}.", muted=True),
        _h2("The month in numbers", "tiles"),
        _tiles_html(d),
    ]

    # what moved them
    out.append(_h2("What moved ARR", "arr-moves"))
    if d.arr_moves.empty:
        out.append(_p("No MRR movement this month."))
    else:
        out.append(_p(f"ARR changed by <b>{_e(signed_money(d.arr_change))}</b> from last month "
                      "(MRR movements x 12, largest first)."))
        out.append(bar_chart_svg(list(d.arr_moves["label"]), list(d.arr_moves["arr"]), "ARR movements"))
        out.append(_table("arr-moves", ["Movement", "ARR"],
                          [[(_e(r.label), ""), (_e(signed_money(r.arr)), "")] for r in d.arr_moves.itertuples()], {1}))
    out.append(_h2("What moved healthy ARR", "healthy-moves"))
    if d.health_note:
        out.append(_p(_e(d.health_note)))
    elif d.healthy_moves.empty:
        out.append(_p("Healthy ARR did not move this month."))
    else:
        out.append(_p(f"Healthy ARR changed by <b>{_e(signed_money(d.healthy_change))}</b> "
                      "(the Health flows bridge, largest steps first)."))
        out.append(bar_chart_svg([s.lstrip("+−- ") for s in d.healthy_moves["label"]],
                                 list(d.healthy_moves["arr"]), "Healthy ARR bridge"))
        out.append(_table("healthy-moves", ["Step", "ARR", "Accounts"],
                          [[(_e(r.label), ""), (_e(signed_money(r.arr)), ""), (_e(f"{int(r.accounts):,}"), "")]
                           for r in d.healthy_moves.itertuples()], {1, 2}))

    # nine-box
    out.append(_h2("Nine-box cells that moved most", "ninebox"))
    if d.health_note:
        out.append(_p(_e(d.health_note)))
    for kind, frame in (("grew", d.cells_grew), ("shrank", d.cells_shrank)):
        if frame.empty:
            continue
        rows = []
        for r in frame.itertuples():
            good = cell_up_is_good(r.cell_id)
            good = None if good is None else (good if r.delta_arr > 0 else not good)
            colour = GREY if good is None else GREEN if good else RED
            rows.append([(_e(r.label), ""), (_e(signed_money(r.delta_arr)), f"color:{colour};"),
                         (_e(f"{int(r.delta_accounts):+,}"), ""), (_e(money(r.arr)), ""), (_e(f"{int(r.accounts):,}"), "")])
        out.append(_p(f"<b>{'Grew' if kind == 'grew' else 'Shrank'} most</b>"))
        out.append(_table(f"ninebox-{kind}", ["Cell", "ARR change", "Accounts change", "ARR now", "Accounts"], rows,
                          {1, 2, 3, 4}))
    if not d.health_note and d.cells_grew.empty and d.cells_shrank.empty:
        out.append(_p("No cell changed."))

    # risks
    out.append(_h2("Top risks", "risks"))
    if d.risks.empty:
        out.append(_p("No account fell in health this month and none has an open red-light flag."))
    else:
        out.append(_p("Largest ARR first: accounts whose health fell this month or with an open red-light flag.",
                      muted=True))
        rows = []
        for r in d.risks.itertuples():
            health = (f"{label(r.from_state)} → {label(r.state)}" if r.health_fell else label(r.state))
            rows.append([(_e(r.name), ""), (_e(label(r.segment)), ""), (_e(r.csm or "Unassigned"), ""),
                         (_e(money(r.arr)), ""), (_e(health), f"color:{RED};" if r.health_fell else ""),
                         (_e(f"{int(r.open_flags):,}"), f"color:{RED};" if r.open_flags else "")])
        out.append(_table("risks", ["Account", "Segment", "CSM", "ARR", "Health", "Open flags"], rows, {3, 5}))

    # renewals
    start, end = d.renewal_window
    s = d.renewal_summary
    out.append(_h2(f"Renewals due {start:%d %b} to {end:%d %b %Y}", "renewals"))
    if not s["renewals"]:
        out.append(_p("No renewal due in the next 90 days."))
    else:
        expected = money(s["expected_arr"]) if math.isfinite(s["expected_arr"]) and not d.renewals["p_renewal"].isna().all() else "n/a (no model)"
        out.append(_p(f"<b>{s['renewals']:,}</b> renewals, <b>{_e(money(s['due_arr']))}</b> ARR due; the model "
                      f"expects <b>{_e(expected)}</b> renewed; <b>{_e(money(s['at_risk_arr']))}</b> due on renewals "
                      "below 50% likelihood."))
        rows = []
        for r in d.renewals.itertuples():
            p = None if pd.isna(r.p_renewal) else float(r.p_renewal)
            rows.append([(_e(r.name), ""), (_e(r.csm or "Unassigned"), ""), (_e(f"{r.due_on:%d %b %Y}"), ""),
                         (_e(money(r.due_arr)), ""), (_e(percent(p)), f"color:{RED};" if p is not None and p < 0.5 else ""),
                         (_e(money(r.expected_arr) if p is not None else "–"), "")])
        out.append(_p(f"The {len(d.renewals)} largest:", muted=True))
        out.append(_table("renewals", ["Account", "CSM", "Due", "ARR due", "Likelihood", "Expected ARR"], rows,
                          {3, 4, 5}))

    # alerts
    out.append(_h2("Open alerts by CSM", "alerts"))
    if d.alerts_by_csm.empty:
        out.append(_p("No open warning alert this month."))
    else:
        out.append(_p("Warning alerts of the month's weeks still open in the app.", muted=True))
        rows = [[(_e(r.csm), ""), (_e(f"{int(r.open_alerts):,}"), ""), (_e(f"{int(r.high_severity):,}"), ""),
                 (_e(f"{int(r.accounts):,}"), "")] for r in d.alerts_by_csm.itertuples()]
        out.append(_table("alerts", ["CSM", "Open alerts", "High severity", "Accounts"], rows, {1, 2, 3}))

    out.append(_p("Healthgrid · definitions as in the app (Overview, Health flows, Nine-box, Renewal model). "
                  "Generated from the data; reply to your CS operations team with questions.", muted=True))
    out.append("</div></td></tr></table></body></html>")
    return "\n".join(out) + "\n"


def render_text(d: Digest) -> str:
    """The plain-text alternative of the e-mail (the same numbers)."""
    lines = [f"Healthgrid digest · {month_label(d.month)}", f"Scope: {d.scope}", "", "THE MONTH IN NUMBERS"]
    for tile in d.tiles:
        change, _ = tile_change(tile)
        lines.append(f"  {tile['label']}: {tile_value(tile)}" + (f" ({change} vs last month)" if change else ""))
    lines += ["", f"WHAT MOVED ARR ({signed_money(d.arr_change)})"]
    lines += [f"  {r.label}: {signed_money(r.arr)}" for r in d.arr_moves.itertuples()] or ["  no movement"]
    lines += ["", "WHAT MOVED HEALTHY ARR" + (f" ({signed_money(d.healthy_change)})" if not d.health_note else "")]
    lines += [f"  {d.health_note}"] if d.health_note else [
        f"  {r.label}: {signed_money(r.arr)} ({int(r.accounts)} accounts)" for r in d.healthy_moves.itertuples()]
    lines += ["", "NINE-BOX CELLS THAT MOVED MOST"]
    for kind, frame in (("grew", d.cells_grew), ("shrank", d.cells_shrank)):
        lines += [f"  {kind}: {r.label} {signed_money(r.delta_arr)} ({int(r.delta_accounts):+d} accounts)"
                  for r in frame.itertuples()]
    lines += ["", "TOP RISKS"]
    lines += [f"  {r.name} ({r.csm or 'Unassigned'}): {money(r.arr)}, "
              + (f"{label(r.from_state)} -> {label(r.state)}" if r.health_fell else label(r.state))
              + (f", {int(r.open_flags)} open flag(s)" if r.open_flags else "") for r in d.risks.itertuples()] or ["  none"]
    s = d.renewal_summary
    lines += ["", f"RENEWALS DUE IN THE NEXT {RENEWAL_DAYS} DAYS: {s['renewals']} renewals, {money(s['due_arr'])} due, "
              f"{money(s['expected_arr'])} expected renewed"]
    lines += [f"  {r.name}: {money(r.due_arr)} due {r.due_on:%d %b %Y}, likelihood {percent(r.p_renewal)}"
              for r in d.renewals.itertuples()]
    lines += ["", "OPEN ALERTS BY CSM"]
    lines += [f"  {r.csm}: {int(r.open_alerts)} open ({int(r.high_severity)} high)" for r in d.alerts_by_csm.itertuples()] or ["  none"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- files and mail
def file_name(month: str, as_user: str | None = None) -> str:
    """'digest-2026-10.html', or 'digest-2026-10-ben-example-com.html' for a user's scope."""
    if not as_user:
        return f"digest-{month}.html"
    return f"digest-{month}-{re.sub(r'[^a-z0-9]+', '-', as_user.lower()).strip('-')}.html"


def write_digest(db_path, month: str, filters: Filters, out_dir, as_user: str | None = None) -> tuple[Path, Digest]:
    """Build the digest from the database at ``db_path`` and write it to ``out_dir``."""
    from cslib.store.db import open_checked
    from cslib.filters import check_attributes, check_values

    conn = open_checked(db_path)
    try:
        check_attributes(conn, filters)
        check_values(conn, filters)
        digest = build_digest(conn, filters, month, db_path=db_path, scope=describe_scope(filters, as_user))
    finally:
        conn.close()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / file_name(digest.month, as_user)
        path.write_text(render_html(digest), encoding="utf-8")
    except OSError as err:
        raise UserError(f"{out}: cannot write the digest ({err.strerror or err})") from None
    return path, digest


def subject(month: str) -> str:
    return f"Healthgrid digest · {month_label(month)}"


def message(digest: Digest, sender: str, recipients: list[str]):
    """The e-mail: plain text with the HTML as the preferred alternative."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["Subject"] = subject(digest.month)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(render_text(digest))
    msg.add_alternative(render_html(digest), subtype="html")
    return msg


def _recipients(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def send_digest(digest: Digest, to: str | None = None) -> list[str]:
    """Send ``digest`` through the SMTP server of the settings (HEALTHGRID_SMTP_*,
    HEALTHGRID_DIGEST_FROM / _TO; ``to`` overrides the recipients). Returns the recipients.
    One-line UserError when sending is not configured or the server refuses."""
    import smtplib
    import ssl

    host = settings.get("HEALTHGRID_SMTP_HOST").strip()
    sender = settings.get("HEALTHGRID_DIGEST_FROM").strip()
    recipients = _recipients(to if to is not None else settings.get("HEALTHGRID_DIGEST_TO"))
    if not host:
        raise UserError("sending is not configured: set HEALTHGRID_SMTP_HOST (docs/digest.md)")
    if not sender:
        raise UserError("sending is not configured: set HEALTHGRID_DIGEST_FROM (docs/digest.md)")
    if not recipients:
        raise UserError("no recipients: set HEALTHGRID_DIGEST_TO or pass --to")
    bad = [r for r in [sender, *recipients] if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+", r)]
    if bad:
        raise UserError(f"not an e-mail address: {bad[0]!r}")
    port_text = settings.get("HEALTHGRID_SMTP_PORT").strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserError(f"HEALTHGRID_SMTP_PORT: expected a port number, got {port_text!r}")
    starttls = settings.get("HEALTHGRID_SMTP_STARTTLS").strip()
    if starttls not in ("0", "1"):
        raise UserError(f"HEALTHGRID_SMTP_STARTTLS: expected 1 or 0, got {starttls!r}")
    user, password = settings.get("HEALTHGRID_SMTP_USER"), settings.get("HEALTHGRID_SMTP_PASSWORD")
    msg = message(digest, sender, recipients)
    try:
        with smtplib.SMTP(host, int(port_text), timeout=30) as smtp:
            smtp.ehlo()
            if starttls == "1":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                smtp.login(user, password)
            smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
    except (OSError, smtplib.SMTPException) as err:
        detail = " ".join(str(err).split()) or type(err).__name__
        raise UserError(f"could not send the digest through {host}:{port_text}: {detail}") from None
    return recipients

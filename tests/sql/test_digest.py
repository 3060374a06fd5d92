"""The monthly digest (issue 17, point 3): content on the hand-made book, the same numbers
as the reports on the small demo, a mail-safe HTML file, and sending to a local SMTP server.

Tiny book (tests_support.book), March 2026, target accounts, plus for this test: a2's name
and a3's CSM are hostile HTML, a red-light flag logged on a2 on 2026-03-27 (after its renewal order of 03-25, so open at the
month end), and a pending renewal of a1 due 2026-04-15 (120,000 ARR).

Hand-computed (MRR x 12): ARR moved +12,000 = upsell +12,000 (a5 2000 -> 3000) + cross-sell
+12,000 (a1 analytics 1000) + contraction -12,000 (a2 5000 -> 4000). Healthy ARR 108,000 ->
120,000: expansion of healthy +12,000 (a1). Nine-box: a2 moves from High value · At risk
(60,000 in February) to Mid value · At risk (48,000): Mid value · At risk +48,000, High
value · Healthy +12,000 (a1), High value · At risk -60,000. Top risks: a2 only (open flag;
no tier fell). Renewals due 1 Apr .. 29 Jun: a1, 120,000.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socketserver
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cslib.views import digest as dg
from cslib.store import pipeline
from cslib.charts.common import format_value
from cslib.store.db import open_checked, replace_atomically
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs, render_report
from tests_support.book import TINY_EXPECTED, build_tiny_book
from tests_support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAME = '<script>alert("x")</script> Birch & <b>Retail</b>'
HOSTILE_CSM = "Ben <img src=http://evil.example/x.png onerror=alert(1)>"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("digest") / "tiny.duckdb"
    build_tiny_book(path)
    with replace_atomically(path, copy_existing=True) as conn:
        conn.execute("update raw_accounts set name = ? where account_id = 'a2'", [HOSTILE_NAME])
        conn.execute("update raw_accounts set csm = ? where account_id = 'a3'", [HOSTILE_CSM])
        conn.execute("insert into raw_csm_logs values ('l1', 'a2', DATE '2026-03-27', 'Ana Lima', 'risk_flag', "
                     "'competitor', 'Evaluating a competitor')")
        conn.execute("insert into raw_renewals values ('a1', DATE '2026-04-15', 120000.0, NULL, NULL, 'pending')")
        pipeline.build_models(conn)
    return path


@pytest.fixture(scope="module")
def tiny_digest(book):
    conn = open_checked(book)
    try:
        return dg.build_digest(conn, Filters(), "2026-03", db_path=book)
    finally:
        conn.close()


class _Sections(HTMLParser):
    """Text of every table cell, per data-section, and every tile's value."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, list[list[str]]] = {}
        self.tiles: dict[str, dict[str, str]] = {}
        self._section = self._tile = self._part = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-section" in a:
            self._section = a["data-section"]
            self.sections[self._section] = []
        elif tag == "tr" and self._section:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            if "data-tile" in a:
                self._tile = a["data-tile"]
                self.tiles[self._tile] = {}
        elif tag == "div" and self._tile and a.get("class") in ("value", "delta"):
            self._part = a["class"]
            self.tiles[self._tile][self._part] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
            self._tile = None
        elif tag == "tr" and self._row is not None and self._section:
            self.sections[self._section].append(self._row)
            self._row = None
        elif tag == "table":
            self._section = None
        elif tag == "div":
            self._part = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._tile and self._part:
            self.tiles[self._tile][self._part] += data


def _parse(page: str) -> _Sections:
    parser = _Sections()
    parser.feed(page)
    return parser


# --------------------------------------------------------------------------- content, by hand
def test_tiny_book_sections_by_hand(tiny_digest):
    d = tiny_digest
    tiles = {t["name"]: t for t in d.tiles}
    for name, value in TINY_EXPECTED["2026-03"].items():
        if name in tiles:
            assert tiles[name]["value"] == pytest.approx(value)
    assert list(zip(d.arr_moves["label"], d.arr_moves["arr"])) == [
        ("Upsell", 12_000), ("Cross-sell", 12_000), ("Contraction", -12_000)]
    assert d.arr_change == pytest.approx(12_000)
    assert list(zip(d.healthy_moves["step"], d.healthy_moves["arr"])) == [("expansion", 12_000)]
    assert d.healthy_change == pytest.approx(12_000)
    assert list(zip(d.cells_grew["cell_id"], d.cells_grew["delta_arr"])) == [("mid|at_risk", 48_000),
                                                                            ("high|healthy", 12_000)]
    assert list(zip(d.cells_shrank["cell_id"], d.cells_shrank["delta_arr"], d.cells_shrank["delta_accounts"])) == [
        ("high|at_risk", -60_000, -1)]
    assert d.risks[["account_id", "arr", "open_flags", "health_fell"]].values.tolist() == [["a2", 48_000, 1, False]]
    assert d.renewal_summary["renewals"] == 1 and d.renewal_summary["due_arr"] == 120_000
    assert str(d.renewal_window[0]) == "2026-04-01" and str(d.renewal_window[1]) == "2026-06-29"


def test_tiny_book_html_shows_the_numbers(tiny_digest):
    page = dg.render_html(tiny_digest)
    parsed = _parse(page)
    assert parsed.tiles["arr"]["value"] == "$216K"  # format_value, as the Overview tile
    assert parsed.tiles["arr"]["delta"] == "+$12.0K vs last month"
    assert parsed.tiles["health_rate"]["value"] == "55.6%"
    assert parsed.tiles["nrr"]["value"] == "105.9%" and parsed.tiles["grr"]["value"] == "94.1%"
    assert parsed.sections["arr-moves"][1:] == [["Upsell", "+$12,000"], ["Cross-sell", "+$12,000"],
                                                ["Contraction", "-$12,000"]]
    assert parsed.sections["healthy-moves"][1:] == [["+ Expansion of healthy", "+$12,000", "1"]]
    assert parsed.sections["ninebox-grew"][1] == ["Mid value · At risk", "+$48,000", "+1", "$48,000", "1"]
    assert parsed.sections["ninebox-shrank"][1] == ["High value · At risk", "-$60,000", "-1", "$0", "0"]
    assert parsed.sections["risks"][1] == [HOSTILE_NAME, "Mid-market", "Ben Okafor", "$48,000", "At risk", "1"]
    assert parsed.sections["renewals"][1][:4] == ["Acme Works", "Ana Lima", "15 Apr 2026", "$120,000"]
    assert "April 2026" not in page and "Healthgrid digest · March 2026" in page


def test_html_is_mail_safe_and_escapes_data(tiny_digest):
    page = dg.render_html(tiny_digest)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "url(" not in page and "@import" not in page
    assert html_escape(HOSTILE_NAME) in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Birch &amp; &lt;b&gt;Retail&lt;/b&gt;" in page


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_hostile_csm_name_is_escaped_in_the_alerts_and_text(tiny_digest, book):
    conn = open_checked(book)
    try:
        d = dg.build_digest(conn, Filters(csm=(HOSTILE_CSM,)), "2026-03", db_path=book)
    finally:
        conn.close()
    page = dg.render_html(d)
    assert "<img" not in page and "&lt;img src=http://evil.example/x.png onerror=alert(1)&gt;" in page
    assert d.tiles[0]["value"] == 12_000  # a3 only: 1000 x 12


# --------------------------------------------------------------------------- same numbers as the reports
def _report(name, db, month, filters=Filters()):
    return json.loads(render_report(name, db, ReportArgs(month=month, filters=filters), "json"))


@pytest.mark.parametrize("filters", [Filters(), Filters(segment=("smb",)), Filters(csm_team=("strategic",))],
                         ids=["book", "smb", "strategic-team"])
def test_sections_equal_the_reports_on_the_demo(small_demo_db, filters):
    month = "2026-10"
    conn = open_checked(small_demo_db)
    try:
        d = dg.build_digest(conn, filters, month, db_path=small_demo_db)
    finally:
        conn.close()
    parsed = _parse(dg.render_html(d))

    kpis = {r["name"]: r for r in _report("kpis", small_demo_db, month, filters)["rows"]}
    for tile in d.tiles:
        assert tile["value"] == pytest.approx(kpis[tile["name"]]["value"], abs=1e-6)
        value = kpis[tile["name"]]["value"]
        assert parsed.tiles[tile["name"]]["value"] == ("n/a" if value is None else format_value(value, tile["format"]))

    movements = _report("revenue", small_demo_db, month, filters)["movements"][-1]
    assert movements["month"] == month
    for row in d.arr_moves.itertuples():
        assert row.arr == pytest.approx(movements[row.step] * 12, abs=0.01)
    assert sum(d.arr_moves["arr"]) == pytest.approx(kpis["arr"]["delta"], abs=0.05)

    flows = _report("flows", small_demo_db, month, filters)["healthy_bridge"]
    steps = {r["step"]: r["arr"] for r in flows if r["kind"] == "step"}
    for row in d.healthy_moves.itertuples():
        assert row.arr == pytest.approx(steps[row.step], abs=0.01)
    assert d.healthy_change == pytest.approx(sum(steps.values()), abs=0.05)

    grid = {r["cell_id"]: r for r in _report("ninebox", small_demo_db, month, filters)["grid"]}
    moved = sorted(((r["delta_arr"], c) for c, r in grid.items() if r["delta_arr"] and abs(r["delta_arr"]) > 0.005))
    assert list(d.cells_shrank["cell_id"]) == [c for v, c in moved if v < 0][:3]
    assert list(d.cells_grew["cell_id"]) == [c for v, c in reversed(moved) if v > 0][:3]
    for row in [*d.cells_grew.itertuples(), *d.cells_shrank.itertuples()]:
        assert row.delta_arr == pytest.approx(grid[row.cell_id]["delta_arr"], abs=0.01)

    alerts = _report("alerts", small_demo_db, month, filters)["alerts"]
    counts: dict[str, int] = {}
    for a in alerts:
        if a["status"] == "open" and a["nature"] == "malignant":
            counts[a["csm"]] = counts.get(a["csm"], 0) + 1
    assert dict(zip(d.alerts_by_csm["csm"], d.alerts_by_csm["open_alerts"])) == counts
    assert {r[0]: int(r[1]) for r in parsed.sections.get("alerts", [[]])[1:]} == counts


def test_an_empty_slice_gives_a_digest_without_numbers(small_demo_db):
    conn = open_checked(small_demo_db)
    try:
        d = dg.build_digest(conn, Filters(csm_team=("No such team",)), "2026-10", db_path=small_demo_db)
    finally:
        conn.close()
    page = dg.render_html(d)
    assert _parse(page).tiles["arr"]["value"] == "$0"
    assert "No MRR movement this month." in page and "No renewal due in the next 90 days." in page


def test_digest_command_scoped_by_the_role_map(small_demo_db, tmp_path):
    conn = open_checked(small_demo_db)
    try:
        csm = conn.execute("select csm from account_month where month = '2026-10' and is_active "
                           "group by csm order by sum(arr) desc, csm limit 1").fetchone()[0]
    finally:
        conn.close()
    roles = tmp_path / "roles.toml"
    roles.write_text(f'[users."csm@example.com"]\nrole = "csm"\ncsm = "{csm}"\n', encoding="utf-8")
    env = {**os.environ, "HEALTHGRID_ROLES": str(roles)}
    out = tmp_path / "out"
    proc = run_cli("digest", "--db", str(small_demo_db), "--month", "2026-10",
                   "--as", "csm@example.com", "--out", str(out), cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    path = out / "digest-2026-10-csm-example-com.html"
    assert proc.stdout == f"digest written: {path}\n"
    parsed = _parse(path.read_text(encoding="utf-8"))
    scoped = {r["name"]: r for r in _report("kpis", small_demo_db, "2026-10", Filters(csm=(csm,)))["rows"]}
    assert parsed.tiles["arr"]["value"] == format_value(scoped["arr"]["value"], "money")
    assert {r[2] for r in parsed.sections.get("risks", [[], ])[1:]} <= {csm}
    assert {r[0] for r in parsed.sections.get("alerts", [[]])[1:]} <= {csm}

    proc = run_cli("digest", "--db", str(small_demo_db), "--month", "2026-10",
                   "--as", "eve@example.com", "--out", str(out), cwd=ROOT, env=env)
    assert proc.returncode == 2
    assert proc.stderr == f"error: eve@example.com: not in the role map {roles}: no access\n"
    proc = run_cli("digest", "--db", str(small_demo_db), "--month", "2026-13", "--out", str(out), cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.startswith("error: month must be YYYY-MM")
    assert len(proc.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- sending
class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self):
        self._reply("220 localhost test SMTP")
        envelope: dict = {"from": None, "to": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-localhost")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 localhost")
            elif verb == "MAIL":
                envelope = {"from": command.split(":", 1)[1].strip(), "to": []}
                self._reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command.split(":", 1)[1].strip())
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    body.append(data[1:] if data.startswith(b"..") else data)
                self.server.received.append({**envelope, "data": b"".join(body)})
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


@pytest.fixture()
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_send_to_a_local_smtp_server(tiny_digest, smtp_server, monkeypatch):
    monkeypatch.setenv("HEALTHGRID_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HEALTHGRID_SMTP_PORT", str(smtp_server.server_address[1]))
    monkeypatch.setenv("HEALTHGRID_SMTP_STARTTLS", "0")
    monkeypatch.setenv("HEALTHGRID_SMTP_USER", "")
    monkeypatch.setenv("HEALTHGRID_DIGEST_FROM", "healthgrid@example.com")
    monkeypatch.setenv("HEALTHGRID_DIGEST_TO", "ceo@example.com, cfo@example.com")
    assert dg.send_digest(tiny_digest) == ["ceo@example.com", "cfo@example.com"]
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert got["from"] == "<healthgrid@example.com>"
    assert got["to"] == ["<ceo@example.com>", "<cfo@example.com>"]
    msg = email.message_from_bytes(got["data"], policy=email.policy.default)
    assert msg["Subject"] == "Healthgrid digest · March 2026"
    assert msg["To"] == "ceo@example.com, cfo@example.com"
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    page, text = html_part.get_content(), text_part.get_content()
    arr = format_value(next(t for t in tiny_digest.tiles if t["name"] == "arr")["value"], "money")
    assert arr == "$216K" and arr in page and f"ARR: {arr}" in text
    assert "<script" not in page.lower()
    assert _parse(page).tiles["health_rate"]["value"] == "55.6%"


def test_sending_needs_configuration_and_a_reachable_server(tiny_digest, monkeypatch):
    for name in ("HEALTHGRID_SMTP_HOST", "HEALTHGRID_DIGEST_FROM", "HEALTHGRID_DIGEST_TO"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UserError) as err:
        dg.send_digest(tiny_digest)
    assert str(err.value) == "sending is not configured: set HEALTHGRID_SMTP_HOST (docs/digest.md)"
    monkeypatch.setenv("HEALTHGRID_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HEALTHGRID_DIGEST_FROM", "healthgrid@example.com")
    with pytest.raises(UserError, match="no recipients"):
        dg.send_digest(tiny_digest)
    with pytest.raises(UserError, match="not an e-mail address: 'nobody'"):
        dg.send_digest(tiny_digest, to="nobody")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HEALTHGRID_SMTP_PORT", str(port))
    monkeypatch.setenv("HEALTHGRID_SMTP_STARTTLS", "0")
    with pytest.raises(UserError) as err:
        dg.send_digest(tiny_digest, to="ceo@example.com")
    assert str(err.value).startswith(f"could not send the digest through 127.0.0.1:{port}: ")
    assert "\n" not in str(err.value)

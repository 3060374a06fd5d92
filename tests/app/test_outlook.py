"""ARR outlook page through AppTest on the tiny book from February 2026 (numbers by hand in
tests/sql/test_outlook.py): ARR 204,000; base case keeps every renewal; at-risk renewals
at 50% lose half of a2's 60,000."""


def _tiles(at):
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_base_case_then_one_lever(tiny_db, app_on):
    at = app_on(tiny_db, month="2026-02").run()
    at.switch_page("pages/outlook.py").run()
    assert not at.exception and not at.error
    tiles = _tiles(at)
    assert tiles["ARR now"][0] == "$204K"
    assert tiles["ARR in 12 months"] == ("$492K", "")  # 204,000 + 12 x 24,000 new business
    assert tiles["NRR of today's book"] == ("100.0%", "")
    assert tiles["Health-rate goal for 100.0% NRR"][0] == "100.0%"
    assert "The levers are at the base case. Move one to see its effect here." in [c.value for c in at.caption]
    at.slider(key="outlook_rate_at_risk").set_value(50.0).run()
    tiles = _tiles(at)
    assert tiles["ARR in 12 months"] == ("$462K", "-$30.0K vs base")
    assert tiles["NRR of today's book"] == ("85.3%", "-14.7 pp vs base")  # 174,000 / 204,000
    effects = next(d.value for d in at.dataframe if "Lever" in d.value.columns)
    assert effects.values.tolist() == [["Renewal rate, at risk", "100.0%", "50.0%", "-$30.0K", "-14.7 pp"]]
    at.slider(key="outlook_target").set_value(95.0).run()
    assert _tiles(at)["Health-rate goal for 95.0% NRR"][0] == "94.3%"  # 1 - 10,200 / 180,000

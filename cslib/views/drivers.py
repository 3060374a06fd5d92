"""Why the month moved: the largest contributors to the change in ARR and in healthy ARR.

One definition, used by the Overview ("What moved this month"), the monthly digest and
their tests: ARR's change is split by the month's MRR movements (cslib.views.revenue.movements,
x 12 to ARR: new, reactivation, upsell, cross-sell, usage expansion, contraction, churn);
healthy ARR's change by the Health flows bridge (cslib.views.flows.bridges: accounts turning
healthy or leaving healthy, new healthy accounts, churn, ARR changes of accounts that stayed
healthy). Each list sums exactly to its change (the bridges reconcile), largest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cslib.filters import Filters

#: smaller contributions (in currency units of ARR) are left out of the lists
EPSILON_ARR = 0.005


@dataclass(frozen=True)
class MonthDrivers:
    """``arr_moves``: step, label, arr (signed ARR of the movement); ``healthy_steps``: step,
    label, arr, accounts (signed ARR of the bridge step); both largest |arr| first, zero
    steps left out. ``healthy_start``/``healthy_end``: the bridge's ends (None without health
    data, when ``healthy_steps`` is empty)."""

    month: str
    arr_moves: pd.DataFrame
    arr_change: float
    healthy_steps: pd.DataFrame
    healthy_start: float | None
    healthy_end: float | None

    @property
    def healthy_change(self) -> float | None:
        if self.healthy_start is None or self.healthy_end is None:
            return None
        return self.healthy_end - self.healthy_start


#: the row that reconciles the movements with the ARR tile's change when accounts entered or
#: left the slice between the months (a filter on something that changes, e.g. lifecycle stage)
SLICE_STEP = ("slice", "Entered or left the filters")


def month_drivers(conn, filters: Filters, month: str, health_ok: bool = True,
                  arr_delta: float | None = None) -> MonthDrivers:
    """The contributors to ``month``'s change in ARR and healthy ARR for the slice.

    With ``arr_delta`` (the ARR tile's change), a row "Entered or left the filters" holds
    whatever the movements do not explain (accounts that crossed the filters between the
    months), so the list always sums to the tile's change."""
    from cslib.views.flows import bridges
    from cslib.views.metrics import MOVEMENT_COLUMNS
    from cslib.views.revenue import MOVEMENT_LABELS, movements

    moves = movements(conn, filters, month, month).iloc[0]
    arr_moves = pd.DataFrame([{"step": c, "label": MOVEMENT_LABELS[c], "arr": float(moves[c]) * 12}
                              for c in MOVEMENT_COLUMNS])
    arr_change = float(arr_moves["arr"].sum())
    if arr_delta is not None and abs(float(arr_delta) - arr_change) >= EPSILON_ARR:
        extra = pd.DataFrame([{"step": SLICE_STEP[0], "label": SLICE_STEP[1], "arr": float(arr_delta) - arr_change}])
        arr_moves = pd.concat([arr_moves, extra], ignore_index=True)
        arr_change = float(arr_delta)
    arr_moves = arr_moves[arr_moves["arr"].abs() >= EPSILON_ARR]
    arr_moves = arr_moves.sort_values("arr", key=abs, ascending=False, kind="stable").reset_index(drop=True)

    both = bridges(conn, filters, month)
    healthy = both[both["bridge"] == "healthy"]
    steps = healthy[(healthy["kind"] == "step") & (healthy["arr"].abs() >= EPSILON_ARR)][["step", "label", "arr", "accounts"]]
    steps = steps.sort_values("arr", key=abs, ascending=False, kind="stable").reset_index(drop=True)
    if not health_ok:
        return MonthDrivers(month, arr_moves, arr_change, steps.iloc[0:0], None, None)
    start = float(healthy.loc[healthy["kind"] == "start", "arr"].iloc[0])
    end = float(healthy.loc[healthy["kind"] == "end", "arr"].iloc[0])
    return MonthDrivers(month, arr_moves, arr_change, steps, start, end)

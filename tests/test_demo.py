"""The demo's own summary lines (the demo itself runs in CI as ``make demo``; the packs' outputs are tested
in their own modules)."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.demo import trend_line


@pytest.mark.parametrize(
    ("periods", "averages", "expected"),
    [
        (
            ["2022-01", "2022-12", "2023-06", "2024-01", "2024-12"],
            [80.0, 84.0, 90.0, 92.0, 96.5],
            "平均分 / average score: 2022 年 82.00 → 2024 年 94.25（2022-01 80.00 → 2024-12 96.50）",
        ),
        (  # one year: it is shown once, not compared with itself
            ["2024-01", "2024-02", "2024-12"],
            [82.25, 87.0, 95.32],
            "平均分 / average score: 2024 年 88.19（2024-01 82.25 → 2024-12 95.32）",
        ),
        (  # the periods in any order; days as well as months
            ["2024-12-02", "2023-12-29", "2024-12-01"],
            [90.0, 70.0, 80.0],
            "平均分 / average score: 2023 年 70.00 → 2024 年 85.00（2023-12-29 70.00 → 2024-12-02 90.00）",
        ),
        (["2024-12", "2024-12"], [80.0, 90.0], "平均分 / average score: 2024 年 85.00（2024-12）"),
    ],
)
def test_trend_line_names_the_years_and_periods_it_compares(periods, averages, expected):
    assert trend_line(pd.DataFrame({"period": periods, "average": averages})) == expected

"""`domain.construction.inputs.log_returns`: gaps forward-filled, leading NaN kept, and a
wholly priced window (its fast path) the plain log differences."""

from __future__ import annotations

import numpy as np

from domain.construction.inputs import log_returns


def test_log_returns_when_every_close_priced_then_plain_log_differences():
    closes = np.array([[100.0, 50.0], [110.0, 50.0], [99.0, 55.0]])
    expected = np.diff(np.log(closes), axis=0)
    assert log_returns(closes).tobytes() == expected.tobytes()


def test_log_returns_when_gap_and_late_listing_then_filled_and_leading_nan_kept():
    closes = np.array([[100.0, np.nan], [np.nan, 20.0], [121.0, 0.0], [121.0, 22.0]])
    out = log_returns(closes)
    assert out[0, 0] == 0.0  # the gap carries 100 forward
    assert np.isclose(out[1, 0], np.log(1.21))
    assert np.isnan(out[0, 1])  # no earlier close
    assert out[1, 1] == 0.0  # the bad close carries 20 forward
    assert np.isclose(out[2, 1], np.log(1.1))

"""The peer benchmark (bench/peers.py) and the accounting cross-check against bt.

The peers are optional (the `bench` extra): without them these tests are skipped with the
reason, and the benchmark itself exits 2 naming what is missing.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from bench import peers

NEEDS_BT = pytest.mark.skipif(
    importlib.util.find_spec("bt") is None,
    reason='bt is not installed (pip install -e ".[bench]")',
)
NEEDS_PEERS = pytest.mark.skipif(
    bool(peers.missing_peers()),
    reason='bt and backtrader are not installed (pip install -e ".[bench]")',
)


@NEEDS_BT
def test_bulwark_equity_when_run_beside_bt_then_equal_every_day_to_1e_6(tmp_path) -> None:
    scenario = peers.build_scenario(assets=20, days=300, seed=0)
    market = peers.market_of(scenario)
    bulwark = peers.run_bulwark(scenario, str(tmp_path / "peers.db"))
    bt_equity = peers.run_bt(market, post_trade_sizing=True)
    assert bulwark.shape == bt_equity.shape == (300,)
    assert np.max(np.abs(bulwark / bt_equity - 1.0)) <= 1e-6
    assert abs(bulwark[-1] / peers.CASH - 1.0) > 1e-3  # the book moved: not a flat comparison


@NEEDS_BT
def test_bt_picks_when_compared_with_bulwark_snapshots_then_the_same_holdings(tmp_path) -> None:
    import sqlite3

    import bt

    scenario = peers.build_scenario(assets=20, days=120, seed=1)
    market = peers.market_of(scenario)
    db = str(tmp_path / "peers.db")
    peers.run_bulwark(scenario, db)
    backtest = peers.bt_backtest(market, post_trade_sizing=True)
    bt.run(backtest)
    positions = backtest.positions.iloc[market.start_index + 1 :]
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT step, asset FROM snapshots WHERE quantity > 0").fetchall()
    bulwark_held = {(step, asset) for step, asset in rows}
    bt_held = {
        (step, asset)
        for step, (_date, row) in enumerate(positions.iterrows())
        for asset, quantity in row.items()
        if quantity > 0
    }
    assert bulwark_held == bt_held
    assert len({asset for _step, asset in bt_held}) > peers.TOP_N  # the picks change


def test_targets_when_a_bucket_has_five_of_the_top_ten_then_four_holdings_first() -> None:
    score = np.linspace(0.0, 1.0, 21)  # the top ten: columns 11..20
    buckets = ["A"] * 11 + ["C", "D", "E", "F", "G"] + ["B"] * 5  # five of the top ten in B
    targets = peers.targets_from_scores(score, buckets, held=[16])
    assert sorted(targets) == [11, 12, 13, 14, 15, 16, 18, 19, 20]
    assert list(targets.values()) == pytest.approx([0.95 / 9] * 9)


def test_main_when_a_peer_is_missing_then_exit_2_naming_it(monkeypatch, capsys) -> None:
    monkeypatch.setattr(peers, "PEERS", ("numpy", "bulwark_no_such_peer"))
    assert peers.main(["--assets", "20", "--days", "5"]) == peers.EXIT_MISSING
    err = capsys.readouterr().err
    assert err.strip() == (
        'peers.py: missing the benchmark extras: bulwark_no_such_peer (pip install -e ".[bench]")'
    )


@NEEDS_PEERS
def test_main_when_peers_installed_then_prints_times_and_ratios(capsys) -> None:
    assert peers.main(["--assets", "20", "--days", "80", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("bulwark", "backtrader", "bt", "Bulwark/bt", "Bulwark/backtrader", "load"):
        assert name in out
    assert "Bulwark/bt CPU" in out
    assert "Bulwark/backtrader CPU" in out
    assert out.count("(each round: ") == 4


def test_ratios_when_rounds_differ_then_ratio_of_medians_and_each_round_paired() -> None:
    times = {"bulwark": [2.0, 3.0, 10.0], "bt": [1.0, 6.0, 4.0]}
    median, by_round = peers.ratios(times, "bt")
    assert median == 3.0 / 4.0  # the medians: 3.0 and 4.0, not of the same round
    assert by_round == [2.0, 0.5, 2.5]

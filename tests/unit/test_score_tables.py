"""The per-run scoring tables (`domain.score_tables`) give, on every day, the bytes of the
board a single window gives, read no later row, and leave every scoring step breakable."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from domain.calendar import weekdays
from domain.config import resolve
from domain.construction.desk import Desk, Screen
from domain.market import MarketData
from domain.scenario import Signals
from domain.score_tables import FIRST_DAY, ScoreTables, block_days_for, usable
from domain.scoring import ScoreBoard, apply_overrides, score_as_of, score_assets
from domain.scoring_models import ScoringModel, builtin_model
from domain.stage_mutants import ScoreFundamentalIgnored, ScoreWeightsSwapped
from domain.stages import DEFAULT_STAGES, Stages

FIELDS = ("technical", "fundamental", "score", "trending", "valid", "fundamental_given")
ROWS = 520
WEIGHTS = {"technical_weight": 0.6, "fundamental_weight": 0.4}


def _walks(rows: int, assets: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, 0.015, size=(rows, assets))
    return 100.0 * np.exp(np.cumsum(returns, axis=0))


def _market(kind: str, rows: int = ROWS, assets: int = 9, seed: int = 3) -> np.ndarray:
    """Closes of one kind of market, read-only (as the run's `MarketData.closes`).

    The log returns of a random walk are differences of nearby log closes, on a grid so
    coarse that their sums come out exact in any order; the ``noise`` market's log closes
    are small (closes about 1), so their sums depend on the order of the additions.
    """
    closes = _walks(rows, assets, seed)
    if kind == "noise":
        closes = np.exp(np.random.default_rng(seed).normal(0.0, 0.02, size=(rows, assets)))
    if kind in ("gaps", "mixed"):
        closes[260, 1] = np.nan  # a day without a price
        closes[300:304, 4] = np.nan
        closes[400, :] = np.nan  # a market holiday in the data
    if kind in ("late", "mixed"):
        closes[:150, 0] = np.nan  # listed before the first full window
        closes[:330, 2] = np.nan  # listed well inside the run
        closes[:505, 3] = np.nan  # listed too late to be valid for a while
        closes[:, 5] = np.nan  # never listed
    if kind in ("bad", "mixed"):
        closes[270, 6] = 0.0
        closes[350:355, 7] = -3.0
        closes[450, 8] = np.inf
    if kind == "flat":
        closes[:, :4] = 50.0  # zero volatility: the sigma floor
    closes.flags.writeable = False
    return closes


def _fundamentals(assets: int, missing: bool) -> np.ndarray:
    values = np.linspace(0.05, 0.95, assets)
    if missing:
        values[::3] = np.nan
    return values


def _same_bytes(a: ScoreBoard, b: ScoreBoard) -> bool:
    fields = all(getattr(a, f).tobytes() == getattr(b, f).tobytes() for f in FIELDS)
    dtypes = all(getattr(a, f).dtype == getattr(b, f).dtype for f in FIELDS)
    comps = all(a.components[k].tobytes() == b.components[k].tobytes() for k in a.components)
    return fields and dtypes and comps and list(a.components) == list(b.components)


def _window_board(closes: np.ndarray, t: int, fundamentals: np.ndarray) -> ScoreBoard:
    return score_assets(closes[max(0, t - 199) : t + 1], fundamentals=fundamentals, **WEIGHTS)


def _tables_board(
    closes: np.ndarray, t: int, fundamentals: np.ndarray, tables: ScoreTables
) -> ScoreBoard:
    return score_as_of(closes, t, fundamentals=fundamentals, tables=tables, **WEIGHTS)


@pytest.mark.parametrize(
    ("kind", "assets", "block_days", "missing"),
    [
        ("clean", 9, None, False),
        ("noise", 9, None, True),
        ("noise", 3, 41, False),
        ("clean", 2, 23, True),
        ("flat", 9, 64, True),
        ("gaps", 9, 37, True),
        ("late", 9, 50, False),
        ("bad", 9, 16, True),
        ("mixed", 9, None, True),
        ("mixed", 11, 7, False),
    ],
)
def test_score_as_of_when_tables_given_then_every_day_same_bytes_as_one_window(
    kind: str, assets: int, block_days: int | None, missing: bool
) -> None:
    closes = _market(kind, assets=assets)
    fundamentals = _fundamentals(assets, missing)
    tables = ScoreTables(closes, block_days=block_days)
    differing = [
        t
        for t in range(ROWS)
        if not _same_bytes(
            _tables_board(closes, t, fundamentals, tables), _window_board(closes, t, fundamentals)
        )
    ]
    assert differing == []


def test_score_as_of_when_hundreds_of_columns_then_block_rows_same_bytes_as_one_window() -> None:
    # numpy's SIMD loops take whole vectors and a tail: 513 columns exercise both, on
    # the block path's 2-D arrays (a day's row) against the window's 1-D ones
    rng = np.random.default_rng(11)
    vol = rng.uniform(0.001, 0.05, 513)
    closes = np.exp(np.cumsum(rng.normal(size=(300, 513)) * vol, axis=0)) * 40.0
    closes.flags.writeable = False
    fundamentals = np.where(rng.random(513) < 0.7, rng.random(513), np.nan)
    tables = ScoreTables(closes, block_days=60)
    days = range(FIRST_DAY, 300)
    assert tables.technical_part(FIRST_DAY) is not None
    differing = [
        t
        for t in days
        if not _same_bytes(
            _tables_board(closes, t, fundamentals, tables), _window_board(closes, t, fundamentals)
        )
    ]
    assert differing == []


@pytest.mark.parametrize(("kind", "read_all"), [("clean", True), ("mixed", False)])
def test_clean_when_market_priced_or_not_then_tables_serve_the_wholly_priced_columns(
    kind: str, read_all: bool
) -> None:
    tables = ScoreTables(_market(kind))
    served = np.array([tables.clean(t) for t in range(ROWS)])
    assert not served[:FIRST_DAY].any()  # before a full window: the window path
    assert served[FIRST_DAY:].all() == read_all
    assert served[FIRST_DAY:].any()
    if not read_all:
        assert not served[:, 5].any()  # never listed
        # A gap on row 260 (and the holiday on 400) leave column 1 unclean for 200 rows.
        assert served[FIRST_DAY:260, 1].all() and not served[260:, 1].any()
        assert served[FIRST_DAY:400, 8].all() and not served[400:, 8].any()


def test_score_as_of_when_one_column_unclean_then_it_is_reduced_as_in_the_whole_window() -> None:
    closes = np.array(_market("clean"))
    closes[380, 4] = np.nan  # one lone column takes the window path for 200 days
    closes.flags.writeable = False
    fundamentals = _fundamentals(closes.shape[1], missing=True)
    tables = ScoreTables(closes)
    for t in (380, 450, ROWS - 1):
        assert tables.clean(t).sum() == closes.shape[1] - 1
        got = _tables_board(closes, t, fundamentals, tables)
        assert _same_bytes(got, _window_board(closes, t, fundamentals))


@pytest.mark.parametrize("t", [FIRST_DAY + 32, FIRST_DAY + 47, FIRST_DAY + 63, ROWS - 2])
def test_score_as_of_when_later_rows_change_then_tables_board_of_day_t_unchanged(t: int) -> None:
    closes = _market("mixed")
    changed = np.array(closes)
    changed[t + 1 :] *= 1.7
    changed[t + 1 :: 3, 2] = np.nan
    changed.flags.writeable = False
    fundamentals = _fundamentals(closes.shape[1], missing=True)
    before = _tables_board(closes, t, fundamentals, ScoreTables(closes, block_days=32))
    after = _tables_board(changed, t, fundamentals, ScoreTables(changed, block_days=32))
    assert _same_bytes(before, after)
    later = _tables_board(changed, t + 1, fundamentals, ScoreTables(changed, block_days=32))
    assert not _same_bytes(later, _tables_board(closes, t + 1, fundamentals, ScoreTables(closes)))


def test_score_as_of_when_closes_are_not_the_tables_then_those_closes_are_scored() -> None:
    closes, other = _market("clean"), _market("clean", seed=11)
    fundamentals = _fundamentals(closes.shape[1], missing=False)
    tables = ScoreTables(closes)
    got = _tables_board(other, 400, fundamentals, tables)
    assert not tables.covers(other)
    assert _same_bytes(got, _window_board(other, 400, fundamentals))
    assert not _same_bytes(got, _tables_board(closes, 400, fundamentals, tables))


def _read_only_view(closes: np.ndarray) -> np.ndarray:
    view = closes[:]
    view.flags.writeable = False
    return view


@pytest.mark.parametrize(
    "closes",
    [
        _walks(300, 4, 1),  # writable: could change under the tables
        _read_only_view(_walks(300, 4, 1)),  # its base could change under the tables
        _market("clean")[:, :1],  # one column: numpy sums its window pairwise
        _market("clean")[0],  # 1-D
    ],
)
def test_score_tables_when_closes_unusable_then_value_error(closes: np.ndarray) -> None:
    assert not usable(closes)
    with pytest.raises(ValueError, match="read-only 2-D"):
        ScoreTables(closes)


def test_block_days_for_when_more_assets_then_shorter_blocks_within_bounds() -> None:
    assert block_days_for(2) == 256
    assert block_days_for(500) > block_days_for(2000) == 32
    assert block_days_for(100_000) == 16


# --- the Stages method and the Desk ----------------------------------------------------


def _stage_board(stages: Stages, closes: np.ndarray, t: int, **kw) -> ScoreBoard:
    fundamentals = _fundamentals(closes.shape[1], missing=True)
    return stages.score_as_of(closes, t, fundamentals=fundamentals, **WEIGHTS, **kw)


@pytest.mark.parametrize("mutant", [ScoreWeightsSwapped, ScoreFundamentalIgnored])
def test_stages_score_as_of_when_tables_given_then_scoring_mutant_still_changes_the_board(
    mutant: type[Stages],
) -> None:
    closes = _market("mixed")
    tables = ScoreTables(closes)
    for t in (FIRST_DAY + 10, 420):
        broken = _stage_board(mutant(), closes, t, tables=tables)
        assert _same_bytes(broken, _stage_board(mutant(), closes, t))
        assert not _same_bytes(broken, _stage_board(DEFAULT_STAGES, closes, t, tables=tables))


def test_stages_score_as_of_when_model_and_tables_given_then_model_gets_its_window() -> None:
    closes = _market("clean")
    seen: list[np.ndarray] = []

    def model(window: np.ndarray) -> np.ndarray:
        seen.append(np.array(window))
        return np.full(window.shape[1], 0.25)

    custom = ScoringModel("m:f", model, window=30)
    board = _stage_board(DEFAULT_STAGES, closes, 400, model=custom, tables=ScoreTables(closes))
    assert seen[0].tobytes() == closes[371:401].tobytes()
    assert board.score.tolist() == [0.25] * closes.shape[1]
    momentum = builtin_model("momentum")
    with_tables = _stage_board(
        DEFAULT_STAGES, closes, 400, model=momentum, tables=ScoreTables(closes)
    )
    assert _same_bytes(with_tables, momentum.score_as_of(closes, 400))


def _desk_screens(kind: str) -> tuple[MarketData, list[Screen]]:
    closes = np.array(_market(kind))
    tickers = tuple(f"T{j}" for j in range(closes.shape[1]))
    market = MarketData(
        dates=weekdays(dt.date(2020, 1, 1), ROWS),
        start_index=FIRST_DAY - 20,
        tickers=tickers,
        bucket_of=dict.fromkeys(tickers, "B"),
        closes=closes,
    )
    config = resolve(None, {}).config
    screens = [
        Screen(market, t, market.dates[t], t, config, {}, 0.0) for t in range(FIRST_DAY - 20, ROWS)
    ]
    return market, screens


def test_desk_score_when_default_blend_then_tables_of_the_market_and_window_bytes() -> None:
    market, screens = _desk_screens("mixed")
    desk = Desk.open(market.tickers, {}, Signals())
    assert desk.tables is None
    for screen in screens:
        desk.score(screen)
        expected = _window_board(market.closes, screen.t, desk.fundamentals)
        assert _same_bytes(
            desk.board, apply_overrides(expected, screen.date, desk.tickers, Signals())
        )
    assert desk.tables is not None and desk.tables.covers(market.closes)


def test_desk_score_when_scoring_model_then_no_tables() -> None:
    market, screens = _desk_screens("clean")
    desk = Desk.open(market.tickers, {}, Signals(), builtin_model("momentum"))
    desk.score(screens[-1])
    assert desk.tables is None
    assert desk.board.components["model_score"].shape == (len(market.tickers),)

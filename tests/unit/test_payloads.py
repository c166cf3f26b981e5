import datetime as dt
from types import MappingProxyType

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from domain.messages import NoticeIssued, ProposeTrade, record_shape
from domain.payloads import jsonable, payload_of

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.dates(),
    st.floats(allow_nan=False).map(np.float64),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.frozensets(st.integers(), max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers()), inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=4).map(MappingProxyType),
    ),
    max_leaves=12,
)


def _same(a, b):
    return repr(a) == repr(b)  # NaN-safe, and tells 1 from 1.0 and True


@given(_VALUES)
def test_jsonable_when_applied_twice_then_same_as_once(value):
    once = jsonable(value)
    assert _same(jsonable(once), once)


def test_jsonable_when_date_set_proxy_numpy_then_iso_sorted_dict_python():
    value = MappingProxyType({"d": dt.date(2024, 1, 2), "s": {3, 1}, 2: np.float64(0.5)})
    assert jsonable(value) == {"d": "2024-01-02", "s": [1, 3], "2": 0.5}
    assert type(jsonable(value)["2"]) is float


def test_payload_when_read_through_record_shape_then_fields_but_asset_and_proposal_id():
    proposal = ProposeTrade("p1", "AAA", "open", 0.0, 0.1, None, "why", "planner", {"k": 1})
    shape = record_shape(ProposeTrade)
    kind, asset_at, proposal_at, fields = shape.wire
    values = shape.read(proposal)
    assert (kind, values[asset_at], values[proposal_at]) == ("proposal", "AAA", "p1")
    assert list(proposal.payload()) == [n for _, n in fields]
    assert payload_of(fields, values)["components"] == {"k": 1}
    assert shape.mapped == (8,)
    notice = record_shape(NoticeIssued)
    assert notice.wire[2] == -1 and notice.mapped == (2,)

"""Public Hypothesis strategies for the postback contract.

``response_bodies()`` draws valid bodies in any of the 96 key shapes; ``json_values()`` draws
JSON data. The kit's own tests, certify and verify-client use these same strategies.

    from hypothesis import given
    from mockserver.contract import normalize
    from mockserver.strategies import response_bodies

    @given(response_bodies(success=True))
    def test_my_client_reads_every_shape(body): ...
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.contract import ALL_SHAPES, KEY_ROLE, Shape

__all__ = ["error_codes", "json_values", "messages", "response_bodies", "shapes"]


def json_values(*, max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN or infinities; finite nesting)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53), max_value=2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def shapes() -> st.SearchStrategy[Shape]:
    """One of the 96 valid key shapes (shrinks toward the seed's first sample)."""
    return st.sampled_from(ALL_SHAPES)


def error_codes() -> st.SearchStrategy[str | int | None]:
    """Error-code values a partner may send: 0, "0", -102, "-102", other ints and strings,
    null."""
    return st.one_of(
        st.none(),
        st.sampled_from([0, "0", -102, "-102", "Unauthorized", "E094"]),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.text(max_size=30),
    )


def messages() -> st.SearchStrategy[str | None]:
    """Message values: null, empty, unicode text."""
    return st.one_of(st.none(), st.just(""), st.text(max_size=60))


def _data_objects() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=12), json_values(max_leaves=6), max_size=5)


def _extra_keys() -> st.SearchStrategy[dict[str, Any]]:
    names = st.text(min_size=1, max_size=12).filter(lambda k: k not in KEY_ROLE)
    return st.dictionaries(names, json_values(max_leaves=3), max_size=3)


@st.composite
def _bodies(
    draw: st.DrawFn, shape: Shape | None, success: bool | None, extra_keys: bool
) -> dict[str, Any]:
    chosen = shape if shape is not None else draw(shapes())
    ok = success if success is not None else draw(st.booleans())
    data = draw(_data_objects()) if ok else draw(st.none() | _data_objects())
    return chosen.render(
        success=ok,
        error_code=draw(error_codes()),
        message=draw(messages()),
        data=data,
        extra=draw(_extra_keys()) if extra_keys else None,
    )


def response_bodies(
    *, shape: Shape | None = None, success: bool | None = None, extra_keys: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid response bodies (SPEC 1.2): any shape unless ``shape`` is given, either verdict
    unless ``success`` is given, with extra non-role keys unless ``extra_keys`` is False."""
    if shape is not None and not isinstance(shape, Shape):
        raise InvalidArgument(
            f"shape must be a Shape or None, got {shape!r} ({type(shape).__name__})"
        )
    if success is not None and not isinstance(success, bool):
        raise InvalidArgument(
            f"success must be a bool or None, got {success!r} ({type(success).__name__})"
        )
    return _bodies(shape, success, extra_keys)

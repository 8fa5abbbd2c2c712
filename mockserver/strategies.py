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

from collections.abc import Mapping, Sequence
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.contract import ALL_SHAPES, KEY_ROLE, Shape

__all__ = [
    "MAX_VALUE_LENGTH",
    "emails",
    "error_codes",
    "is_unusual",
    "json_values",
    "messages",
    "phones",
    "profiles",
    "response_bodies",
    "shapes",
]


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


#: The longest profile value certify sends (SPEC 1.4 decision 11).
MAX_VALUE_LENGTH: Final = 256

_DIGITS = "0123456789"


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(_DIGITS, min_size=n, max_size=n)


def phones(*, unusual: bool = True) -> st.SearchStrategy[str]:
    """Phone numbers: Vietnamese mobile and landline forms (``0359677657``, ``+84359677657``,
    ``84 359 677 657``), international ones with spaces, dashes and parentheses; with
    ``unusual``, also the empty string, long and arbitrary text."""
    vietnamese = st.one_of(
        st.builds(lambda p, d: f"0{p}{d}", st.sampled_from("35789"), _digits(8)),
        st.builds(lambda p, d: f"+84{p}{d}", st.sampled_from("35789"), _digits(8)),
        st.builds(lambda a, b, c: f"84 {a} {b} {c}", _digits(3), _digits(3), _digits(3)),
        st.builds(lambda a, b: f"028{a}{b}", _digits(4), _digits(4)),
    )
    international = st.one_of(
        st.builds(lambda a, b, c: f"+1 ({a}) {b}-{c}", _digits(3), _digits(3), _digits(4)),
        st.builds(lambda a, b: f"+44 20 {a} {b}", _digits(4), _digits(4)),
        st.builds(lambda cc, n: f"+{cc}{n}", st.integers(1, 998), _digits(9)),
    )
    ordinary = vietnamese | international
    if not unusual:
        return ordinary
    odd = st.one_of(
        st.just(""),
        st.text(max_size=MAX_VALUE_LENGTH),
        st.text(_DIGITS + "+-() ", min_size=20, max_size=MAX_VALUE_LENGTH),
    )
    return ordinary | odd


_LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


def emails(*, unusual: bool = True) -> st.SearchStrategy[str]:
    """Email addresses: plain ones, dotted local parts and subdomains; with ``unusual``, also
    ``+`` tags, IDN domains, unicode local parts, characters a query string treats specially
    (``&``, ``=``, ``%``, space), long ones and the empty string."""
    domain = st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(_LABEL, min_size=1, max_size=3),
        st.sampled_from(["com", "vn", "io", "com.vn", "org"]),
    )
    dotted = st.builds(lambda a, b: f"{a}.{b}", _LOCAL, _LOCAL)
    ordinary = st.builds(lambda local, d: f"{local}@{d}", _LOCAL | dotted, domain)
    if not unusual:
        return ordinary
    odd = st.one_of(
        st.just(""),
        st.builds(lambda local, tag, d: f"{local}+{tag}@{d}", _LOCAL, _LOCAL, domain),
        st.builds(lambda local: f"{local}@bücher.de", _LOCAL),
        st.sampled_from(["nguyễn@ví-dụ.vn", "用户@例子.广告", "dée+x@bücher.de"]),
        st.builds(
            lambda local, odd, d: f"{local}{odd}@{d}", _LOCAL, st.sampled_from("&=% #?"), domain
        ),
        st.builds(lambda n, d: "a" * n + "@" + d, st.integers(64, MAX_VALUE_LENGTH - 20), domain),
    )
    return ordinary | odd


def is_unusual(profile: Mapping[str, Any]) -> bool:
    """Whether a profile is unusual-but-legal input (SPEC 2.2 ``robustness``): an empty
    phone or email, a ``+`` or non-ASCII character in the email, a value longer than 64
    characters, or one with ``&``, ``=``, ``%``, ``#``, ``?`` or a space in the email."""
    email = str(profile.get("email") or "")
    phone = str(profile.get("phone") or "")
    if not email or not phone:
        return True
    if "+" in email or not email.isascii() or any(c in email for c in "&=%#? "):
        return True
    if (
        not phone.replace(" ", "")
        .replace("-", "")
        .replace("(", "")
        .replace(")", "")
        .lstrip("+")
        .isdigit()
    ):
        return True
    return any(len(str(v)) > 64 for v in profile.values())


def profiles(
    *, attributes: Sequence[str] = (), unusual: bool = True
) -> st.SearchStrategy[dict[str, str]]:
    """Customer profiles: ``phone``, ``email`` and each of ``attributes`` (the other
    ``{{attr}}`` fields a connection references), values up to 256 characters."""
    if isinstance(attributes, str):
        raise InvalidArgument(
            f"attributes must be a sequence of names, got the string {attributes!r}"
        )
    extra = {
        name: st.text(max_size=MAX_VALUE_LENGTH) if unusual else _LOCAL
        for name in attributes
        if name not in {"phone", "email"}
    }
    return st.fixed_dictionaries(
        {"phone": phones(unusual=unusual), "email": emails(unusual=unusual), **extra}
    )

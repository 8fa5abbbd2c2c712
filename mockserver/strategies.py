"""Public Hypothesis strategies for the postback contract.

``response_bodies()`` draws valid bodies in any of the 96 key shapes; ``json_values()`` draws
JSON data. The kit's own tests, certify and verify-client use these same strategies.

    from hypothesis import given
    from mockserver.contract import normalize
    from mockserver.strategies import response_bodies

    @given(response_bodies(success=True))
    def test_my_client_reads_every_shape(body): ...

Each strategy function returns one shared strategy object per set of arguments (strategies are
immutable): building and validating a fresh one on every draw was most of verify-client's time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mockserver.contract import ALL_SHAPES, KEY_ROLE, ROLE_KEYS, Shape

__all__ = [
    "MAX_VALUE_LENGTH",
    "connections",
    "emails",
    "error_codes",
    "faults",
    "invalid_response_bodies",
    "is_unusual",
    "json_values",
    "messages",
    "phones",
    "profiles",
    "response_bodies",
    "shapes",
]


@functools.cache
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


@functools.cache
def shapes() -> st.SearchStrategy[Shape]:
    """One of the 96 valid key shapes (shrinks toward the seed's first sample)."""
    return st.sampled_from(ALL_SHAPES)


@functools.cache
def error_codes() -> st.SearchStrategy[str | int | None]:
    """Error-code values a partner may send: 0, "0", -102, "-102", other ints and strings,
    null."""
    return st.one_of(
        st.none(),
        st.sampled_from([0, "0", -102, "-102", "Unauthorized", "E094"]),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.text(max_size=30),
    )


@functools.cache
def messages() -> st.SearchStrategy[str | None]:
    """Message values: null, empty, unicode text."""
    return st.one_of(st.none(), st.just(""), st.text(max_size=60))


@functools.cache
def _data_objects() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=12), json_values(max_leaves=6), max_size=5)


@functools.cache
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
    return _cached_bodies(shape, success, extra_keys)


@functools.cache
def _cached_bodies(
    shape: Shape | None, success: bool | None, extra_keys: bool
) -> st.SearchStrategy[dict[str, Any]]:
    return _bodies(shape, success, extra_keys)


#: The longest profile value certify sends (SPEC 1.4 decision 11).
MAX_VALUE_LENGTH: Final = 256

_DIGITS = "0123456789"


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(_DIGITS, min_size=n, max_size=n)


@functools.cache
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


@functools.cache
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


_WRONG: Final[Mapping[str, st.SearchStrategy[Any]]] = {
    "success": st.one_of(
        st.sampled_from(["true", "false", 1, 0, None]), st.lists(st.booleans(), max_size=1)
    ),
    "error_code": st.one_of(
        st.booleans(), st.sampled_from([1.5, -0.25]), st.lists(st.integers(), max_size=1)
    ),
    "message": st.one_of(st.booleans(), st.integers(), st.lists(st.text(max_size=3), max_size=1)),
    "data": st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2)),
}


@st.composite
def _invalid(draw: st.DrawFn) -> Any:
    body = dict(draw(response_bodies()))
    keys = {KEY_ROLE[k]: k for k in body if k in KEY_ROLE}
    how = draw(st.sampled_from(["wrong_type", "ambiguous", "missing", "null_data", "not_object"]))
    if how == "not_object":
        return draw(
            st.one_of(
                st.lists(json_values(max_leaves=3), max_size=3),
                st.text(max_size=5),
                st.integers(),
                st.none(),
            )
        )
    if how == "missing":
        del body[keys[draw(st.sampled_from(["success", "data"]))]]
    elif how == "null_data":
        body[keys["success"]] = True
        body[keys["data"]] = None
    elif how == "ambiguous":
        role = draw(st.sampled_from(sorted(ROLE_KEYS)))
        present = keys.get(role)
        first = present or ROLE_KEYS[role][0]
        body.setdefault(first, None)
        body[draw(st.sampled_from([k for k in ROLE_KEYS[role] if k != first]))] = body[first]
    else:
        role = draw(st.sampled_from(sorted(keys)))
        body[keys[role]] = draw(_WRONG[role])
    return body


@functools.cache
def invalid_response_bodies() -> st.SearchStrategy[Any]:
    """Parsed bodies that break SPEC 1.2 in one way each: a wrong type, two keys of one role,
    a missing required role, data null with success true, or not an object at all. (Raw-JSON
    breaches - duplicate keys, NaN, deep nesting - are bytes, not values: the mock's
    ``contract`` faults send those.)"""
    return _invalid()


_HEADER = st.sampled_from(["token-key", "X-Partner-Sig", "x-api-key", "Authorization"])


def connections(
    *, auth: str | None = None, endpoint: str = "http://127.0.0.1:8080/voucher"
) -> st.SearchStrategy[dict[str, Any]]:
    """Connection dicts (SPEC 1.1, valid per contracts/connection.schema.json) for
    ``endpoint``: ``auth`` one of none, api_key, token_api, oauth2 (any when None), GET or
    POST, fixed headers and custom params."""
    kinds = ("none", "api_key", "token_api", "oauth2")
    if auth is not None and auth not in kinds:
        raise InvalidArgument(f"auth must be one of {kinds} or None, got {auth!r}")
    base = endpoint.rsplit("/", 1)[0]

    def auth_for(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        if kind == "api_key":
            return st.builds(
                lambda h, v: {"type": "api_key", "header": h, "value": v}, _HEADER, _LOCAL
            )
        if kind == "token_api":
            return st.builds(
                lambda prefix, field: {
                    "type": "token_api",
                    "url": f"{base}/auth/token",
                    "body": {"username": "cdp", "apiKey": "demo-key"},
                    "token_field": field,
                    "token_prefix": prefix,
                },
                st.sampled_from(["Bearer", "Token", ""]),
                st.sampled_from(["data.accessToken", "token", "result.auth.token"]),
            )
        if kind == "oauth2":
            return st.builds(
                lambda how: {
                    "type": "oauth2",
                    "token_url": f"{base}/oauth/token",
                    "client_id": "demo-client",
                    "client_secret": "demo-secret",
                    "client_auth": how,
                },
                st.sampled_from(["basic", "body"]),
            )
        return st.just({"type": "none"})

    chosen = st.just(auth) if auth is not None else st.sampled_from(kinds)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        method = draw(st.sampled_from(["GET", "POST"]))
        connection: dict[str, Any] = {
            "endpoint": endpoint,
            "method": method,
            "auth": draw(chosen.flatmap(auth_for)),
            "headers": draw(
                st.dictionaries(st.sampled_from(["header-01", "x-tenant"]), _LOCAL, max_size=2)
            ),
            "params": {
                "phone": "{{phone}}",
                "email": "{{email}}",
                **draw(st.dictionaries(_LOCAL.map(lambda n: f"p{n}"), _LOCAL, max_size=2)),
            },
        }
        if method == "POST":
            connection["payload"] = {
                "phone": "{{phone}}",
                "email": "{{email}}",
                "param01": "00000001",
            }
        return connection

    return build()


_FAULT_STRATEGIES: Final = st.one_of(
    st.builds(lambda s: {"type": "delay", "seconds": s}, st.sampled_from([0.01, 0.05])),
    st.just({"type": "hang", "seconds": 30}),
    st.sampled_from([{"type": t} for t in ("reset", "empty_reply", "malformed_json")]),
    st.builds(
        lambda m: {"type": "truncate", "mode": m}, st.sampled_from(["content_length", "chunked"])
    ),
    st.builds(
        lambda c: {"type": "content_type", "content_type": c},
        st.sampled_from(["text/plain", "text/html"]),
    ),
    st.builds(lambda s: {"type": "html_error", "status": s}, st.sampled_from([200, 502, 503])),
    st.builds(lambda s: {"type": "status", "status": s}, st.sampled_from([500, 502, 503, 504])),
    st.builds(
        lambda r: {"type": "rate_limit", "retry_after": r},
        st.sampled_from([0, 1, "Wed, 21 Oct 2026 07:28:00 GMT"]),
    ),
    st.builds(lambda n: {"type": "oversized", "bytes": n}, st.sampled_from([2 * 1024 * 1024])),
    st.builds(
        lambda s, to: {"type": "redirect", "status": s, "to": to},
        st.sampled_from([302, 307]),
        st.sampled_from(["same_origin", "cross_origin"]),
    ),
)


def faults() -> st.SearchStrategy[dict[str, Any]]:
    """Fault dicts in the scenario format (``fault:`` of a case, or the admin API's
    ``arm_fault``): every fault type of the mock partner but the contract breaches (see
    :func:`invalid_response_bodies`)."""
    return _FAULT_STRATEGIES

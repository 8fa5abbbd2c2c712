"""The four roles of a response body and the 96 key shapes that fill them (SPEC 1.2)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ALL_SHAPES", "KEY_ROLE", "ROLES", "ROLE_KEYS", "SEED_SHAPE", "Shape"]

#: The roles in the order a body is rendered and violations are reported.
ROLES: Final = ("success", "error_code", "message", "data")

#: Which keys may fill each role (exact case), in the seed document's order.
ROLE_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "success": ("success", "isSuccess"),
    "error_code": ("errorCode", "responseCode"),
    "message": ("errorMsg", "msg", "message"),
    "data": ("data", "result", "response", "body"),
}

#: The role of every key that fills one.
KEY_ROLE: Final[Mapping[str, str]] = {key: role for role, keys in ROLE_KEYS.items() for key in keys}

_REQUIRED: Final = frozenset({"success", "data"})


@dataclass(frozen=True, slots=True)
class Shape:
    """Which key fills each role; ``None`` for an optional role left out.

    Its name lists the keys present, in role order: ``isSuccess,responseCode,msg,body`` or
    ``success,data``. Keys are unique across roles, so the name is unambiguous.
    """

    success: str
    error_code: str | None
    message: str | None
    data: str

    def __post_init__(self) -> None:
        for role in ROLES:
            key = getattr(self, role)
            if key is None and role in _REQUIRED:
                raise ValueError(f"role {role!r} is required; pick one of {ROLE_KEYS[role]}")
            if key is not None and key not in ROLE_KEYS[role]:
                raise ValueError(
                    f"{key!r} cannot fill role {role!r}; use one of {list(ROLE_KEYS[role])}"
                )

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.success, self.error_code, self.message, self.data) if k)

    @property
    def name(self) -> str:
        return ",".join(self.keys)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, name: str) -> Shape:
        """The shape named by a comma-separated key list, e.g. ``isSuccess,msg,body``."""
        keys = [k.strip() for k in name.split(",") if k.strip()]
        chosen: dict[str, str] = {}
        for key in keys:
            role = KEY_ROLE.get(key)
            if role is None:
                raise ValueError(f"{key!r} is not a response key; known keys: {sorted(KEY_ROLE)}")
            if role in chosen:
                raise ValueError(f"{chosen[role]!r} and {key!r} both fill role {role!r}")
            chosen[role] = key
        for role in _REQUIRED:
            if role not in chosen:
                raise ValueError(f"shape {name!r} has no {role} key; add one of {ROLE_KEYS[role]}")
        return cls(
            success=chosen["success"],
            error_code=chosen.get("error_code"),
            message=chosen.get("message"),
            data=chosen["data"],
        )

    def render(
        self,
        *,
        success: bool,
        error_code: Any = None,
        message: Any = None,
        data: Any = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A body in this shape. Optional roles the shape leaves out are not emitted; the
        order follows the seed's sample (success, message, error code, data)."""
        body: dict[str, Any] = {self.success: success}
        if self.message is not None:
            body[self.message] = message
        if self.error_code is not None:
            body[self.error_code] = error_code
        body[self.data] = data
        if extra:
            for key, value in extra.items():
                body.setdefault(key, value)
        return body


def _all_shapes() -> tuple[Shape, ...]:
    return tuple(
        Shape(success=s, error_code=e, message=m, data=d)
        for s, e, m, d in itertools.product(
            ROLE_KEYS["success"],
            (*ROLE_KEYS["error_code"], None),
            (*ROLE_KEYS["message"], None),
            ROLE_KEYS["data"],
        )
    )


#: Every valid key shape: 2 x 3 x 4 x 4 = 96, in a fixed order (the rotate order).
ALL_SHAPES: Final[tuple[Shape, ...]] = _all_shapes()

#: The shape of the seed document's first sample body.
SEED_SHAPE: Final = Shape(success="success", error_code="errorCode", message="message", data="data")

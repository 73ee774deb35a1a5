"""The body fields people type (names, phones, notes) as pydantic types: one line of printable text, or a 422.

A refusal names the field and the character by its code point (warroom.outside_text), never the text
itself, which may be what an attacker wants echoed. Leading and trailing spaces are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from warroom.api.params import ApiError
from warroom.outside_text import NOTE_MAX, TEXT_MAX, name_problem, phone_problem, problem


def _checked(why: Callable[[str], str | None]) -> AfterValidator:
    def check(value: str) -> str:
        reason = why(value)
        if reason is not None:
            raise PydanticCustomError("outside_text", reason)
        return value.strip()

    return AfterValidator(check)


PersonName = Annotated[str, _checked(name_problem)]
"""A person's name (at most NAME_MAX characters): who stands in, who acknowledged, who decided."""
Phone = Annotated[str, _checked(phone_problem)]
"""A phone number (at most PHONE_MAX characters), or '' for none."""
Note = Annotated[str, _checked(lambda v: problem(v, NOTE_MAX, empty=True))]
"""One line, or '': an acknowledgement's note."""
Reason = Annotated[str, _checked(lambda v: problem(v, NOTE_MAX))]
"""One line, not empty: a silence's reason."""
Text = Annotated[str, _checked(lambda v: problem(v, TEXT_MAX, lines=True))]
"""A decision's text: lines allowed, nothing invisible."""


def check_name(value: str, field: str) -> str:
    """A name given outside a body (a query parameter): stripped, or ApiError 422 naming `field`."""
    reason = name_problem(value)
    if reason is not None:
        raise ApiError(422, f"{field}: {reason}", field)
    return value.strip()

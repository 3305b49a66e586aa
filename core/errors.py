"""SpecError: a bad spec value, naming the field, the value and what is allowed.

It sits below core.spec so that the cost arithmetic (core.budget), which core.spec calls, can raise it.
"""

from __future__ import annotations

import math


class SpecError(ValueError):
    """A bad spec value: names the field, the value and what is allowed."""

    def __init__(self, field_name: str, value, allowed: str):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field_name}: {show(value)} is not allowed ({allowed})")

    def __reduce__(self):
        # A worker process sends refusals to the server by pickle; the default would call __init__ with the message.
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(cls: type, args: tuple, state: dict) -> SpecError:
    """A pickled SpecError (or subclass) rebuilt with its message and fields."""
    e = cls.__new__(cls)
    e.args = args
    e.__dict__.update(state)
    return e


def show(value) -> str:
    """A short repr of a value for a message (huge numbers and deep lists stay readable)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"

"""Project source shipped inside an exported script: a function and the module-level names it uses."""

from __future__ import annotations

import inspect
import types


def sources(fn, module: types.ModuleType, seen: set[str] | None = None) -> list[str]:
    """Source of `fn` and of every module-level function and constant of `module` it uses, deepest first.

    `seen` holds the names already shipped (shared between calls for several functions of one module).
    """
    seen = seen if seen is not None else set()
    seen.add(fn.__name__)
    out = []
    for name in code_names(fn.__code__):
        if name in seen or not hasattr(module, name):
            continue
        value = getattr(module, name)
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            seen.add(name)
            out += sources(value, module, seen)
        elif isinstance(value, (int, float, str, tuple)) and not name.startswith("__"):
            seen.add(name)
            out.append(f"{name} = {value!r}")
    return out + [inspect.getsource(fn)]


def code_names(code: types.CodeType) -> list[str]:
    """Global names a code object and the functions nested in it use."""
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += code_names(const)
    return names

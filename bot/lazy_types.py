"""aiogram's Telegram types, each built by pydantic when first used rather than all at import.

aiogram 3 declares its ~440 Telegram types with pydantic's `defer_build`, then the end of
its `aiogram.types` package calls `model_rebuild()` on every one of them, which builds
them all at import anyway — and builds the shared ones again and again, since each type's
schema is generated with the types it holds while those are still incomplete: about
20,000 field schemas for 3,000 fields, 3.3 s of CPU on this project's machine, most of
what `branchbot run` and `branchbot demo` spend before their first answer.

That loop is there only to make the names the types refer to (imported under
TYPE_CHECKING in aiogram's modules) resolvable. `install()` lets it do exactly that, by
adding those names to each type's module, and leaves the building to pydantic: on first
use, once for each type actually validated (`Update` with all it holds: about 0.1 s).
Nothing else changes: the same models, the same validation, the same errors.
`tests/test_lazy_types.py` builds every type and every method's response this way.

Installed by `bot/__init__.py`, so it is in place before anything imports aiogram; a
process that imports aiogram first simply builds everything eagerly, as before.
"""

from __future__ import annotations

import importlib.machinery
import sys
from typing import Any

PACKAGE = "aiogram"  # its __init__ imports the types and the methods


# Plain classes with the finder's and the loader's methods: `importlib.abc` would import
# `importlib.resources` (25 ms), and this module is loaded by every command, `--help` too.
class _Finder:
    def find_spec(self, fullname: str, path: Any, target: Any = None):
        if fullname != PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # resource readers and the like
        return getattr(self._inner, name)

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module) -> None:
        from pydantic import BaseModel

        real = BaseModel.__dict__["model_rebuild"]
        names: dict[str, dict[str, Any]] = {}  # module -> the names its types refer to

        def note_names(cls, *, _types_namespace=None, **kwargs):
            if _types_namespace is None or not cls.__module__.startswith("aiogram."):
                depth = kwargs.pop("_parent_namespace_depth", 2) + 1
                rebuild = real.__get__(None, cls)
                return rebuild(
                    _types_namespace=_types_namespace, _parent_namespace_depth=depth, **kwargs
                )
            names.setdefault(cls.__module__, _types_namespace)
            return None

        BaseModel.model_rebuild = classmethod(note_names)
        try:
            self._inner.exec_module(module)
        finally:
            BaseModel.model_rebuild = real
        # Only now, after aiogram's methods were declared too: while the names were
        # missing, pydantic left the methods unbuilt as well (it builds a model on first
        # use when its class statement could not), instead of building each method with
        # a fresh copy of every type it holds.
        for module_name, namespace in names.items():
            found = vars(sys.modules[module_name])
            for name, value in namespace.items():
                found.setdefault(name, value)


def install() -> None:
    if PACKAGE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())

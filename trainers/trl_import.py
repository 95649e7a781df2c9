"""TRL, the optional package the trainers run on (``pip install 'memplay[train]'``).

    >>> trl().__name__  # doctest: +SKIP
    'trl'
"""

from __future__ import annotations

from types import ModuleType

from memplay.errors import TrainerError

__all__ = ["trl"]


def trl() -> ModuleType:
    """The ``trl`` module, or a TrainerError saying how to install it."""
    try:
        import trl as module
    except ImportError as exc:
        raise TrainerError(f"training needs TRL, which is not installed ({exc}); "
                           "pip install 'memplay[train]'") from None
    return module

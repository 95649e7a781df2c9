"""Time-to-live for :class:`MemplayStore` items, with LangGraph's meaning.

``put(..., ttl=minutes)`` sets an item to expire that many minutes after it was last written
or, when the read asks for it (``refresh_ttl``, default on), last read. Expired items are
deleted by ``sweep_ttl()`` or by the background :class:`TTLSweeper`; until then they are still
returned unless the store's ``TTLConfig`` says ``omit_expired``.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> fields = ttl_fields(30, now)
    >>> fields["expires_at"], is_expired(fields, now), is_expired(fields, now.replace(hour=1))
    ('2026-01-01T00:30:00+00:00', False, True)
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from memplay.errors import ConfigError

__all__ = ["TTLSweeper", "is_expired", "ttl_fields"]

logger = logging.getLogger(__name__)


def ttl_fields(ttl: float | None, now: datetime) -> dict[str, Any]:
    """The ``ttl`` (minutes) and ``expires_at`` (ISO time) to record for an item.

    >>> ttl_fields(None, datetime(2026, 1, 1))
    {'ttl': None, 'expires_at': None}
    """
    if ttl is None:
        return {"ttl": None, "expires_at": None}
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl < 0:
        raise ConfigError(f"ttl={ttl!r} must be a number of minutes >= 0 (or None for no "
                          "expiry), e.g. ttl=60")
    return {"ttl": ttl, "expires_at": (now + timedelta(minutes=ttl)).isoformat()}


def is_expired(fields: Mapping[str, Any], now: datetime) -> bool:
    """Whether an item with these recorded TTL fields has expired at ``now``.

    >>> is_expired({"expires_at": None}, datetime(2026, 1, 1))
    False
    """
    expires = fields.get("expires_at")
    return expires is not None and datetime.fromisoformat(expires) <= now


class TTLSweeper:
    """Calls ``sweep()`` every interval in a daemon thread until stopped.

    >>> swept = []
    >>> sweeper = TTLSweeper(lambda: swept.append(1) or 0)
    >>> future = sweeper.start(0.0001)  # minutes
    >>> import time; time.sleep(0.05)
    >>> sweeper.stop(timeout=5), len(swept) > 0, future.done()
    (True, True, True)
    """

    def __init__(self, sweep: Callable[[], int]) -> None:
        self._sweep = sweep
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, minutes: float) -> concurrent.futures.Future[None]:
        """Start sweeping (no-op if running); cancel the returned future to stop."""
        if minutes <= 0:
            raise ConfigError(f"sweep_interval_minutes={minutes} must be > 0, e.g. 5")
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.add_done_callback(lambda f: self._stop.set() if f.cancelled() else None)
        if self._thread is not None and self._thread.is_alive():
            return done
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(minutes * 60):
                try:
                    self._sweep()
                except Exception:  # one failed sweep must not end the sweeping
                    logger.exception("memplay TTL sweep failed; trying again next interval")
            if not done.done():
                done.set_result(None)

        self._thread = threading.Thread(target=loop, daemon=True, name="memplay-ttl-sweeper")
        self._thread.start()
        return done

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread; True once it has stopped (or was never started)."""
        if self._thread is None:
            return True
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._thread = None
        return True

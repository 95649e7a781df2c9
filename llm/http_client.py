"""JSON POST with retries, exponential backoff and typed errors, for HTTP LLM backends.

Refused connections and timeouts are retried (a server may be starting), as are 429 and
5xx replies; after the last try they raise :class:`LLMConnectionError`. Other 4xx replies
are the request's fault and raise :class:`LLMError` at once; a reply that is not a JSON
object raises :class:`LLMOutputError`.

    >>> client = JsonClient("http://127.0.0.1:9/v1", max_retries=0)  # doctest: +SKIP
    >>> client.post("/completions", {"prompt": "hi"})                 # doctest: +SKIP
    Traceback (most recent call last):
    memplay.errors.LLMConnectionError: cannot reach http://127.0.0.1:9/v1/completions ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from memplay.errors import ConfigError, LLMConnectionError, LLMError, LLMOutputError

__all__ = ["JsonClient", "field"]

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def field(reply: Any, *path: str | int) -> Any:
    """``reply[path[0]][path[1]]...``, or LLMOutputError naming the missing part.

    >>> field({"choices": [{"text": "hi"}]}, "choices", 0, "text")
    'hi'
    """
    node = reply
    for i, key in enumerate(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError) as exc:
            where = "".join(f"[{k!r}]" for k in path[: i + 1])
            raise LLMOutputError(
                f"malformed server reply: reply{where} is missing in {str(reply)[:200]!r}; "
                "check that the server speaks the OpenAI API"
            ) from exc
    return node


class JsonClient:
    """POST JSON to ``base_url + path`` with retries (see module doc).

    Args:
        base_url: e.g. "http://127.0.0.1:8000/v1".
        timeout: Seconds per request.
        max_retries: Extra tries after the first one.
        backoff: First wait in seconds; doubles after every failed try.
        headers: Extra headers (the API key goes here).
        transport: An httpx transport, to plug in a mock.
        sleep: Wait function (tests pass a no-op).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0 or backoff < 0 or timeout <= 0:
            raise ConfigError(
                f"max_retries={max_retries}, backoff={backoff}, timeout={timeout}: retries and "
                "backoff must be >= 0 and timeout > 0"
            )
        self.base_url = base_url.rstrip("/")
        self.max_retries, self.backoff, self._sleep = max_retries, backoff, sleep
        self._http = httpx.Client(timeout=timeout, headers=headers or {}, transport=transport)

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload``; return the JSON object the server answered."""
        url = self.base_url + path
        problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.post(url, json=payload)
            except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in _RETRY_STATUS:
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            return _json_object(url, response)
        raise LLMConnectionError(
            f"cannot reach {url} after {self.max_retries + 1} tries ({problem}); start the "
            "server or fix base_url"
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


def _json_object(url: str, response: httpx.Response) -> dict[str, Any]:
    """The reply as a dict; typed errors for 4xx and non-JSON bodies."""
    if response.status_code >= 400:
        raise LLMError(
            f"{url} rejected the request with HTTP {response.status_code}: "
            f"{response.text[:300]}; check the model name and parameters"
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise LLMOutputError(
            f"malformed server reply from {url}: not JSON: {response.text[:200]!r}"
        ) from exc
    if not isinstance(body, dict):
        raise LLMOutputError(
            f"malformed server reply from {url}: {str(body)[:200]!r} is not an object"
        )
    return body

"""The HTTP error sorting and rate-limit reading shared by the JSON API connectors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from resonanz.connectors.base import PublishOutcomeUnknownError
from resonanz.connectors.http_api import Response, call, error_message, retry_after_of
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

AT = datetime(2024, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"X-RateLimit-Reset": "2024-03-02T12:04:00.000Z"}, 240.0),  # Mastodon: ISO time
        ({"RateLimit-Reset": str(int(AT.timestamp()) + 90)}, 90.0),  # Bluesky: Unix time
        ({"X-Ratelimit-Reset": "412"}, 412.0),  # Reddit: seconds
        ({"Retry-After": "10", "X-RateLimit-Reset": "2024-03-02T12:04:00Z"}, 10.0),
        ({"X-RateLimit-Reset": "2024-03-02T11:00:00Z"}, 0.0),
        ({"X-RateLimit-Reset": "bald"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_every_platforms_form(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_of(headers, at=AT) == seconds


@pytest.mark.parametrize(
    ("headers", "remaining"),
    [
        ({"x-ratelimit-remaining": "0"}, 0),
        ({"ratelimit-remaining": "12"}, 12),
        ({"x-ratelimit-remaining": "99.0"}, 99),
        ({}, None),
    ],
)
def test_remaining(headers: dict[str, str], remaining: int | None) -> None:
    assert Response(200, "u", headers, b"").remaining() == remaining


def client(answer: httpx.Response | Exception) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.mark.parametrize(
    ("answer", "write", "error"),
    [
        (httpx.ReadTimeout("slow"), False, ConnectorTransientError),
        (httpx.ReadTimeout("slow"), True, PublishOutcomeUnknownError),
        (httpx.ConnectError("refused"), True, ConnectorTransientError),
        (httpx.RemoteProtocolError("dropped"), True, PublishOutcomeUnknownError),
        (httpx.Response(500), False, ConnectorTransientError),
        (httpx.Response(500), True, PublishOutcomeUnknownError),
        (httpx.Response(503), True, ConnectorTransientError),
        (httpx.Response(429), True, ConnectorTransientError),
        (httpx.Response(401), False, ConnectorPermanentError),
        (httpx.Response(404), True, ConnectorPermanentError),
        (httpx.Response(422, json={"error": "too long"}), True, ConnectorPermanentError),
    ],
)
def test_failures_are_sorted(answer: httpx.Response | Exception, write: bool, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        call(client(answer), "POST" if write else "GET", "https://x.example/a", what="t", max_bytes=100, write=write)
    if error is ConnectorTransientError:
        assert not isinstance(info.value, PublishOutcomeUnknownError)


def test_guidance_and_the_platforms_words_are_in_the_message() -> None:
    answer = httpx.Response(401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
    with pytest.raises(
        ConnectorPermanentError, match=r"AuthenticationRequired: Invalid identifier or password.*app password"
    ):
        call(
            client(answer),
            "GET",
            "https://x.example/a",
            what="t",
            max_bytes=1000,
            guidance={401: "check the app password"},
        )


def test_body_over_the_limit_and_answer_statuses() -> None:
    with pytest.raises(ConnectorPermanentError, match="over the limit of 10"):
        call(client(httpx.Response(200, content=b"x" * 11)), "GET", "https://x.example/a", what="t", max_bytes=10)
    found = call(client(httpx.Response(400, json={"error": "RecordNotFound"})), "GET", "https://x.example/a",
                 what="t", max_bytes=100, answer_statuses=frozenset({400}))  # fmt: skip
    assert found.status == 400 and error_message(found.body) == "RecordNotFound"

"""The API's rate limiter and rate keys (api.limits)."""

from __future__ import annotations

from api.limits import MAX_BUCKETS, RateLimiter, rate_key
from governance.tokens import issue_token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)  # one a second, bursts of 60
    assert all(limiter.take("k") is None for _ in range(60))
    assert limiter.take("k") == 1
    clock.now += 1.0
    assert limiter.take("k") is None
    assert limiter.take("k") == 1
    assert limiter.take("other") is None  # each key has its own bucket


def test_the_wait_is_how_long_until_one_request_is_back() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock)  # one every 10 s
    for _ in range(6):
        limiter.take("k")
    assert limiter.take("k") == 10
    clock.now += 5
    assert limiter.take("k") == 5


def test_idle_buckets_are_forgotten_when_there_are_too_many() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for n in range(MAX_BUCKETS):
        limiter.take(f"k{n}")
    clock.now += 120  # every bucket is full again: nothing to remember
    limiter.take("new")
    assert limiter.take("k0") is None
    assert len(limiter._buckets) < MAX_BUCKETS


def test_rate_keys_use_the_public_token_id_never_the_secret() -> None:
    issued = issue_token()
    key = rate_key(f"Bearer {issued.token}", "10.0.0.1")
    assert key == f"token:{issued.token_id}"
    assert issued.token[12:] not in key
    assert rate_key(None, "10.0.0.1") == "client:10.0.0.1"
    assert rate_key("Basic abc", None) == "client:-"
    assert rate_key("Bearer wgv_abc", "h") == "client:h"

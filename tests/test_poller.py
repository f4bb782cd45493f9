"""The poller's contract: stale keeps the last facts, retries come at the refresh interval."""

from __future__ import annotations

from k8stop.queries.feeds.poller import Poller
from k8stop.queries.model.errors import FeedError, NotExposed
from k8stop.queries.model.status import FeedState, FeedUpdate


class Script:
    """A collect function that plays back results and failures in order."""

    def __init__(self, *steps: object) -> None:
        self.steps = list(steps)

    async def __call__(self) -> tuple[object, tuple[str, ...]]:
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step, ()


class Busy(FeedError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("429 too many requests")
        self.retry_after = retry_after


def make(script: Script, clock: list[float]) -> tuple[Poller[object], list[FeedUpdate[object]]]:
    seen: list[FeedUpdate[object]] = []
    poller: Poller[object] = Poller("f", script, seen.append, interval=2.0, timeout=1.0, clock=lambda: clock[0])
    return poller, seen


async def test_failure_keeps_last_facts_stale_since_the_first_failure() -> None:
    clock = [100.0]
    poller, seen = make(Script("a", FeedError("boom"), FeedError("again"), "b"), clock)
    await poller.poll_once()
    clock[0] = 102.0
    await poller.poll_once()
    clock[0] = 104.0
    await poller.poll_once()
    assert seen[-1].facts == "a"
    assert seen[-1].status.state is FeedState.STALE
    assert seen[-1].status.since == 102.0 and seen[-1].status.updated_at == 100.0
    assert seen[-1].status.reason == "again"
    # Retried at the refresh interval so recovery comes within one refresh of the fault ending.
    assert poller.next_delay() == 2.0
    clock[0] = 106.0
    await poller.poll_once()
    assert seen[-1].facts == "b" and seen[-1].status.state is FeedState.OK


async def test_error_without_data_and_retry_after_is_obeyed() -> None:
    clock = [0.0]
    poller, seen = make(Script(Busy(7.0), "x"), clock)
    await poller.poll_once()
    assert seen[-1].status.state is FeedState.ERROR and seen[-1].facts is None
    assert poller.next_delay() == 7.0
    await poller.poll_once()
    assert poller.next_delay() == 2.0


async def test_not_exposed_is_its_own_state() -> None:
    clock = [0.0]
    poller, seen = make(Script(NotExposed("etcd metrics not exposed")), clock)
    await poller.poll_once()
    assert seen[-1].status.state is FeedState.NOT_EXPOSED
    assert "etcd" in seen[-1].status.reason


async def test_not_exposed_after_data_is_stale_with_the_last_facts() -> None:
    clock = [0.0]
    poller, seen = make(Script("members", NotExposed("etcd metrics not exposed")), clock)
    await poller.poll_once()
    clock[0] = 2.0
    await poller.poll_once()
    assert seen[-1].status.state is FeedState.STALE and seen[-1].facts == "members"
    assert seen[-1].status.reason == "stopped arriving (etcd metrics not exposed)"
    assert seen[-1].status.since == 2.0 and seen[-1].status.updated_at == 0.0

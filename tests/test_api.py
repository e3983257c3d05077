"""The one service interface: Newsdesk implements it, and what it promises holds."""

from __future__ import annotations

import inspect

from retrieval.api import NewsService
from retrieval.service import Newsdesk


def test_newsdesk_is_the_news_service(seeded_service: Newsdesk) -> None:
    service: NewsService = seeded_service  # mypy checks the subclass; this checks the object
    assert NewsService in type(service).__mro__
    assert service.uses_llm is False
    members = {n for n, _ in inspect.getmembers(NewsService) if not n.startswith("_")}
    assert members <= set(dir(Newsdesk))
    latest = service.latest(1)
    assert latest and latest[0].title and latest[0].published is not None
    assert service.stats().articles >= 1

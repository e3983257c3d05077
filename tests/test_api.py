"""The one service interface: Newsdesk implements it, and what it promises holds."""

from __future__ import annotations

import inspect

import pytest

from retrieval.api import NewsService
from retrieval.errors import NewsdeskError
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


def test_brief_until_it_exists_says_so(seeded_service: Newsdesk) -> None:
    if type(seeded_service).brief is not NewsService.brief:
        pytest.skip("Newsdesk implements brief()")
    with pytest.raises(NewsdeskError) as err:
        seeded_service.brief()
    assert err.value.user_message == "Briefings are not available in this version."

"""The subscriptions file on real SQLite: alerts, once-only claims, caps and digest slots,
all surviving a reopen (a restart of the bot)."""

from __future__ import annotations

from pathlib import Path

from bot.subscriptions import HOUR, Claim, Subscriptions


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_alerts_are_numbered_unique_and_capped(tmp_path: Path) -> None:
    subs = Subscriptions.in_data_dir(tmp_path)
    assert subs.add_alert(5, " Elm  River ", 2)[0] == "added"
    assert subs.add_alert(5, "elm river", 2)[0] == "exists"
    assert subs.add_alert(5, "ferry strike", 2)[0] == "added"
    outcome, mine = subs.add_alert(5, "library", 2)
    assert outcome == "full" and [(a.n, a.topic) for a in mine] == [
        (1, "Elm River"),
        (2, "ferry strike"),
    ]
    assert subs.add_alert(6, "Elm River", 2)[0] == "added"
    assert set(subs.topics()) == {"elm river", "ferry strike"}
    assert [a.chat_id for a in subs.topics()["elm river"]] == [5, 6]
    gone = subs.remove_alert(5, "1")
    assert gone is not None and gone.topic == "Elm River"
    assert subs.remove_alert(5, "ELM RIVER") is None and subs.remove_alert(5, "Ferry Strike")
    subs.close()


def test_claims_are_once_per_article_and_story_and_capped_across_a_restart(
    tmp_path: Path,
) -> None:
    clock = Clock()
    subs = Subscriptions.in_data_dir(tmp_path, clock=clock)
    send, capped = subs.claim(
        [Claim(5, "a", "fp-a"), Claim(5, "b", "fp-b"), Claim(6, "a", "fp-a")], 2
    )
    assert [(c.chat_id, c.doc_id) for c in send] == [(5, "a"), (5, "b"), (6, "a")] and not capped
    subs.close()

    subs = Subscriptions.in_data_dir(tmp_path, clock=clock)  # a restart
    again, _ = subs.claim([Claim(5, "a", "fp-a"), Claim(6, "copy-of-a", "fp-a")], 2)
    assert again == [], "the same article, and the same story under another id: never twice"
    send, capped = subs.claim([Claim(5, "c", "fp-c")], 2)
    assert send == [] and capped == {5}, "two an hour, and two were sent"
    assert subs.note_cap(5) and not subs.note_cap(5), "told once an hour"
    assert subs.cap_resets_at(5) == clock.now + HOUR
    clock.now += HOUR + 1
    assert subs.claim([Claim(5, "c", "fp-c")], 2) == ([], set()), "a capped article stays skipped"
    assert subs.claim([Claim(5, "d", "fp-d")], 2)[0] == [Claim(5, "d", "fp-d")]
    subs.close()


def test_arrivals_and_digest_slots(tmp_path: Path) -> None:
    clock = Clock()
    subs = Subscriptions.in_data_dir(tmp_path, clock=clock)
    subs.set_digest(5, "08:00")
    start = clock.now
    clock.now += 10
    subs.record_arrivals(["a", "b"])
    clock.now += 10
    subs.record_arrivals(["a"])  # an update is no new arrival
    assert [d for d, _ in subs.arrived_since(start)] == ["a", "b"]
    assert subs.unalerted() == ["a", "b"]
    subs.mark_alerted(["a"])
    assert subs.unalerted() == ["b"]
    assert subs.claim_slot(5, "2024-03-14T08:00") and not subs.claim_slot(5, "2024-03-14T08:00")
    subs.digest_sent(5, start + 10)
    subs.set_timezone(5, "Europe/Berlin")
    subs.close()

    subs = Subscriptions.in_data_dir(tmp_path, clock=clock)
    assert not subs.claim_slot(5, "2024-03-14T08:00"), "never twice for one slot"
    digest = subs.digest(5)
    assert digest is not None and digest.tz == "Europe/Berlin" and digest.since == start + 10
    assert subs.arrived_since(digest.since) == []
    subs.set_digest(5, None)
    assert subs.digest(5) is None and subs.digests() == []
    subs.set_digest(5, "09:30")  # started again: holds what arrives from now on
    digest = subs.digest(5)
    assert digest is not None and digest.since == clock.now and digest.at == "09:30"
    assert subs.claim_slot(5, "2024-03-15T09:30")
    subs.close()

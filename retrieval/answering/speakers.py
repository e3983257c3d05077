"""Who says a sentence: "X said", "said X", "according to X", and "he said" continuations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.text import SPEECH_VERBS, content_stems

_VERBS = "|".join(sorted(SPEECH_VERBS | {"quoted", "saying"}, key=len, reverse=True))
_PRONOUN = r"(?:he|she|they|it|we|i)"
# "..., said council finance chair Ingrid Maalouf" / "..., said Maalouf, who ..."
_INVERTED = re.compile(
    rf"[,”\"’']\s*(?:{_VERBS})\s+(?P<who>(?:[a-z][\w’'-]*\s+){{0,6}}?[A-Z][\w’'.-]*"
    r"(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.-]*)*)"
)
_VERB = re.compile(rf"\b(?:{_VERBS})\b")
_ACCORDING = re.compile(
    r"\baccording to\s+(?P<who>(?:the\s+)?[\w’'.-]+(?:\s+[\w’'.-]+){0,6})", re.I
)
_QUOTED_AS = re.compile(r"(?P<who>[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*)\s+(?:was|were)\s+quoted")
_CLAUSE = re.compile(r"[,;:“”\"—–()]|\b(?:and|but|which|who|that|because|while|as|when|if)\b")
# Words between a speaker and the verb: "Macron earlier on March 5 said", "X has also said"
_FILLER = re.compile(
    r"also|later|then|has|have|had|was|were|is|will|would|never|earlier|again|"
    r"previously|repeatedly|publicly|recently|once|first|separately|on|in|at|last|this|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|today|yesterday|"
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december|\d+",
    re.I,
)
_REQUEST = re.compile(r"ask(?:ed|s)?\s+for\b")
_PRONOUN_RE = re.compile(rf"^{_PRONOUN}$", re.I)
_QUOTATION = re.compile(r"“[^”]*”?|\"[^\"]*\"?")


def explicit_speaker(sentence: str) -> str:
    """The speaker a sentence names ("" when none, "he" etc. when only a pronoun)."""
    text = sentence.replace("\n", " ")
    m = _INVERTED.search(text)
    if m:
        return _tidy(m["who"])
    # Verbs inside a quotation belong to what is said, not to who says it.
    masked = _QUOTATION.sub(lambda q: q[0][0] + " " * (len(q[0]) - 2) + q[0][-1:], text)
    m = _QUOTED_AS.search(masked)
    if m:
        return _tidy(m["who"])
    for m in _VERB.finditer(masked):
        if _REQUEST.match(masked, m.start()):
            continue  # "X has never asked for troops, the White House said": X asks, not says
        tail = _CLAUSE.split(_without_fillers(masked[: m.start()]))[-1].split()[-7:]
        who = " ".join(tail)
        if who and (_PRONOUN_RE.match(who) or re.search(r"[A-Z]", who) or _role(who)):
            return _tidy(who)
    m = _ACCORDING.search(masked)
    if m:
        return _tidy(re.split(r"[,;]", m["who"])[0])
    return ""


def _without_fillers(prefix: str) -> str:
    """`prefix` without the filler words it ends with, word by word from the end.

    (One regex anchored at the end did the same, but tried every position of a long
    sentence: it was most of the time of an extractive answer.)
    """
    words = prefix.split()
    end = len(words)
    while end and _FILLER.fullmatch(words[end - 1]):
        end -= 1
    return " ".join(words[:end])


def _role(phrase: str) -> bool:
    """Whether a lower-case phrase names who speaks ("the finance chair", "officials")."""
    return bool(
        re.search(
            r"\b(?:chair\w*|minister|spokes\w+|official\w*|chief|president|"
            r"director|secretary|mayor|governor|police|officer\w*|leader\w*|"
            r"councill?or\w*|manager|head|ceo|expert\w*|analyst\w*|"
            r"authorit\w+|agency|ministry|government|prosecutor\w*)$",
            phrase,
        )
    )


def _tidy(who: str) -> str:
    who = re.sub(r"^(?:the|a|an)\s+", "", who.strip(" ,.’'\""), flags=re.I)
    return re.sub(r"\s+(?:on|in|at|to|after|before|during|of)$", "", who)


def speakers(texts: Sequence[str]) -> list[str]:
    """The speaker of each sentence of one passage, "he said" and bare quotes resolved.

    A pronoun takes the last named speaker; a quotation with no attribution that follows
    an attributed one continues it.
    """
    out: list[str] = []
    last = ""
    for i, text in enumerate(texts):
        who = explicit_speaker(text)
        if who and _PRONOUN_RE.match(who):
            who = last
        elif not who and text.lstrip()[:1] in '“"' and i and out[i - 1]:
            who = out[i - 1]
        if who:
            last = who
        out.append(who)
    return out


def speaker_matches(subject_stems: Sequence[str], speaker: str, names: Sequence[str]) -> float:
    """How well a speaker phrase matches the subject of "what did X say" (0..1)."""
    if not subject_stems or not speaker:
        return 0.0
    sp = set(content_stems(speaker))
    subj = set(subject_stems)
    hit = len(subj & sp) / len(subj)
    if hit < 1 and names:
        # "What did John Kirby say?" vs "Kirby said": a surname is enough
        low = speaker.lower()
        if any(n.lower() in low for n in names if len(n) > 2):
            hit = max(hit, 0.8)
    return hit

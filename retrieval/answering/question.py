"""What a question asks for: the expected kind of answer and the subject it names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from retrieval.text import STOPWORDS, content_stems, named_terms, stem, words
from retrieval.timephrases import time_phrases
from retrieval.types import Turn

AnswerType = Literal["person", "place", "org", "date", "number", "speech", "thing"]

# The noun after "which"/"what" that names the kind of answer ("which country", "what team").
_KIND_NOUNS: dict[AnswerType, tuple[str, ...]] = {
    "place": (
        "country", "countries", "nation", "state", "city", "town", "continent", "region",
        "island", "province", "capital", "county", "place", "location", "destination",
        "territory", "village", "port", "sea", "ocean", "river", "mountain", "airport",
    ),
    "org": (
        "company", "companies", "team", "club", "platform", "network", "brand", "firm",
        "organization", "organisation", "agency", "party", "university", "school", "group",
        "airline", "carmaker", "automaker", "bank", "retailer", "league", "channel", "outlet",
        "newspaper", "magazine", "app", "website", "service", "streamer", "studio", "label",
        "band", "act", "union", "department", "ministry", "court", "chain", "manufacturer",
    ),
    "person": (
        "person", "man", "woman", "star", "actor", "actress", "singer", "rapper", "player",
        "champion", "leader", "president", "minister", "official", "senator", "politician",
        "athlete", "author", "writer", "director", "ceo", "founder", "billionaire", "king",
        "queen", "prince", "princess", "celebrity", "musician", "artist", "candidate",
        "governor", "mayor", "judge", "justice", "lawmaker", "representative", "chancellor",
        "member", "golfer", "quarterback", "coach", "comedian", "host", "astronaut",
        "scientist", "journalist", "spokesman", "spokeswoman", "spokesperson", "chief",
        "owner", "boss", "manager", "footballer", "pitcher", "rocker", "legend",
        "celeb", "people", "investor", "officer", "agent", "student", "sibling",
    ),
    "date": ("year", "month", "day", "date", "decade", "century", "season"),
    "number": (
        "percent", "percentage", "number", "amount", "price", "cost", "age", "total",
        "distance", "height", "weight", "temperature", "speed", "share", "rate",
    ),
}  # fmt: skip
_KIND_OF = {noun: kind for kind, nouns in _KIND_NOUNS.items() for noun in nouns}
_HOW_MANY = re.compile(
    r"\bhow (?:many|much|long|old|far|tall|high|big|large|fast)\b|\bworth\W*$|"
    r"\bwhat (?:is|was|were|are) the (?:estimated |total |new |average )?"
    r"(?:cost|price|value|number|amount|size|death toll|toll)\b",
    re.I,
)
_SAY = re.compile(
    r"\b(?:what|how) (?:did|does|do|has|have|had|is|was|were) (?P<subject>.+?) "
    r"(?:say|said|tell|told|think|thinks|mean|respond|responded|react|reacted|claim|"
    r"announce|warn|argue|write|wrote|call for|want)\b",
    re.I,
)
_WHO_IS = re.compile(r"^\s*(?:who|what)(?:'s| is| was| are| were) (?P<subject>[^?]+?)\??\s*$", re.I)
# Verbs of judging or reacting: their answer is usually an attributed statement.
STANCE = frozenset(
    stem(w)
    for w in [
        "criticize",
        "criticise",
        "condemn",
        "praise",
        "blame",
        "accuse",
        "warn",
        "urge",
        "react",
        "respond",
        "reject",
        "welcome",
        "deny",
        "defend",
        "oppose",
        "dismiss",
        "demand",
        "argue",
        "insist",
        "say",
        "tell",
    ]
)


@dataclass
class QuestionSpec:
    """A question taken apart for answering and for the relevance gate."""

    text: str
    kind: AnswerType
    stems: list[str]
    names: list[str]  # capitalised terms the question names
    subject: str = ""  # "X" of "what did X say" / "who is X"
    subject_stems: list[str] = field(default_factory=list)
    wants_speech: bool = False  # the answer is what someone said
    who_is: bool = False  # "who is X?": the answer describes X
    kind_noun: str = ""  # "country" of "which country"
    head: str = ""  # "island" of "which Japanese island", "mission" of "the name of the mission"
    unit: str = ""  # what a number or date answer must show: "year", "percent" or "money"
    dated: list[str] = field(default_factory=list)  # stems of its time phrases ("last week")


# Words that end the noun phrase after "which"/"what" (besides stopwords and punctuation):
# common verbs and adverbs of quiz questions ("which team recently won", "which product
# early next month").
_PHRASE_ENDS = frozenset({
    "won", "became", "made", "set", "hit", "took", "saw", "broke", "led", "ran", "gave", "sold",
    "bought", "left", "lost", "began", "came", "went", "met", "held", "sent", "wins", "makes",
    "early", "next", "last", "soon", "recently", "currently", "reportedly", "officially",
    "finally", "first",
})  # fmt: skip
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’.-]*|[,;:?!()]")


def _phrase(tokens: list[str], cased: bool = True) -> tuple[AnswerType | None, str, str]:
    """Kind, kind noun and head word of the noun phrase that starts `tokens` ("British pop
    star", "Supreme Court ruling"). The kind is its last kind noun, skipping capitalised ones
    when the question is `cased` (they are part of a name); a possessive one asks for its
    owner ("which country's new prime minister"). The head is its last lower-case word."""
    kinds: list[str] = []  # the phrase's kind nouns, in order
    head = ""
    for tok in tokens[:6]:
        bare = re.sub(r"['’]s$", "", tok.lower())
        low = _singular(bare)
        named = cased and tok[0].isupper()
        if low in _KIND_OF and not named and bare != tok.lower():
            return _KIND_OF[low], low, low
        if (
            not tok[0].isalnum()
            or low in STOPWORDS
            or low in _PHRASE_ENDS
            or re.search(r"n['’]t$", low)  # "which of these players wasn't traded"
            or (re.fullmatch(r"[a-z]{4,}(?:ed|ing)", low) and low not in _KIND_OF)
        ):
            break
        if not named:
            head = low
            if low in _KIND_OF:
                kinds.append(low)
    return (_KIND_OF[kinds[-1]] if kinds else None), (kinds[-1] if kinds else ""), head


def _singular(word: str) -> str:
    """The kind noun a plural names ("players", "cities"), else the word."""
    for end, base in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(end) and word[: -len(end)] + base in _KIND_OF:
            return word[: -len(end)] + base
    return word


# "Which of these players ...", "which of the following cities ...": the kind follows.
_OF_THESE = re.compile(r"of (?:these|those|the following)\b", re.I)
_NAME_OF = re.compile(r"\bname of (?:the|this|that|its|their) ([a-z]+)\b", re.I)


def _kind(question: str, low: list[str]) -> tuple[AnswerType, str, str]:
    """Expected answer type from the wh-word and the noun phrase that follows it, with that
    phrase's kind noun and head word ("island" of "which Japanese island")."""
    named = _NAME_OF.search(question)  # "what was the name of the mission?"
    head = named.group(1).lower() if named else ""
    if _HOW_MANY.search(question):
        return "number", "", head
    tokens = _TOKEN.findall(question)
    cased = not (question.isupper() or question.istitle())  # "WHICH COUNTRY WON?"
    for i, tok in enumerate(tokens):
        if tok.lower() in ("which", "what", "whose"):
            rest = tokens[i + 1 :]
            of = _OF_THESE.match(" ".join(rest[:3]))
            kind, noun, found = _phrase(rest[len(of.group().split()) if of else 0 :], cased)
            head = head or found
            if kind:
                return kind, noun, head
    if "who" in low or "whom" in low:
        return "person", "", head
    if "where" in low:
        return "place", "", head
    if "when" in low:
        return "date", "", head
    return "thing", "", head


_MONEY = re.compile(
    r"\bhow much (?:\w+ ){0,6}?(?:cost|costs|pay|paid|spend|spent|raise|raised|earn|earned|"
    r"charge|fine|fined|sell|sold|worth|owe|budget)\b|"
    r"\bwhat (?:is|was) the (?:\w+ )?(?:cost|price)\b",
    re.I,
)


def _unit(question: str, kind: AnswerType, noun: str) -> str:
    """What a number or date answer must show ("in which year" -> a year)."""
    if kind == "date" and noun == "year":
        return "year"
    if kind == "number" and re.search(r"\bper ?cent(?:age)?\b", question, re.I):
        return "percent"
    if kind == "number" and _MONEY.search(question):
        return "money"
    return ""


# A relative time phrase dates the question ("this week"); the coverage seldom repeats it.
# Weekdays and dates ("on Sunday", "from 1952") are kept: articles name them too.
_RELATIVE = re.compile(
    r"\b(?:week|month|year|weekend|yesterday|today|tonight|night|morning|afternoon|evening)s?\b"
)


def analyse(question: str) -> QuestionSpec:
    """Take a question apart: expected answer type, named terms, the subject it names."""
    q = " ".join(question.replace("’", "'").split())
    low = words(q)
    kind, noun, head = _kind(q, low)
    spec = QuestionSpec(q, kind, content_stems(q), named_terms(q), kind_noun=noun, head=head)
    spec.unit = _unit(q, kind, noun)
    relative = [p for p in time_phrases(q) if _RELATIVE.search(p)]
    spec.dated = sorted({st for phrase in relative for st in content_stems(phrase)})
    say = _SAY.search(q)
    who = _WHO_IS.match(q)
    if say:
        spec.subject = _clean_subject(say["subject"])
        spec.wants_speech = True
        spec.kind = "speech"
    elif who and _is_name(who["subject"]) and (q.lower().startswith("who") or spec.names):
        spec.subject, spec.who_is = _clean_subject(who["subject"]), True
    own = [st for st in spec.stems if st not in STANCE]
    if not spec.wants_speech and set(spec.stems) & STANCE and len(own) <= 2:
        # "who criticized that?", "how did Russia react?": short questions about a stance are
        # answered by a statement; a long quiz question that mentions criticism is not
        spec.wants_speech = kind in ("person", "thing")
    spec.subject_stems = content_stems(spec.subject)
    return spec


def _is_name(phrase: str) -> bool:
    """Whether a phrase is a name ("John Kirby", "the finance chair"), not a clause."""
    toks = phrase.split()
    if not toks or len(toks) > 6:
        return False
    content = [t for t in toks if t.lower() not in ("the", "a", "an", "of", "and")]
    return all(t[:1].isupper() for t in content) or len(toks) <= 3


def _clean_subject(subject: str) -> str:
    """Drop leading articles and trailing 'about ...' from a subject phrase."""
    s = re.split(r"\b(?:about|on|regarding|of the|after|when|in response)\b", subject)[0]
    s = re.sub(r"^(?:the|a|an)\s+", "", s.strip(" ,"), flags=re.I)
    return s.strip(" ,'\"")


_FOLLOW_UP = re.compile(
    r"\b(he|she|they|it|that|this|those|these|him|her|them|his|their|its|there|then)\b", re.I
)


def condense_without_llm(question: str, history: Sequence[Turn]) -> str:
    """Make a follow-up searchable by joining it to the previous question when it leans on it."""
    if not history:
        return question
    prev = history[-1].standalone_question or history[-1].question
    if _FOLLOW_UP.search(question) or len(content_stems(question)) <= 2:
        return f"{prev} {question}"
    return question

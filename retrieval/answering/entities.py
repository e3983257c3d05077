"""Small rules that find the kinds of thing a sentence mentions: people, places, numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from retrieval.answering.places import PLACES
from retrieval.text import STOPWORDS, term_in

# Words that start a capitalised run without being a name ("The", "But", "Officials").
_STARTERS = STOPWORDS | frozenset(
    [
        "however",
        "meanwhile",
        "also",
        "still",
        "yet",
        "officials",
        "police",
        "experts",
        "critics",
        "residents",
        "people",
        "many",
        "several",
        "some",
        "most",
        "last",
        "next",
        "earlier",
        "later",
        "then",
        "now",
        "today",
        "yesterday",
        "on",
        "in",
        "at",
        "as",
        "after",
        "before",
        "since",
        "while",
        "when",
        "if",
        "but",
        "and",
        "or",
        "so",
    ]
)
_CONNECT = {"of", "de", "da", "del", "der", "van", "von", "al", "bin", "la", "le", "the", "and"}
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sen",
        "rep",
        "gov",
        "gen",
        "president",
        "minister",
        "secretary",
        "chancellor",
        "prime",
        "king",
        "queen",
        "prince",
        "princess",
        "pope",
        "judge",
        "justice",
        "mayor",
        "governor",
        "senator",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "chief",
        "director",
        "ceo",
        "chair",
        "chairman",
        "chairwoman",
        "councillor",
        "councilor",
        "commissioner",
        "ambassador",
        "general",
        "colonel",
        "captain",
        "coach",
        "star",
        "actor",
        "actress",
        "singer",
        "rapper",
        "player",
        "champion",
        "founder",
        "leader",
        "host",
        "author",
        "officer",
        "sheriff",
        "lawmaker",
    ]
)
_ORG_WORDS = frozenset(
    [
        "inc",
        "corp",
        "co",
        "ltd",
        "llc",
        "plc",
        "group",
        "party",
        "university",
        "college",
        "council",
        "agency",
        "ministry",
        "department",
        "airlines",
        "airways",
        "bank",
        "club",
        "fc",
        "united",
        "news",
        "times",
        "post",
        "network",
        "company",
        "association",
        "foundation",
        "institute",
        "commission",
        "committee",
        "court",
        "service",
        "board",
        "union",
        "authority",
        "league",
        "studios",
        "records",
        "motors",
        "technologies",
        "systems",
        "pharmaceuticals",
        "organization",
        "organisation",
        "federation",
        "administration",
        "bureau",
        "office",
        "parliament",
        "congress",
        "senate",
        "house",
        "army",
        "navy",
        "force",
        "forces",
        "police",
        "guard",
        "church",
        "school",
        "hospital",
        "museum",
        "fund",
        "trust",
        "media",
        "tv",
        "radio",
        "channel",
        "magazine",
        "journal",
        "press",
        "games",
    ]
)
_NAME = re.compile(
    r"(?:[A-Z][\w'’.-]*|[A-Z]\.)(?:\s+(?:(?:of|de|da|del|der|van|von|al|bin|la|le|the|and)\s+)?"
    r"(?:[A-Z][\w'’.-]*|[A-Z]\.|\d+))*"
)
_NUMBER = re.compile(
    r"(?:[$€£¥]\s?)?\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|trillion|bn|mn|m|k|"
    r"thousand|hundred|inches|inch|feet|foot|miles|mile|km|kilometers|kilometres|meters|"
    r"metres|pounds|kg|years|months|weeks|days|hours|minutes|points|votes|people))?\b|"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|hundreds|thousand|thousands|dozens?|million|millions|billion|"
    r"half|a third|a quarter|double|triple)\b",
    re.I,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DATE = re.compile(
    rf"\b{_MONTH}(?:\s+\d{{1,2}})?(?:,?\s+(?:19|20)\d{{2}})?\b|\b(?:19|20)\d{{2}}\b|"
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_ROLE = re.compile(
    r"\b(?:minister|secretary|spokes(?:man|woman|person)|chair(?:man|woman)?|chief|director|"
    r"president|governor|mayor|ambassador|commander|official|leader|ceo|founder|head)s?\b"
)
_QUOTED_TITLE = re.compile(r"[“\"‘']([A-Z][^“”\"]{1,60}?)[”\"’'](?=[\s.,;:!?)]|$)")


@dataclass(frozen=True)
class Mention:
    """A span of a sentence and the kind of thing it names."""

    text: str
    kind: str  # person, place, org, name, number, date, title
    start: int


@lru_cache(maxsize=8192)
def mentions(sentence: str) -> tuple[Mention, ...]:
    """Every name, number, date and quoted title in a sentence, with its likely kind."""
    out: list[Mention] = []
    for m in _NAME.finditer(sentence):
        text, start = m.group().rstrip(".’'"), m.start()
        toks = text.split()
        while toks and (toks[0].lower() in _STARTERS or toks[0].lower() in _CONNECT):
            start += len(toks[0]) + 1
            toks = toks[1:]
        while toks and toks[-1].lower() in _CONNECT:
            toks = toks[:-1]
        if not toks:
            continue
        name = " ".join(toks)
        first_word = start == _first_word_start(sentence)
        out.append(Mention(name, _name_kind(name, sentence[:start], first_word), start))
    out += [Mention(m.group(), "number", m.start()) for m in _NUMBER.finditer(sentence)]
    out += [Mention(m.group(), "date", m.start()) for m in _DATE.finditer(sentence)]
    out += [Mention(m.group(1), "title", m.start(1)) for m in _QUOTED_TITLE.finditer(sentence)]
    out += [Mention(m.group(), "role", m.start()) for m in _ROLE.finditer(sentence)]
    return tuple(out)


def _first_word_start(sentence: str) -> int:
    m = re.search(r"[A-Za-z0-9]", sentence)
    return m.start() if m else 0


def _name_kind(name: str, before: str, sentence_start: bool) -> str:
    """Classify a capitalised run: place, org, person, or just a name."""
    low = name.lower().replace("’", "'")
    toks = low.split()
    base = re.sub(r"'s$", "", low)
    if base in PLACES or (len(toks) <= 3 and toks[-1] in PLACES and toks[0] in _DIRECTIONS):
        return "place"
    if toks[-1] in _ORG_WORDS or (len(name) >= 2 and name.isupper() and name.isalpha()):
        return "org"
    prev = re.findall(r"[a-z]+", before.lower()[-40:])
    if prev and prev[-1] in _TITLES:
        return "person"
    if len(toks) >= 2 and all(t[:1].isalpha() for t in toks) and not sentence_start:
        return "person"
    if len(toks) >= 2:
        return "name"
    return "name" if not sentence_start else "weak"


_DIRECTIONS = {"north", "south", "east", "west", "northern", "southern", "eastern", "western"}


def _named_in(word: str, question_folded: str) -> bool:
    """Whether the question names this word, or a close form of it (Japan/Japanese)."""
    return f" {word} " in question_folded or (len(word) >= 4 and term_in(word, question_folded))


# Which mention kinds answer which question kinds (and how well).
FITS: dict[str, dict[str, float]] = {
    "person": {"person": 1.0, "name": 0.6, "role": 0.6, "org": 0.4, "weak": 0.2},
    "place": {"place": 1.0, "name": 0.4, "weak": 0.2},
    "org": {"org": 1.0, "name": 0.7, "title": 0.5, "person": 0.2, "weak": 0.2},
    "date": {"date": 1.0, "number": 0.3},
    "number": {"number": 1.0, "date": 0.2},
    "speech": {},
    "thing": {"title": 0.8, "name": 0.5, "org": 0.5, "person": 0.4, "place": 0.4, "number": 0.3},
}


# What a number or date must show when the question asks for a unit ("in which year",
# "what percentage", "how much did it cost"): another number answers it poorly.
UNITS: dict[str, re.Pattern[str]] = {
    "year": re.compile(r"\b(?:1[5-9]|20)\d{2}\b"),
    "percent": re.compile(r"%|\bper ?cent"),
    "money": re.compile(r"[$€£¥]|\b(?:dollars?|pounds?|euros?|yuan|yen|rupees?|bn)\b", re.I),
}
_OFF_UNIT = 0.3


def type_fit(kind: str, sentence: str, question_folded: str, unit: str = "") -> float:
    """How well the sentence offers something new of the kind the question wants (0..1)."""
    fits = FITS.get(kind, {})
    best = 0.0
    for m in mentions(sentence):
        w = fits.get(m.kind, 0.0)
        if unit and m.kind in ("number", "date"):
            shown = sentence[m.start : m.start + len(m.text) + 12]  # "10 billion dollars"
            w = w if UNITS[unit].search(shown) else min(w, _OFF_UNIT)
        if w <= best:
            continue
        words = [t for t in re.findall(r"\w+", m.text.lower()) if t not in STOPWORDS]
        if words and all(_named_in(t, question_folded) for t in words):
            continue  # the question already names it ("Japan" for "Japanese"): not an answer
        best = w
    return best


# How a name hangs on the noun it names: "the island of Kyushu", "the mission, known as
# Dart", "the show “Squid Game”" (after the noun), "Kyushu island" (before it).
_AFTER_HEAD = re.compile(
    r"\s+of(?:\s+the)?\s+|(?:,\s*|\s+)(?:(?:known as|called|named|dubbed|titled|nicknamed)\s+)?"
    r"[“\"‘']?"
)


def attached(head: str, kind: str, sentence: str, question_folded: str) -> float:
    """1.0 when the sentence names something new right beside the question's head noun
    ("which Japanese island" -> "the island of Kyushu"), else 0.0."""
    if not head:
        return 0.0
    heads = list(re.finditer(rf"\b{re.escape(head)}(?:e?s)?\b", sentence, re.I))
    if not heads:
        return 0.0
    for m in mentions(sentence):
        if m.kind == "role" or (m.kind in ("number", "date") and kind not in ("number", "date")):
            continue
        words = [t for t in re.findall(r"\w+", m.text.lower()) if t not in STOPWORDS]
        if not words or all(_named_in(t, question_folded) for t in words):
            continue
        end = m.start + len(m.text)
        for h in heads:
            if m.start >= h.end() and _AFTER_HEAD.fullmatch(sentence[h.end() : m.start]):
                return 1.0
            # "Kyushu island", not "Trump's team" (the team of Trump, not its name)
            if h.start() == end + 1 and sentence[end] == " " and not re.search(r"['’]s$", m.text):
                return 1.0
    return 0.0

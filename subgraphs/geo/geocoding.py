"""Geocoding behind an interface: the offline gazetteer of the demo city.

Enters: a free-text address ("1100 Congress Avenue, Austin TX 78701") or a point.
Leaves: :class:`GeocodeResult` candidates, best first. :class:`GeocodingProvider`
is what a real provider (a hosted geocoding API) implements; :class:`Gazetteer`
answers from ``gazetteer.csv`` shipped in this package: street addresses with
postcodes and coordinates, plus postcode centroids.

Matching is forgiving the way people type: case, punctuation, "St"/"Street",
"Ave"/"Avenue", "E"/"East", "6th"/"Sixth", a missing direction, small typos.
House numbers between two known ones on a street are interpolated.
"""

from __future__ import annotations

import csv
import difflib
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from subgraphs.geo.geometry import Point, haversine_meters

GAZETTEER_PATH = Path(__file__).with_name("gazetteer.csv")
MAX_RESULTS = 5
MIN_CONFIDENCE = 0.5
"""Street matches scoring below this are not offered."""
POSTCODE_CONFIDENCE = 0.4
"""Confidence of a postcode-centroid answer (the postcode area, not an address)."""
REVERSE_ADDRESS_RADIUS_METERS = 150.0
REVERSE_POSTCODE_RADIUS_METERS = 5_000.0
STATE = "TX"

SUFFIXES = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "blv": "blvd",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "parkway": "pkwy",
    "place": "pl",
    "court": "ct",
    "highway": "hwy",
}
DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w"}
ORDINALS = {
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
}
IGNORED = {"austin", "tx", "texas", "usa", "us", "united", "states"}
POSTCODE_RE = re.compile(r"^\d{5}(?:-\d{4})?$")
NUMBER_RE = re.compile(r"^\d{1,6}[a-z]?$")


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """A place a query resolved to; ``line1`` is None for a postcode-level answer."""

    label: str
    line1: str | None
    city: str
    postcode: str
    location: Point
    confidence: float


class GeocodingProvider(Protocol):
    """What the store locator needs from a geocoder (gazetteer or a real service)."""

    async def geocode(self, query: str) -> list[GeocodeResult]:
        """Candidates for a free-text address, best first; empty when nothing matches."""
        ...

    async def reverse(self, point: Point) -> GeocodeResult | None:
        """The nearest known address (or postcode area) to ``point``; None when none is near."""
        ...


def normalize_tokens(text: str) -> list[str]:
    """Lower-case words without punctuation, suffixes and directions abbreviated."""
    words = re.sub(r"[^\w\s-]", " ", text.lower()).replace("-", " ").split()
    tokens = []
    for word in words:
        word = SUFFIXES.get(word, word)
        word = DIRECTIONS.get(word, word)
        tokens.append(ORDINALS.get(word, word))
    return tokens


@dataclass(frozen=True, slots=True)
class _Query:
    number: int | None
    street: tuple[str, ...]
    postcode: str | None


def _parse(query: str) -> _Query:
    tokens = normalize_tokens(query)
    postcode = None
    for token in tokens:
        if POSTCODE_RE.match(token):
            postcode = token[:5]
    tokens = [t for t in tokens if not POSTCODE_RE.match(t) and t not in IGNORED]
    number = None
    if tokens and NUMBER_RE.match(tokens[0]):
        number = int(re.sub(r"\D", "", tokens[0]))
        tokens = tokens[1:]
    return _Query(number=number, street=tuple(tokens), postcode=postcode)


@dataclass(frozen=True, slots=True)
class _Entry:
    number: int
    street: str
    postcode: str
    city: str
    location: Point


def _core(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The street name without direction or suffix ("e 6th st" -> "6th")."""
    kept = tuple(t for t in tokens if t not in DIRECTIONS.values() and t not in SUFFIXES.values())
    return kept or tokens


def _street_score(query: tuple[str, ...], street: tuple[str, ...]) -> float:
    """How well the typed street matches a gazetteer street, 0..1."""
    if query == street:
        return 1.0
    query_dirs = {t for t in query if t in DIRECTIONS.values()}
    street_dirs = {t for t in street if t in DIRECTIONS.values()}
    if query_dirs and query_dirs != street_dirs:
        return 0.0  # "W 6th" is never "E 6th"
    if _core(query) == _core(street):
        return 0.9
    ratio = difflib.SequenceMatcher(None, " ".join(_core(query)), " ".join(_core(street))).ratio()
    return ratio * 0.8 if ratio >= 0.8 else 0.0


def _label(line1: str | None, city: str, postcode: str) -> str:
    return f"{line1 + ', ' if line1 else ''}{city}, {STATE} {postcode}"


class Gazetteer:
    """Offline geocoder over a CSV of addresses and postcode centroids."""

    def __init__(self, *, path: Path = GAZETTEER_PATH) -> None:
        self._streets: dict[tuple[str, ...], list[_Entry]] = defaultdict(list)
        self._postcodes: dict[str, GeocodeResult] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                location = Point(float(row["lat"]), float(row["lng"]))
                if row["kind"] == "postcode":
                    self._postcodes[row["postcode"]] = GeocodeResult(
                        label=_label(None, row["city"], row["postcode"]),
                        line1=None,
                        city=row["city"],
                        postcode=row["postcode"],
                        location=location,
                        confidence=POSTCODE_CONFIDENCE,
                    )
                    continue
                number, _, street = row["line1"].partition(" ")
                self._streets[tuple(normalize_tokens(street))].append(
                    _Entry(int(number), street, row["postcode"], row["city"], location)
                )
        for entries in self._streets.values():
            entries.sort(key=lambda e: e.number)

    @property
    def address_count(self) -> int:
        """How many street addresses the gazetteer knows."""
        return sum(len(entries) for entries in self._streets.values())

    @property
    def postcodes(self) -> frozenset[str]:
        """Postcodes whose area (centroid) the gazetteer knows."""
        return frozenset(self._postcodes)

    async def geocode(self, query: str) -> list[GeocodeResult]:
        parsed = _parse(query)
        results: list[GeocodeResult] = []
        if parsed.street:
            for key, entries in self._streets.items():
                score = _street_score(parsed.street, key)
                if score > 0:
                    results.extend(self._on_street(entries, parsed, score))
        results = [r for r in results if r.confidence >= MIN_CONFIDENCE]
        if not results and parsed.postcode in self._postcodes:
            results.append(self._postcodes[parsed.postcode])
        results.sort(key=lambda r: (-r.confidence, r.label))
        unique: dict[str, GeocodeResult] = {}
        for result in results:
            unique.setdefault(result.label, result)
        return list(unique.values())[:MAX_RESULTS]

    def _on_street(self, entries: list[_Entry], query: _Query, score: float) -> list[GeocodeResult]:
        if query.postcode and all(e.postcode != query.postcode for e in entries):
            score *= 0.6  # the street exists, but not in that postcode
        if query.number is None:
            middle = entries[len(entries) // 2]
            return [self._result(middle, None, middle.location, middle.postcode, score * 0.8)]
        numbers = [e.number for e in entries]
        i = bisect_left(numbers, query.number)
        if i < len(entries) and numbers[i] == query.number:
            entry = entries[i]
            return [self._result(entry, entry.number, entry.location, entry.postcode, score)]
        if 0 < i < len(entries):
            low, high = entries[i - 1], entries[i]
            t = (query.number - low.number) / (high.number - low.number)
            location = Point(
                round(low.location.lat + t * (high.location.lat - low.location.lat), 6),
                round(low.location.lng + t * (high.location.lng - low.location.lng), 6),
            )
            postcode = low.postcode if t < 0.5 else high.postcode
            return [self._result(low, query.number, location, postcode, score * 0.9)]
        return []  # outside the known range of the street: do not guess

    @staticmethod
    def _result(
        entry: _Entry, number: int | None, location: Point, postcode: str, confidence: float
    ) -> GeocodeResult:
        line1 = f"{number} {entry.street}" if number is not None else entry.street
        return GeocodeResult(
            label=_label(line1, entry.city, postcode),
            line1=line1,
            city=entry.city,
            postcode=postcode,
            location=location,
            confidence=round(confidence, 3),
        )

    async def reverse(self, point: Point) -> GeocodeResult | None:
        best: tuple[float, _Entry] | None = None
        for entries in self._streets.values():
            for entry in entries:
                distance = haversine_meters(point, entry.location)
                if best is None or distance < best[0]:
                    best = (distance, entry)
        if best is not None and best[0] <= REVERSE_ADDRESS_RADIUS_METERS:
            entry = best[1]
            return self._result(entry, entry.number, entry.location, entry.postcode, 1.0)
        nearest = min(
            self._postcodes.values(),
            key=lambda r: haversine_meters(point, r.location),
            default=None,
        )
        if nearest and haversine_meters(point, nearest.location) <= REVERSE_POSTCODE_RADIUS_METERS:
            return nearest
        return None


@cache
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer, read once per process."""
    return Gazetteer()

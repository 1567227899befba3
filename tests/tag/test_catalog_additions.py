"""Companies added to the shipped catalog are found in ordinary news prose; their ambiguous names are not
tagged in ordinary English."""

from __future__ import annotations

import pytest

from evwire.tag.catalog import Catalog
from evwire.tag.tagger import Tagger
from evwire.tag.types import TagInput


@pytest.fixture(scope="module")
def tagger(catalog: Catalog) -> Tagger:
    return Tagger(catalog)


def _found(tagger: Tagger, title: str, body: str) -> set[str]:
    result = tagger.tag(TagInput(title=title, bullets=(), body=body))
    return {c.slug for c in (*result.about, *result.mentioned)}


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "Isuzu to sell the D-Max EV pickup in Europe from next spring",
            "Isuzu Motors said on Tuesday its first battery-electric pickup would reach European dealers"
            " next year, while Hino Motors plans more electric light trucks.",
            {"isuzu", "hino"},
        ),
        (
            "Ather Energy and TVS Motor gain as India's electric scooter sales rise",
            "Ather Energy sold more Rizta scooters in May, and TVS Motor said iQube registrations climbed,"
            " while Bajaj Auto kept its lead with the Chetak.",
            {"ather", "tvs", "bajaj"},
        ),
        (
            "Microvast and Amprius report higher battery revenue",
            "Battery maker Microvast (NASDAQ: MVST) raised its outlook, and Amprius said orders for its"
            " silicon anode cells doubled. Umicore cut its cathode targets again.",
            {"microvast", "amprius", "umicore"},
        ),
        (
            "PACCAR expands electric truck output",
            "PACCAR said Kenworth and Peterbilt electric trucks would be built in Texas, as Traton's"
            " Scania readies its own battery-electric tractors.",
            {"paccar", "traton"},
        ),
        (
            "STMicroelectronics and onsemi see silicon carbide demand from carmakers recover",
            "STMicroelectronics said orders from electric vehicle makers improved, and onsemi and"
            " Wolfspeed both pointed to a recovery in silicon carbide chips for EV inverters.",
            {"stmicroelectronics", "onsemi", "wolfspeed"},
        ),
    ],
)
def test_new_companies_are_found(tagger: Tagger, title: str, body: str, expected: set[str]) -> None:
    assert expected <= _found(tagger, title, body)


def test_ambiguous_new_names_in_ordinary_english_are_not_tagged(tagger: Tagger) -> None:
    found = _found(
        tagger,
        "Workhorse of the kitchen: a cast-iron pan",
        "Workhorse pans last for decades. Natron was used by Egyptian embalmers, and Lightyear remains a"
        " favourite toy among children. Shell collectors met on the beach; Tritium glows faintly.",
    )
    assert not found & {"workhorse", "natron", "lightyear", "shell", "tritium"}

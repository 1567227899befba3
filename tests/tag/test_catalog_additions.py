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
        (
            "TSMC and SK Hynix lift chip output for electric cars",
            "Taiwan Semiconductor Manufacturing Co (NYSE: TSM) said demand for automotive processors was"
            " recovering, and SK Hynix expects memory orders from EV makers to grow. Siemens and ABB"
            " reported more orders for fast chargers and factory automation.",
            {"tsmc", "sk-hynix", "siemens", "abb"},
        ),
        (
            "Sony, Alibaba and Tencent deepen ties with Chinese EV makers",
            "Sony Group said its image sensors would go into more electric cars, while Alibaba Group and"
            " Tencent Holdings signed cloud deals with carmakers. Samsung Electronics and LG Electronics"
            " showed in-car displays, and Harman unveiled a new digital cockpit for electric SUVs.",
            {"sony", "alibaba", "tencent", "samsung-electronics", "lg-electronics", "harman"},
        ),
        (
            "Cummins and Deere test battery-electric machines",
            "Cummins (NYSE: CMI) said its Accelera unit would supply electric drivetrains, and John Deere"
            " showed an electric tractor next to prototypes from Caterpillar.",
            {"cummins", "john-deere", "caterpillar"},
        ),
        (
            "Michelin and Bridgestone bet on tyres for heavier electric cars",
            "Michelin said EV tyres now make up a third of its replacement sales, while Bridgestone,"
            " Pirelli and Hankook Tire launched low-rolling-resistance ranges. Goodyear (NASDAQ: GT)"
            " cut its outlook.",
            {"michelin", "bridgestone", "pirelli", "hankook", "goodyear"},
        ),
        (
            "Glencore and Vale Base Metals seek nickel deals with battery makers",
            "Glencore, BHP Group and Vale Base Metals are talking to cathode makers, while Tsingshan and"
            " Zijin Mining expand in Indonesia and Argentina. Syrah Resources restarted graphite output"
            " for EV batteries.",
            {"glencore", "bhp", "vale", "tsingshan", "zijin-mining", "syrah-resources"},
        ),
        (
            "FedEx, UPS and DHL add thousands of electric delivery vans",
            "FedEx said its fleet now includes more electric vans, United Parcel Service ordered more"
            " from Rivian's rivals, and Deutsche Post DHL Group electrified its German routes. Avis"
            " Budget Group and Europcar also added electric rental cars, as did Lear Corporation's"
            " partner fleets.",
            {"fedex", "ups", "dhl", "avis-budget", "europcar", "lear"},
        ),
        (
            "JSW MG Motor India sells more Windsor EVs as Ashok Leyland and Eicher Motors add e-trucks",
            "JSW MG Motor India sold a record number of MG Windsor electric cars last month. Ashok Leyland"
            " (NSE: ASHOKLEY) and Eicher Motors both showed electric trucks, and Iveco Group unveiled the"
            " eDaily.",
            {"jsw-mg", "ashok-leyland", "eicher-motors", "iveco"},
        ),
    ],
)
def test_new_companies_are_found(tagger: Tagger, title: str, body: str, expected: set[str]) -> None:
    assert expected <= _found(tagger, title, body)


@pytest.mark.parametrize(
    ("title", "body", "absent"),
    [
        (
            "Workhorse of the kitchen: a cast-iron pan",
            "Workhorse pans last for decades. Natron was used by Egyptian embalmers, and Lightyear remains a"
            " favourite toy among children. Shell collectors met on the beach; Tritium glows faintly.",
            {"workhorse", "natron", "lightyear", "shell", "tritium"},
        ),
        (
            "An arm of the company publishes a meta-analysis",
            "The study, a meta-analysis of forty trials, was run by an arm of the company. Meta-analysis is"
            " slow work. Arm wrestling is popular in the town; the cadence of the music was steady, and a"
            " caterpillar crawled across the leaf. Cadence matters in poetry, said Eaton, a retired teacher.",
            {"arm", "meta", "cadence", "caterpillar", "eaton"},
        ),
        (
            "A bird on the wire and lime juice for the recipe",
            "Add lime juice and a pinch of salt. A bird on the wire sang all morning. Lime trees grow well"
            " here, Bird watchers say, and the Vale of York was green. The Michelin-starred chef read King"
            " Lear aloud.",
            {"lime", "bird", "vale", "michelin", "lear"},
        ),
    ],
)
def test_ambiguous_new_names_in_ordinary_english_are_not_tagged(
    tagger: Tagger, title: str, body: str, absent: set[str]
) -> None:
    assert not _found(tagger, title, body) & absent

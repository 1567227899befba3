"""Word lists and patterns for delivery-fact extraction (see evwire.tag.facts)."""

from __future__ import annotations

import re

_METRIC_WORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "reg",
        re.compile(r"\b(?:regist\w*|inventor\w*|capacity|recall\w*|install\w*|deploy\w*|insur\w*)\b", re.I),
    ),
    (
        "none",
        re.compile(
            r"\b(?:best-sell\w*|bestsell\w*|best\s+sell\w*|retail\s+outlets|on\s+sale|price[sd]?)\b", re.I
        ),
    ),
    (
        "orders",
        re.compile(
            r"\b(?:orders?|pre-orders?|preorders?|bookings?|booked|reservations?|order\s+intake)\b", re.I
        ),
    ),
    (
        "deliveries",
        re.compile(
            r"\b(?:deliver(?:ed|ies|y|ing|s)?|hand(?:ed|s|ing)?\s+over|handovers?|"
            r"shipments?|shipped|ship)\b",
            re.I,
        ),
    ),
    ("sales", re.compile(r"(?<!best-)(?<!best\s)(?<!top-)\b(?:sold|sell(?:s|ing)?|sales|outsold)\b", re.I)),
    (
        "production",
        re.compile(
            r"\b(?:produced|produc(?:e|es|ing|tion)|output|built|build(?:s|ing)?|"
            r"manufactured|manufactur(?:e|es|ing))\b",
            re.I,
        ),
    ),
]
_UNIT = re.compile(
    r"^\s*(?:(?:(?!(?:as|while|but|than|with|from|in|of|to|for|on|at|target|goal)\b)[a-z][\w-]*|and|or)\s+){0,5}?"
    r"(?:vehicles?|units?|cars?|EVs?|NEVs?|BEVs?|PHEVs?|"
    r"SUVs?|models?|autos?|automobiles?|trucks?|vans?|sedans?|pickups?|deliveries|sales|handovers|orders|"
    r"pre-orders)\b",
)
_MOVE = re.compile(
    r"\b(?:to|at|on|with|of|hit|reached|totall?ed|was|were)\s+(?:a\s+(?:record|new\s+high\s+of)\s+)?$"
)
_TARGET_CUE = re.compile(
    r"\b(?:aims?|aiming|aimed|targets?|targeting|targeted|goals?|plans?\s+to|planned\s+to|planning\s+to|"
    r"expects?\s+to|expecting\s+to|wants?|intends?\s+to|seeks?\s+to|hopes?\s+to|ambitions?|objectives?|"
    r"forecasts?|guidance|guided|outlook|on\s+track\s+to|projects?|set\s+out\s+to|sights?\s+on)\b",
    re.I,
)
_SKIP_CUE = re.compile(
    r"\b(?:would|could|might|need\s+to|needs\s+to|will\s+need|analysts?|estimates?|estimated|consensus|median|"
    r"forecasters|polled|surveyed|if\b|unless)\b",
    re.I,
)
_METRIC_AFTER = re.compile(
    r"^\s*(?:(?:it|they|the\s+company|that\s+it)\s+)?(?:had\s+)?(?:delivered|sold|built|"
    r"produced|handed\s+over|shipped)\b",
    re.I,
)
_SHARE_BEFORE = re.compile(
    r"\b(?:of\s+which|of\s+them|the\s+remaining|the\s+other|including|includes|"
    r"accounted\s+for|made\s+up|account\s+for)\s+(?:\w+\s+){0,2}$",
    re.I,
)
_SHARE_AFTER = re.compile(r"^\s*(?:of\s+(?:them|which|the|its|those|these|this)\b|were\s+\w+\s*$)", re.I)
_RATE = re.compile(
    r"^\s*(?:(?:[a-z-]+\s+){0,2}?(?:vehicles?|units?|cars?|EVs?|NEVs?)\s+)?(?:(?:a|per|each|every)"
    r"\s+year\b(?!\s+(?:earlier|before|ago|later))|annually\b)",
    re.I,
)
_COMPARE_CUE = re.compile(
    r"\b(?:from|than|compared\s+(?:with|to)|versus|vs\.?|against|above|below|"
    r"ahead\s+of|behind|increase\s+on|rise\s+on|up\s+on|down\s+on)\b",
    re.I,
)
_COMPARE_BEFORE = re.compile(
    r"\b(?:from|than|compared\s+(?:with|to)|versus|vs\.?|against|above|below|"
    r"ahead\s+of|behind|on|(?<!handed\s)(?<!hand\s)(?<!hands\s)over)\s+(?:the\s+|its\s+)?(?:[a-z]+\s+)?$",
    re.I,
)
_BOUNDARY = re.compile(r";|:\s|\s[—–]\s|,?\s+(?:while|whereas)\s+|,?\s+but\s+|\bthat\s+(?!is\b)|,\s+so\s+")
_BLOCK_BEFORE = re.compile(
    r"\b(?:than|of|with|behind|ahead|against|by|from|to|like|including|beat|beating|outsold|overtook|"
    r"overtaking|trailed|trailing|as|for|at|among|over|past|into|about|and|or|versus|vs\.?|unlike|"
    r"rivals?|peers?|partner|between)\s+(?:the\s+|its\s+|their\s+|a\s+)?(?:[\w-]+\s+)?$",
    re.I,
)
_OWNER_GAP = re.compile(
    r"^(?:'s|’s)?\s*(?:(?:main|core|flagship|premium|own|namesake|sub-)?\s*brand\s*)?"
    r"(?:at|with|on|:|,)?\s*\(?\s*(?:a\s+record\s+)?$"
)
_MODEL_TOKEN = re.compile(r"\b(?:[A-Z]{1,3}\d{1,3}[A-Za-z]?|Model\s+[A-Z0-9]\w*|ID\.\d|\d{3})\b")
_COMPANY_SUFFIX = {
    "group",
    "holding",
    "holdings",
    "auto",
    "automobile",
    "automotive",
    "motor",
    "motors",
    "cars",
    "corp",
    "corporation",
    "inc",
    "co",
    "company",
    "technologies",
    "technology",
    "international",
    "brand",
    "sub-brand",
    "alliance",
    "ag",
    "se",
    "ltd",
    "limited",
    "plc",
    "nv",
}
_MARKETS = (
    r"overseas|abroad|international|exports?|exported|outside\s+(?:of\s+)?China|domestic(?:ally)?|"
    r"at\s+home|home\s+market|(?:in|across|to)\s+(?:the\s+)?(?:China|Chinese\s+market|Europe|EU|European\s+"
    r"Union|United\s+States|U\.S\.?|US|America|North\s+America|UK|Britain|Germany|France|Norway|Japan|"
    r"Korea|South\s+Korea|India|Australia|Thailand|Brazil|Mexico|Canada|Italy|Spain|Sweden|Netherlands|"
    r"Turkey|Israel|Southeast\s+Asia|Latin\s+America|Middle\s+East)\b|(?:U\.S\.|US|European|Chinese)\s+"
    r"(?:EV\s+)?(?:sales|deliveries|registrations)|there\b"
)
_MARKET_RE = re.compile(r"\b(?:" + _MARKETS + r")", re.I)
_PHEV = re.compile(r"\b(?:plug-in\s+hybrids?|PHEVs?|plug-ins?|range-extended|EREVs?|hybrids?)\b", re.I)
_BEV = re.compile(
    r"\b(?:battery-electric|battery\s+electric|fully\s+electric|all-electric|pure-electric|"
    r"pure\s+electric|BEVs?|electric|EVs?)\b",
    re.I,
)
_NEV = re.compile(r"\b(?:new[\s-]energy|NEVs?|electrified|electrified)\b", re.I)
_SEGMENT = re.compile(r"\b(?:vans?|trucks?|commercial\s+vehicles?|buses|two-wheelers)\b", re.I)
_OK_CAPS = {
    "EV",
    "EVs",
    "NEV",
    "NEVs",
    "BEV",
    "BEVs",
    "PHEV",
    "PHEVs",
    "SUV",
    "SUVs",
    "CEO",
    "CFO",
    "The",
    "It",
    "Its",
    "In",
    "For",
    "By",
    "At",
    "On",
    "With",
    "As",
    "Over",
    "Among",
    "After",
    "Before",
    "During",
    "Sales",
    "Deliveries",
    "Output",
    "Production",
    "Volume",
    "Total",
    "Combined",
    "Global",
    "Worldwide",
    "A",
    "An",
    "This",
    "That",
    "Last",
    "Meanwhile",
    "Overall",
    "Together",
    "Still",
    "Also",
    "Of",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "H1",
    "H2",
    "YoY",
    "I",
    "II",
    "And",
}


_DEMONYM = re.compile(
    r"^(?:Chinese|German|American|Swedish|Japanese|Korean|South|North|French|British|Italian|"
    r"European|Asian|Indian|Vietnamese|Malaysian|Dutch|Spanish|Norwegian|Western|Eastern|"
    r"U\.S|US|UK|EU)\b"
)
_MONTH_NAMES = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "april-june",
    "july-september",
    "january-march",
    "october-december",
}

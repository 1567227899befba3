"""The query language: parsing, errors with positions, printing back, naive evaluation."""

from __future__ import annotations

import pytest

from evwire.alerts.document import make_doc
from evwire.alerts.query import (
    And,
    Company,
    Not,
    Or,
    Phrase,
    QueryError,
    Ticker,
    TitlePhrase,
    TitleWord,
    Word,
    evaluate,
    parse_query,
    to_text,
)

DOC = make_doc(
    "Xiaomi and Ford in joint venture talks",
    ["Xiaomi delivered 411,837 vehicles", "The SU7 price cut helped"],
    "Tesla (NASDAQ: TSLA) was mentioned. Škoda too. 小米汽车 launched the Mach-E rival.",
    about=["xiaomi", "ford"],
    mentioned=["tesla"],
    tickers=[("HKG", "1810"), ("NASDAQ", "TSLA")],
)


def test_query_parse_precedence_and_implicit_and() -> None:
    ast = parse_query('Xiaomi AND (Ford OR "joint venture") NOT title:recall')
    assert ast == And(
        (Word("xiaomi"), Or((Word("ford"), Phrase(("joint", "venture")))), Not(TitleWord("recall")))
    )
    assert parse_query("a b OR c") == Or((And((Word("a"), Word("b"))), Word("c")))
    assert parse_query("lower and or") == And((Word("lower"), Word("and"), Word("or")))


def test_query_parse_fields() -> None:
    assert parse_query("company:Xiaomi") == Company("xiaomi")
    assert parse_query("ticker:tsla") == Ticker("TSLA")
    assert parse_query("ticker:HKG:1810") == Ticker("1810", "HKG")
    assert parse_query("ticker:NSE:M&M") == Ticker("M&M", "NSE")  # Indian symbols hold & or -
    assert parse_query("ticker:NSE:BAJAJ-AUTO") == Ticker("BAJAJ-AUTO", "NSE")
    assert parse_query('title:"Price Cut"') == TitlePhrase(("price", "cut"))
    assert parse_query("Mach-E") == Phrase(("mach", "e"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ('Xiaomi AND "joint venture', "unclosed quote at 11"),
        ("Xiaomi OR Ford AND", "expected a term after AND at 15"),
        ("xiaomi AND OR ford", "expected a term after AND at 7"),
        ("foo:bar xiaomi", "unknown field foo: at 0"),
        ("xiaomi NOT", "expected a term after NOT at 7"),
        ("OR xiaomi", "expected a term before OR at 0"),
        ("(xiaomi OR ford", "unclosed ( at 0"),
        ("xiaomi)", "unexpected ) at 6"),
        ("xiaomi ()", "empty parentheses at 7"),
        ('xiaomi ""', "empty phrase at 7"),
        ("company:", "expected a value after company: at 0"),
        ("company:Xiao_mi", "is not a channel slug"),
        ("ticker:$$$", "is not a ticker"),
        ("&&", "has no letters or digits at 0"),
        ("x" * 1001, "query too long"),
        (" OR ".join(["a"] * 65), "too many terms"),
    ],
)
def test_query_parse_errors_say_where_and_why(query: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    assert message in str(info.value)


def test_query_error_has_position() -> None:
    with pytest.raises(QueryError) as info:
        parse_query('Xiaomi AND "joint venture')
    assert info.value.position == 11 and info.value.reason == "unclosed quote"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("xiaomi", True),
        ("XIAOMI ford", True),
        ('"joint venture"', True),
        ('"venture joint"', False),
        ('"talks xiaomi"', False),  # a phrase never runs from the title into a bullet
        ('"price cut"', True),
        ('title:"price cut"', False),
        ("title:ford", True),
        ("skoda", True),  # accents folded
        ("小米", True),  # CJK characters are tokens of their own
        ("Mach-E", True),
        ("company:xiaomi", True),
        ("company:tesla", False),  # only mentioned
        ("ticker:TSLA", True),
        ("ticker:1810", True),
        ("ticker:HKG:1810", True),
        ("ticker:NYSE:1810", False),
        ("xiaomi NOT tesla", False),
        ("xiaomi NOT byd", True),
        ("NOT (byd OR nio)", True),
        ('Xiaomi AND (BYD OR "joint venture")', True),
    ],
)
def test_query_evaluate(query: str, expected: bool) -> None:
    assert evaluate(parse_query(query), DOC) is expected


def test_query_evaluate_mentions_opt_in() -> None:
    ast = parse_query("company:tesla")
    assert not evaluate(ast, DOC)
    assert evaluate(ast, DOC, mentions=True)


@pytest.mark.parametrize(
    "query",
    [
        'a AND (b OR "c d") NOT title:e',
        "NOT NOT x",
        "(a OR b) (c OR d)",
        "ticker:HKG:1810 OR company:byd-auto",
    ],
)
def test_query_to_text_round_trips(query: str) -> None:
    ast = parse_query(query)
    assert parse_query(to_text(ast)) == ast

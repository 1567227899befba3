"""The percolator returns exactly what evaluating every stored query naively returns."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evwire.alerts.document import MatchDoc, make_doc
from evwire.alerts.normal import MAX_CONJUNCTIONS, to_dnf
from evwire.alerts.percolator import Percolator, doc_frequencies
from evwire.alerts.query import (
    Company,
    Node,
    Not,
    Phrase,
    Ticker,
    TitlePhrase,
    TitleWord,
    Word,
    evaluate,
    make_and,
    make_or,
    parse_query,
    to_text,
)

WORDS = ["xiaomi", "ford", "joint", "venture", "battery", "price", "cut", "su7", "the", "recall"]
SLUGS = ["xiaomi", "ford", "tesla", "byd"]
LISTINGS = [("HKG", "1810"), ("NASDAQ", "TSLA"), ("NYSE", "F"), ("HKG", "1211")]

words = st.sampled_from(WORDS)
phrases = st.lists(words, min_size=2, max_size=3).map(tuple)
terms = st.one_of(
    words.map(Word),
    phrases.map(Phrase),
    words.map(TitleWord),
    phrases.map(TitlePhrase),
    st.sampled_from(SLUGS).map(Company),
    st.sampled_from(LISTINGS).flatmap(lambda p: st.sampled_from([Ticker(p[1]), Ticker(p[1], p[0])])),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=4).map(make_and),
        st.lists(children, min_size=2, max_size=4).map(make_or),
    )


queries = st.recursive(terms, _extend, max_leaves=12)
sentences = st.lists(words, min_size=0, max_size=8).map(" ".join)
docs = st.builds(
    lambda title, bullets, body, about, mentioned, tickers: make_doc(
        title, bullets, body, about=about, mentioned=mentioned, tickers=tickers
    ),
    sentences,
    st.lists(sentences, max_size=2),
    sentences,
    st.sets(st.sampled_from(SLUGS), max_size=2),
    st.sets(st.sampled_from(SLUGS), max_size=2),
    st.sets(st.sampled_from(LISTINGS), max_size=2),
)


def _naive(stored: dict[int, tuple[Node, bool]], doc: MatchDoc) -> set[int]:
    return {qid for qid, (ast, mentions) in stored.items() if evaluate(ast, doc, mentions)}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(queries, st.booleans()), min_size=1, max_size=25),
    st.lists(docs, min_size=1, max_size=5),
    st.booleans(),
)
def test_percolator_equals_naive_evaluation(
    stored_list: list[tuple[Node, bool]], doc_list: list[MatchDoc], learned: bool
) -> None:
    stored = dict(enumerate(stored_list))
    perc = Percolator(doc_freq=doc_frequencies(doc_list) if learned else None)
    for qid, (ast, mentions) in stored.items():
        perc.add(qid, ast, mentions)
    for doc in doc_list:
        expected = _naive(stored, doc)
        assert perc.match(doc) == expected
        ids = perc.match_ids(doc)  # what alerts.matching uses: one array, each id once
        assert sorted(ids.tolist()) == sorted(expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(queries, st.booleans()), min_size=2, max_size=20),
    st.data(),
    st.lists(docs, min_size=1, max_size=3),
)
def test_percolator_remove_and_replace(
    stored_list: list[tuple[Node, bool]], data: st.DataObject, doc_list: list[MatchDoc]
) -> None:
    stored = dict(enumerate(stored_list))
    perc = Percolator()
    for qid, (ast, mentions) in stored.items():
        perc.add(qid, ast, mentions)
    gone = data.draw(st.sets(st.sampled_from(sorted(stored))))
    for qid in gone:
        perc.remove(qid)
        del stored[qid]
    replaced = data.draw(st.sets(st.sampled_from(sorted(stored)))) if stored else set()
    for qid in replaced:
        new = data.draw(st.tuples(queries, st.booleans()))
        perc.add(qid, *new)
        stored[qid] = new
    assert len(perc) == len(stored)
    perc.prepare()
    for doc in doc_list:
        assert perc.match(doc) == _naive(stored, doc)
        assert sorted(perc.match_ids(doc).tolist()) == sorted(_naive(stored, doc))
    for qid in list(stored):
        perc.remove(qid)
    assert perc.stats() == {k: 0 for k in perc.stats()}


def test_percolator_large_query_falls_back_and_still_matches() -> None:
    # (a1 OR b1) AND (a2 OR b2) ... has 2**7 conjunctions: kept whole, filed by required keys.
    big = " ".join(f"({w} OR {v})" for w, v in zip(WORDS[:7], WORDS[3:10], strict=True))
    ast = parse_query(big)
    assert to_dnf(ast) is None and 2**7 > MAX_CONJUNCTIONS
    perc = Percolator()
    perc.add("big", ast)
    perc.add("not-big", parse_query(f"NOT ({big})"))
    hit = make_doc(" ".join(WORDS), [], "")
    miss = make_doc("nothing here", [], "")
    assert perc.match(hit) == {"big"}
    assert perc.match(miss) == {"not-big"}
    assert perc.stats()["whole"] == 1  # the negation is an OR of 7 small conjunctions


def test_percolator_company_mentions_opt_in() -> None:
    perc = Percolator()
    perc.add("about-only", parse_query("company:tesla"))
    perc.add("with-mentions", parse_query("company:tesla"), mentions=True)
    doc = make_doc("Xiaomi beats Tesla", [], "", about=["xiaomi"], mentioned=["tesla"])
    assert perc.match(doc) == {"with-mentions"}


def test_percolator_round_trip_text_is_stable() -> None:
    q = 'Xiaomi AND (Ford OR "joint venture") NOT title:recall'
    assert to_text(parse_query(to_text(parse_query(q)))) == to_text(parse_query(q))


@settings(max_examples=100, deadline=None)
@given(queries)
def test_query_to_text_parses_back_to_the_same_ast(ast: Node) -> None:
    assert parse_query(to_text(ast)) == ast


def test_percolator_popular_key_merged_once_per_id() -> None:
    # Thousands of queries under one key and overlapping OR lists: a large merge (bitmap path).
    perc = Percolator()
    for qid in range(3000):
        perc.add(qid, parse_query("company:tesla" if qid % 3 else "tesla OR xiaomi OR ford"))
    for qid in range(3000, 3100):
        perc.add(qid, parse_query("company:byd NOT recall"))
    doc = make_doc("Tesla and Xiaomi cut prices", [], "", about=["tesla", "byd"])
    ids = perc.match_ids(doc).tolist()
    assert sorted(ids) == list(range(3100)) and len(set(ids)) == len(ids)
    perc.remove(5)
    perc.add(5, parse_query("nothing"))
    assert 5 not in perc.match(doc) and len(perc.match(doc)) == 3099

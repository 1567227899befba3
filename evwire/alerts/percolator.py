"""Percolator: match one article against many stored queries through an index, not a loop.

Each query is rewritten in disjunctive normal form (an OR of conjunctions of terms and negated
terms). A conjunction can only match an article that holds every positive term, so it is filed
under one of them, its *anchor* (the one least likely to occur, by ``doc_freq`` or a heuristic),
and inside that under a second positive key. For an article, only conjunctions whose anchor and
second key are both among the article's keys are looked at, then checked exactly (other terms,
phrases, NOT terms). Identical conjunctions share one entry holding all their query ids, and a
conjunction of a single plain key needs no check at all.

Queries whose DNF would be too large are kept whole, filed under a set of keys one of which
must occur for the query to match, and checked with the naive evaluator. Conjunctions with no
positive term at all (``NOT recall``) go to a small always-checked list.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

from evwire.alerts.document import ABOUT, ANY_MENTION, LISTING, SYMBOL, TITLE, WORD, MatchDoc, phrase_text
from evwire.alerts.query import (
    And,
    Company,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    Ticker,
    TitlePhrase,
    TitleWord,
    Word,
    evaluate,
)

MAX_CONJUNCTIONS = 64
QueryId = Hashable

_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in is it its of on or that the this to was were will"
    " with new said year after over more than up its not no".split()
)


# --- literals ----------------------------------------------------------------------------
# A literal is ("k", key) for a plain key of MatchDoc.keys, or ("p"|"tp", padded phrase) for a
# phrase in the text or title. Keys for a positive literal that can serve as its anchor:


@dataclass(frozen=True)
class Literal:
    kind: str  # "k" key, "p" phrase in text, "tp" phrase in title
    value: str
    anchors: tuple[str, ...]  # keys any one of which the literal implies (a phrase implies all its words)


def literal(term: Term, mentions: bool) -> Literal:
    if isinstance(term, Word):
        return Literal("k", WORD + term.token, (WORD + term.token,))
    if isinstance(term, TitleWord):
        return Literal("k", TITLE + term.token, (TITLE + term.token,))
    if isinstance(term, Phrase):
        return Literal("p", phrase_text(term.tokens), tuple(WORD + t for t in term.tokens))
    if isinstance(term, TitlePhrase):
        return Literal("tp", phrase_text(term.tokens), tuple(TITLE + t for t in term.tokens))
    if isinstance(term, Company):
        key = (ANY_MENTION if mentions else ABOUT) + term.slug
        return Literal("k", key, (key,))
    assert isinstance(term, Ticker)
    key = LISTING + f"{term.exchange}:{term.symbol}" if term.exchange else SYMBOL + term.symbol
    return Literal("k", key, (key,))


def heuristic_cost(key: str) -> float:
    """A guess at the share of articles holding ``key`` when no measured frequency is known."""
    prefix, value = key[:2], key[2:]
    if prefix in (LISTING, SYMBOL):
        return 0.002
    if prefix == ABOUT:
        return 0.02
    if prefix == ANY_MENTION:
        return 0.05
    base = 0.9 if value in _STOPWORDS else 0.3 if len(value) <= 3 else 0.1 if len(value) <= 5 else 0.05
    return base * 0.2 if prefix == TITLE else base


def doc_frequencies(docs: Iterable[MatchDoc]) -> dict[str, float]:
    """Share of ``docs`` holding each key: a measured ``doc_freq`` for choosing anchors."""
    counts: dict[str, int] = {}
    n = 0
    for d in docs:
        n += 1
        for k in d.keys:
            counts[k] = counts.get(k, 0) + 1
    return {k: c / n for k, c in counts.items()} if n else {}


# --- normal forms ------------------------------------------------------------------------


class _TooBig(Exception):
    pass


Conj = tuple[frozenset[Literal], frozenset[Literal]]  # (positive, negative)


def _nnf_dnf(node: Node, neg: bool, mentions: bool) -> list[Conj]:
    if isinstance(node, Not):
        return _nnf_dnf(node.child, not neg, mentions)
    if isinstance(node, And | Or):
        parts = [_nnf_dnf(c, neg, mentions) for c in node.children]
        if isinstance(node, Or) != neg:  # OR, or NOT over AND: a union
            out = [c for p in parts for c in p]
        else:  # AND, or NOT over OR: a product
            size = 1
            for p in parts:
                size *= len(p)
                if size > MAX_CONJUNCTIONS:
                    raise _TooBig
            out = [
                (frozenset().union(*(c[0] for c in combo)), frozenset().union(*(c[1] for c in combo)))
                for combo in product(*parts)
            ]
        if len(out) > MAX_CONJUNCTIONS:
            raise _TooBig
        return out
    lit = literal(node, mentions)
    return [(frozenset(), frozenset((lit,)))] if neg else [(frozenset((lit,)), frozenset())]


def to_dnf(node: Node, mentions: bool = False) -> list[Conj] | None:
    """DNF of a query without contradictory or repeated conjunctions; None when too large."""
    try:
        conjs = _nnf_dnf(node, False, mentions)
    except _TooBig:
        return None
    seen: dict[Conj, None] = {}
    for pos, neg in conjs:
        if not (pos & neg):
            seen.setdefault((pos, neg), None)
    return list(seen)


def required_keys(node: Node, mentions: bool, cost) -> set[str] | None:  # type: ignore[no-untyped-def]
    """A small set of keys one of which occurs in every article the query matches, or None."""
    if isinstance(node, Not):
        return None
    if isinstance(node, And):
        options = [r for c in node.children if (r := required_keys(c, mentions, cost)) is not None]
        return min(options, key=lambda s: sum(cost(k) for k in s)) if options else None
    if isinstance(node, Or):
        out: set[str] = set()
        for c in node.children:
            r = required_keys(c, mentions, cost)
            if r is None:
                return None
            out |= r
        return out
    return {min(literal(node, mentions).anchors, key=cost)}


# --- the index ---------------------------------------------------------------------------


@dataclass(eq=False)
class _Entry:
    """One distinct conjunction and the queries that hold it."""

    conj: Conj
    anchor: str | None  # None: in the always-checked list
    second: str | None
    pos_keys: frozenset[str]
    neg_keys: frozenset[str]
    pos_phrases: tuple[tuple[str, str], ...]
    neg_phrases: tuple[tuple[str, str], ...]
    qids: set[QueryId] = field(default_factory=set)

    def check(self, doc: MatchDoc, keys: frozenset[str]) -> bool:
        if self.pos_keys and not keys.issuperset(self.pos_keys):
            return False
        if self.neg_keys and not keys.isdisjoint(self.neg_keys):
            return False
        for kind, text in self.pos_phrases:
            if text not in (doc.text if kind == "p" else doc.title_text):
                return False
        for kind, text in self.neg_phrases:
            if text in (doc.text if kind == "p" else doc.title_text):
                return False
        return True


def _split(lits: frozenset[Literal]) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    keys = frozenset(lit.value for lit in lits if lit.kind == "k")
    phrases = tuple(sorted((lit.kind, lit.value) for lit in lits if lit.kind != "k"))
    return keys, phrases


# What a stored query holds: an _Entry, a direct key (str), or _WHOLE.
_WHOLE = object()


class Percolator:
    """Stored queries, indexed; ``match(doc)`` equals evaluating every query on ``doc``."""

    def __init__(self, doc_freq: Mapping[str, float] | None = None) -> None:
        self._doc_freq = doc_freq
        # anchor -> second key (None: none) -> conjunction -> entry
        self._index: dict[str, dict[str | None, dict[Conj, _Entry]]] = {}
        self._direct: dict[str, set[QueryId]] = {}  # single-key conjunctions: no check needed
        self._always: dict[Conj, _Entry] = {}  # no positive term
        self._whole: dict[QueryId, tuple[Node, bool, tuple[str, ...] | None]] = {}  # DNF too large
        self._whole_by_key: dict[str, set[QueryId]] = {}
        self._whole_always: set[QueryId] = set()
        self._refs: dict[QueryId, tuple[object, ...]] = {}

    def cost(self, key: str) -> float:
        if self._doc_freq is not None and key in self._doc_freq:
            return self._doc_freq[key]
        return heuristic_cost(key)

    def __len__(self) -> int:
        return len(self._refs)

    def __contains__(self, query_id: QueryId) -> bool:
        return query_id in self._refs

    def add(self, query_id: QueryId, ast: Node, mentions: bool = False) -> None:
        """Store a query (replacing one with the same id). ``mentions`` as in ``evaluate``."""
        if query_id in self._refs:
            self.remove(query_id)
        conjs = to_dnf(ast, mentions)
        if conjs is None:
            keys = required_keys(ast, mentions, self.cost)
            self._whole[query_id] = (ast, mentions, tuple(keys) if keys is not None else None)
            if keys is None:
                self._whole_always.add(query_id)
            for k in keys or ():
                self._whole_by_key.setdefault(k, set()).add(query_id)
            self._refs[query_id] = (_WHOLE,)
        else:
            self._refs[query_id] = tuple(self._add_conj(query_id, conj) for conj in conjs)

    def _add_conj(self, query_id: QueryId, conj: Conj) -> object:
        pos, neg = conj
        pos_keys, pos_phrases = _split(pos)
        if len(pos) == 1 and not neg and pos_keys:
            (key,) = pos_keys
            self._direct.setdefault(key, set()).add(query_id)
            return key
        if not pos:
            anchor = second = None
            entries = self._always
        else:
            # Anchor: the rarest key a positive literal implies; second key: the next rarest.
            candidates = sorted({a for lit in pos for a in lit.anchors}, key=lambda k: (self.cost(k), k))
            anchor = candidates[0]
            second = candidates[1] if len(candidates) > 1 else None
            entries = self._index.setdefault(anchor, {}).setdefault(second, {})
        entry = entries.get(conj)
        if entry is None:
            neg_keys, neg_phrases = _split(neg)
            rest = pos_keys - {anchor, second}
            entry = entries[conj] = _Entry(conj, anchor, second, rest, neg_keys, pos_phrases, neg_phrases)
        entry.qids.add(query_id)
        return entry

    def remove(self, query_id: QueryId) -> None:
        for ref in self._refs.pop(query_id, ()):
            if isinstance(ref, str):
                _discard(self._direct, ref, query_id)
            elif isinstance(ref, _Entry):
                ref.qids.discard(query_id)
                if ref.qids:
                    continue
                if ref.anchor is None:
                    del self._always[ref.conj]
                    continue
                groups = self._index[ref.anchor]
                entries = groups[ref.second]
                del entries[ref.conj]
                if not entries:
                    del groups[ref.second]
                    if not groups:
                        del self._index[ref.anchor]
            else:
                _ast, _m, keys = self._whole.pop(query_id)
                self._whole_always.discard(query_id)
                for k in keys or ():
                    _discard(self._whole_by_key, k, query_id)

    def match(self, doc: MatchDoc) -> set[QueryId]:
        """Ids of the stored queries that match ``doc``."""
        keys = doc.keys
        out: set[QueryId] = set()
        direct, index = self._direct, self._index
        for k in keys:
            ids = direct.get(k)
            if ids:
                out |= ids
            groups = index.get(k)
            if groups:
                if len(groups) > len(keys):
                    seconds: list[str | None] = [s for s in keys if s in groups]
                    if None in groups:
                        seconds.append(None)
                else:
                    seconds = [s for s in groups if s is None or s in keys]
                for s in seconds:
                    for entry in groups[s].values():
                        if entry.check(doc, keys):
                            out |= entry.qids
        for entry in self._always.values():
            if entry.check(doc, keys):
                out |= entry.qids
        if self._whole:
            todo = set(self._whole_always)
            for k in keys:
                ids = self._whole_by_key.get(k)
                if ids:
                    todo |= ids
            for qid in todo - out:
                ast, mentions, _keys = self._whole[qid]
                if evaluate(ast, doc, mentions):
                    out.add(qid)
        return out

    def stats(self) -> dict[str, int]:
        return {
            "queries": len(self._refs),
            "anchors": len(self._index),
            "entries": sum(len(e) for g in self._index.values() for e in g.values()),
            "direct_keys": len(self._direct),
            "always": len(self._always),
            "whole": len(self._whole),
        }


def _discard(table: dict[str, set[QueryId]], key: str, query_id: QueryId) -> None:
    ids = table.get(key)
    if ids is not None:
        ids.discard(query_id)
        if not ids:
            del table[key]

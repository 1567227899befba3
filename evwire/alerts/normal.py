"""Normal forms of a query: literals as index keys, DNF (bounded), and the keys a query requires."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

from evwire.alerts.document import (
    ABOUT,
    ANY_MENTION,
    BIGRAM,
    LISTING,
    SYMBOL,
    TITLE,
    TITLE_BIGRAM,
    WORD,
    bigram,
    phrase_text,
)
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
)

MAX_CONJUNCTIONS = 64

# --- literals ----------------------------------------------------------------------------
# A literal is ("k", key) for a plain key of MatchDoc.keys (a word, a two-word phrase as a bigram,
# a company, a ticker), or ("p"|"tp", padded phrase) for a longer phrase in the text or title,
# which implies each of its bigram keys.


PHRASE_LIT, TITLE_PHRASE_LIT = "p:", "q:"  # value prefixes of phrase literals (no key has them)


@dataclass(frozen=True)
class Literal:
    kind: str  # "k" key, "p" phrase in text, "tp" phrase in title
    value: str  # the key, or PHRASE_LIT / TITLE_PHRASE_LIT + padded phrase: unique across kinds
    anchors: tuple[str, ...]  # keys the literal implies (a phrase implies each of its bigrams)


def literal(term: Term, mentions: bool) -> Literal:
    if isinstance(term, Word):
        return Literal("k", WORD + term.token, (WORD + term.token,))
    if isinstance(term, TitleWord):
        return Literal("k", TITLE + term.token, (TITLE + term.token,))
    if isinstance(term, Phrase | TitlePhrase):
        prefix = BIGRAM if isinstance(term, Phrase) else TITLE_BIGRAM
        pairs = tuple(prefix + bigram(a, b) for a, b in zip(term.tokens, term.tokens[1:], strict=False))
        if len(pairs) == 1:  # a two-word phrase is a bigram key
            return Literal("k", pairs[0], pairs)
        if isinstance(term, Phrase):
            return Literal("p", PHRASE_LIT + phrase_text(term.tokens), pairs)
        return Literal("tp", TITLE_PHRASE_LIT + phrase_text(term.tokens), pairs)
    if isinstance(term, Company):
        key = (ANY_MENTION if mentions else ABOUT) + term.slug
        return Literal("k", key, (key,))
    assert isinstance(term, Ticker)
    key = LISTING + f"{term.exchange}:{term.symbol}" if term.exchange else SYMBOL + term.symbol
    return Literal("k", key, (key,))


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


def required_keys(node: Node, mentions: bool, cost: Callable[[str], float]) -> set[str] | None:
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

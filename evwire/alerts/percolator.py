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

import sys
from collections.abc import Hashable, Iterable, Mapping

from evwire.alerts.document import (
    ABOUT,
    ANY_MENTION,
    BIGRAM,
    LISTING,
    SYMBOL,
    TITLE,
    TITLE_BIGRAM,
    MatchDoc,
)
from evwire.alerts.normal import (
    PHRASE_LIT,
    TITLE_PHRASE_LIT,
    Conj,
    required_keys,
    to_dnf,
)
from evwire.alerts.query import (
    Node,
    evaluate,
)

QueryId = Hashable

_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in is it its of on or that the this to was were will"
    " with new said year after over more than up its not no".split()
)


def heuristic_cost(key: str) -> float:
    """A guess at the share of articles holding ``key`` when no measured frequency is known."""
    prefix, value = key[:2], key[2:]
    if prefix in (BIGRAM, TITLE_BIGRAM):
        return 0.005 if prefix == TITLE_BIGRAM else 0.02
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


# --- the index ---------------------------------------------------------------------------


Key = tuple[frozenset[str], frozenset[str]]  # a conjunction as literal values: (positive, negative)


class _Entry:
    """One distinct conjunction that needs a check once its anchor and second key are found."""

    __slots__ = ("key", "group", "pos_keys", "neg_keys", "pos_phrases", "neg_phrases", "qids")

    def __init__(self, key: Key, group: _Group, anchor_keys: set[str]) -> None:
        pos, neg = key
        self.key = key
        self.group = group
        self.pos_keys = frozenset(v for v in pos if not _is_phrase(v)) - anchor_keys
        self.neg_keys = frozenset(v for v in neg if not _is_phrase(v))
        self.pos_phrases = tuple(sorted(v for v in pos if _is_phrase(v)))
        self.neg_phrases = tuple(sorted(v for v in neg if _is_phrase(v)))
        self.qids: set[QueryId] = set()

    def check(self, doc: MatchDoc, keys: frozenset[str]) -> bool:
        if self.pos_keys and not keys.issuperset(self.pos_keys):
            return False
        if self.neg_keys and not keys.isdisjoint(self.neg_keys):
            return False
        for value in self.pos_phrases:
            if not _has_phrase(doc, value):
                return False
        return not any(_has_phrase(doc, value) for value in self.neg_phrases)


class _Group:
    """The conjunctions filed under one (anchor, second key).

    At most one conjunction of a group needs no check (the one made of exactly the anchor and
    the second key); its queries are ``sure``. The others are entries checked one by one.
    """

    __slots__ = ("anchor", "second", "sure", "checked")

    def __init__(self, anchor: str | None, second: str | None) -> None:
        self.anchor = anchor  # None: the always-checked group
        self.second = second
        self.sure: set[QueryId] = set()
        self.checked: dict[Key, _Entry] = {}


def _is_phrase(value: str) -> bool:
    return value.startswith((PHRASE_LIT, TITLE_PHRASE_LIT))


def _has_phrase(doc: MatchDoc, value: str) -> bool:
    if value.startswith(PHRASE_LIT):
        return value[2:] in doc.text
    return value[2:] in doc.title_text


# What a stored query holds: a direct key (str), a _Group (its sure conjunction), an _Entry, or _WHOLE.
_WHOLE = object()


class Percolator:
    """Stored queries, indexed; ``match(doc)`` equals evaluating every query on ``doc``."""

    def __init__(self, doc_freq: Mapping[str, float] | None = None) -> None:
        self._doc_freq = doc_freq
        self._index: dict[str, dict[str | None, _Group]] = {}  # anchor -> second key -> group
        self._direct: dict[str, set[QueryId]] = {}  # single-key conjunctions: no check needed
        self._always = _Group(None, None)  # conjunctions with no positive term
        self._whole: dict[QueryId, tuple[Node, bool, tuple[str, ...] | None]] = {}  # DNF too large
        self._whole_by_key: dict[str, set[QueryId]] = {}
        self._whole_always: set[QueryId] = set()
        self._refs: dict[QueryId, tuple[object, ...]] = {}

    def cost(self, key: str) -> float:
        """Estimated share of articles with ``key``; keys never seen in ``doc_freq`` count as rare."""
        if self._doc_freq is None:
            return heuristic_cost(key)
        freq = self._doc_freq.get(key)
        return freq if freq is not None else heuristic_cost(key) * 0.01

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
        if len(pos) == 1 and not neg:
            (lit,) = pos
            if lit.kind == "k":
                direct_key = sys.intern(lit.value)
                self._direct.setdefault(direct_key, set()).add(query_id)
                return direct_key
        group: _Group
        if not pos:
            group = self._always
        else:
            # Anchor: the rarest key a positive literal implies; second key: the next rarest.
            candidates = sorted({a for lit in pos for a in lit.anchors}, key=lambda k: (self.cost(k), k))
            anchor = sys.intern(candidates[0])
            second = sys.intern(candidates[1]) if len(candidates) > 1 else None
            groups = self._index.setdefault(anchor, {})
            found_group = groups.get(second)
            if found_group is None:
                found_group = groups[second] = _Group(anchor, second)
            group = found_group
        found = {group.anchor, group.second}
        if not neg and all(lit.kind == "k" and lit.value in found for lit in pos):
            group.sure.add(query_id)
            return group
        key: Key = (
            frozenset(sys.intern(lit.value) for lit in pos),
            frozenset(sys.intern(lit.value) for lit in neg),
        )
        entry = group.checked.get(key)
        if entry is None:
            entry = group.checked[key] = _Entry(key, group, {k for k in found if k})
        entry.qids.add(query_id)
        return entry

    def remove(self, query_id: QueryId) -> None:
        for ref in self._refs.pop(query_id, ()):
            if isinstance(ref, str):
                _discard(self._direct, ref, query_id)
                continue
            if ref is _WHOLE:
                _ast, _m, keys = self._whole.pop(query_id)
                self._whole_always.discard(query_id)
                for k in keys or ():
                    _discard(self._whole_by_key, k, query_id)
                continue
            if isinstance(ref, _Entry):
                ref.qids.discard(query_id)
                group = ref.group
                if not ref.qids:
                    del group.checked[ref.key]
            else:
                assert isinstance(ref, _Group)
                group = ref
                group.sure.discard(query_id)
            if group.anchor is not None and not group.sure and not group.checked:
                groups = self._index[group.anchor]
                del groups[group.second]
                if not groups:
                    del self._index[group.anchor]

    def match(self, doc: MatchDoc) -> set[QueryId]:
        """Ids of the stored queries that match ``doc``."""
        keys = doc.keys
        parts: list[set[QueryId]] = []  # matching id sets, merged once at the end
        direct, index = self._direct, self._index
        for k in keys:
            ids = direct.get(k)
            if ids:
                parts.append(ids)
            groups = index.get(k)
            if groups:
                if len(groups) > len(keys):
                    seconds: list[str | None] = [s for s in keys if s in groups]
                    if None in groups:
                        seconds.append(None)
                else:
                    seconds = [s for s in groups if s is None or s in keys]
                for s in seconds:
                    group = groups[s]
                    if group.sure:
                        parts.append(group.sure)
                    if group.checked:
                        for entry in group.checked.values():
                            if entry.check(doc, keys):
                                parts.append(entry.qids)
        for entry in self._always.checked.values():
            if entry.check(doc, keys):
                parts.append(entry.qids)
        out: set[QueryId] = set()
        if parts:
            parts.sort(key=len, reverse=True)
            out = set(parts[0])  # copying the largest set is much cheaper than adding its ids one by one
            out.update(*parts[1:])
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
            "groups": sum(len(gs) for gs in self._index.values()),
            "checked_entries": sum(len(g.checked) for gs in self._index.values() for g in gs.values()),
            "direct_keys": len(self._direct),
            "always": len(self._always.checked),
            "whole": len(self._whole),
        }


def _discard(table: dict[str, set[QueryId]], key: str, query_id: QueryId) -> None:
    ids = table.get(key)
    if ids is not None:
        ids.discard(query_id)
        if not ids:
            del table[key]

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

Each stored query gets a dense *slot* number. Every list of queries the index hands out at once
(a single-key conjunction's, a group's sure queries, an entry's) is kept as a Python set of slots
for cheap add/remove and, frozen on first use, as a sorted numpy array. A match collects those
arrays and merges them once, in numpy (a bitmap over the slots when the result is large): a
popular key such as ``company:tesla`` holds tens of thousands of queries, and merging Python int
objects into a set costs a cache miss per id (docs/decisions/0014-subscriber-targets.md).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterable, Mapping

import numpy as np
import numpy.typing as npt

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
Slots = npt.NDArray[np.int64]
_NO_SLOTS: Slots = np.zeros(0, dtype=np.int64)
_NO_SLOTS.flags.writeable = False
# Results up to this share of all slots are merged by sorting; larger ones through a bitmap.
_SORT_SHARE = 1 / 32

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


class _Ids:
    """Slots of queries handed out together: a set to edit, a read-only sorted array to merge."""

    __slots__ = ("slots", "_array")

    def __init__(self) -> None:
        self.slots: set[int] = set()
        self._array: Slots | None = None

    def add(self, slot: int) -> None:
        self.slots.add(slot)
        self._array = None

    def discard(self, slot: int) -> None:
        self.slots.discard(slot)
        self._array = None

    def __bool__(self) -> bool:
        return bool(self.slots)

    def __len__(self) -> int:
        return len(self.slots)

    def array(self) -> Slots:
        arr = self._array
        if arr is None:
            arr = np.fromiter(self.slots, dtype=np.int64, count=len(self.slots))
            arr.sort()
            arr.flags.writeable = False  # handed out as is when it is the whole result
            self._array = arr
        return arr


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
        self.qids = _Ids()

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

    __slots__ = ("anchor", "second", "sure", "checked", "if_has", "if_lacks", "other", "_lacks_all")

    def __init__(self, anchor: str | None, second: str | None) -> None:
        self.anchor = anchor  # None: the always-checked group
        self.second = second
        self.sure = _Ids()
        self.checked: dict[Key, _Entry] = {}  # every entry, also filed in one of the three below
        # The common shapes get a test cheaper than ``_Entry.check``: one more key the article
        # must hold (``w1 w2 w3``), or one key it must not (``company:x NOT recall``).
        self.if_has: dict[str, _Entry] = {}
        self.if_lacks: dict[str, _Entry] = {}
        self.other: list[_Entry] = []
        self._lacks_all: Slots | None = None  # slots of every if_lacks entry

    def file(self, entry: _Entry) -> None:
        self.checked[entry.key] = entry
        simple = not entry.pos_phrases and not entry.neg_phrases
        if simple and len(entry.pos_keys) == 1 and not entry.neg_keys:
            (key,) = entry.pos_keys
            if key not in self.if_has:
                self.if_has[key] = entry
                return
        if simple and not entry.pos_keys and len(entry.neg_keys) == 1:
            (key,) = entry.neg_keys
            if key not in self.if_lacks:
                self.if_lacks[key] = entry
                self._lacks_all = None
                return
        self.other.append(entry)

    def unfile(self, entry: _Entry) -> None:
        del self.checked[entry.key]
        for table in (self.if_has, self.if_lacks):
            for key in entry.pos_keys | entry.neg_keys:
                if table.get(key) is entry:
                    del table[key]
                    self._lacks_all = None
                    return
        self.other.remove(entry)

    def lacks_all(self) -> Slots:
        arr = self._lacks_all
        if arr is None:
            slots: set[int] = set()
            for entry in self.if_lacks.values():
                slots |= entry.qids.slots
            arr = np.fromiter(slots, dtype=np.int64, count=len(slots))
            arr.sort()
            arr.flags.writeable = False
            self._lacks_all = arr
        return arr

    def matching(self, doc: MatchDoc, keys: frozenset[str], parts: list[Slots]) -> None:
        """Append the slot arrays of the checked entries that match."""
        if_has = self.if_has
        if if_has:
            if len(if_has) <= len(keys):
                parts.extend([e.qids.array() for k, e in if_has.items() if k in keys])
            else:
                parts.extend([if_has[k].qids.array() for k in keys if k in if_has])
        if_lacks = self.if_lacks
        if if_lacks:
            if if_lacks.keys().isdisjoint(keys):
                parts.append(self.lacks_all())
            else:
                parts.extend([e.qids.array() for k, e in if_lacks.items() if k not in keys])
        for entry in self.other:
            if entry.check(doc, keys):
                parts.append(entry.qids.array())


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
        self._direct: dict[str, _Ids] = {}  # single-key conjunctions: no check needed
        # the keys of both tables again, as sets: set & set walks the smaller one in C
        self._direct_keys: set[str] = set()
        self._anchor_keys: set[str] = set()
        self._always = _Group(None, None)  # conjunctions with no positive term
        self._whole: dict[int, tuple[Node, bool, tuple[str, ...] | None]] = {}  # by slot; DNF too large
        self._whole_by_key: dict[str, set[int]] = {}
        self._whole_always: set[int] = set()
        self._refs: dict[QueryId, tuple[object, ...]] = {}
        self._slot: dict[QueryId, int] = {}
        self._qid_of: list[QueryId | None] = []  # slot -> query id; None: free
        self._free: list[int] = []
        self._int_ids: Slots | None = None  # slot -> int query id (-1 free), built on demand

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
        slot = self._free.pop() if self._free else len(self._qid_of)
        if slot == len(self._qid_of):
            self._qid_of.append(query_id)
        else:
            self._qid_of[slot] = query_id
        self._slot[query_id] = slot
        self._int_ids = None
        if conjs is None:
            keys = required_keys(ast, mentions, self.cost)
            self._whole[slot] = (ast, mentions, tuple(keys) if keys is not None else None)
            if keys is None:
                self._whole_always.add(slot)
            for k in keys or ():
                self._whole_by_key.setdefault(k, set()).add(slot)
            self._refs[query_id] = (_WHOLE,)
        else:
            self._refs[query_id] = tuple(self._add_conj(slot, conj) for conj in conjs)

    def _add_conj(self, slot: int, conj: Conj) -> object:
        pos, neg = conj
        if len(pos) == 1 and not neg:
            (lit,) = pos
            if lit.kind == "k":
                direct_key = sys.intern(lit.value)
                ids = self._direct.get(direct_key)
                if ids is None:
                    ids = self._direct[direct_key] = _Ids()
                    self._direct_keys.add(direct_key)
                ids.add(slot)
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
            self._anchor_keys.add(anchor)
            found_group = groups.get(second)
            if found_group is None:
                found_group = groups[second] = _Group(anchor, second)
            group = found_group
        found = {group.anchor, group.second}
        if not neg and all(lit.kind == "k" and lit.value in found for lit in pos):
            group.sure.add(slot)
            return group
        key: Key = (
            frozenset(sys.intern(lit.value) for lit in pos),
            frozenset(sys.intern(lit.value) for lit in neg),
        )
        entry = group.checked.get(key)
        if entry is None:
            entry = _Entry(key, group, {k for k in found if k})
            group.file(entry)
        entry.qids.add(slot)
        group._lacks_all = None
        return entry

    def remove(self, query_id: QueryId) -> None:
        slot = self._slot.pop(query_id, None)
        if slot is None:
            return
        self._qid_of[slot] = None
        self._free.append(slot)
        self._int_ids = None
        for ref in self._refs.pop(query_id, ()):
            if isinstance(ref, str):
                ids = self._direct[ref]
                ids.discard(slot)
                if not ids:
                    del self._direct[ref]
                    self._direct_keys.discard(ref)
                continue
            if ref is _WHOLE:
                _ast, _m, keys = self._whole.pop(slot)
                self._whole_always.discard(slot)
                for k in keys or ():
                    _discard(self._whole_by_key, k, slot)
                continue
            if isinstance(ref, _Entry):
                ref.qids.discard(slot)
                group = ref.group
                group._lacks_all = None
                if not ref.qids:
                    group.unfile(ref)
            else:
                assert isinstance(ref, _Group)
                group = ref
                group.sure.discard(slot)
            if group.anchor is not None and not group.sure and not group.checked:
                groups = self._index[group.anchor]
                del groups[group.second]
                if not groups:
                    del self._index[group.anchor]
                    self._anchor_keys.discard(group.anchor)

    def match(self, doc: MatchDoc) -> set[QueryId]:
        """Ids of the stored queries that match ``doc``."""
        qid_of = self._qid_of
        return {qid_of[s] for s in self.match_slots(doc).tolist()}

    def match_ids(self, doc: MatchDoc) -> npt.NDArray[np.int64]:
        """Ids of the matching queries as an array, without a Python object per id; ids must be ints."""
        return self._id_array()[self.match_slots(doc)]

    def _id_array(self) -> npt.NDArray[np.int64]:
        ids = self._int_ids
        if ids is None:
            ids = np.fromiter(
                (-1 if q is None else q for q in self._qid_of), dtype=np.int64, count=len(self._qid_of)
            )
            self._int_ids = ids
        return ids

    def prepare(self) -> None:
        """Freeze every id array now (after loading), so no match pays for it."""
        for ids in self._direct.values():
            ids.array()
        for groups in self._index.values():
            for group in groups.values():
                group.sure.array()
                for entry in group.checked.values():
                    entry.qids.array()
                group.lacks_all()
        for entry in self._always.checked.values():
            entry.qids.array()
        self._always.lacks_all()
        if all(isinstance(q, int) or q is None for q in self._qid_of):
            self._id_array()

    def match_slots(self, doc: MatchDoc) -> Slots:
        """Sorted slots of the matching queries."""
        keys = doc.keys
        parts: list[Slots] = []  # matching slot arrays, merged once at the end
        direct, index = self._direct, self._index
        # Set intersections run in C; most of an article's keys are in neither table.
        for k in keys & self._direct_keys:
            ids = direct[k]
            arr = ids._array
            parts.append(arr if arr is not None else ids.array())
        for k in keys & self._anchor_keys:
            groups = index[k]
            seconds: list[str | None] = list(keys.intersection(groups))  # walks the (small) dict
            if None in groups:
                seconds.append(None)
            for s in seconds:
                group = groups[s]
                sure = group.sure
                if sure.slots:
                    arr = sure._array
                    parts.append(arr if arr is not None else sure.array())
                if group.checked:
                    group.matching(doc, keys, parts)
        if self._always.checked:
            self._always.matching(doc, keys, parts)
        if self._whole:
            todo = set(self._whole_always)
            for k in keys:
                slots = self._whole_by_key.get(k)
                if slots:
                    todo |= slots
            hits = [slot for slot in todo if evaluate(self._whole[slot][0], doc, self._whole[slot][1])]
            if hits:
                parts.append(np.array(sorted(hits), dtype=np.int64))
        if not parts:
            return _NO_SLOTS
        if len(parts) == 1:
            return parts[0]
        merged = np.concatenate(parts)
        if len(merged) <= len(self._qid_of) * _SORT_SHARE:
            # sort and drop repeats (np.unique is far slower on these sizes)
            merged.sort()
            keep = np.empty(len(merged), dtype=np.bool_)
            keep[0] = True
            np.not_equal(merged[1:], merged[:-1], out=keep[1:])
            return merged[keep]
        seen = np.zeros(len(self._qid_of), dtype=np.bool_)
        seen[merged] = True
        return np.flatnonzero(seen)

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


def _discard(table: dict[str, set[int]], key: str, slot: int) -> None:
    ids = table.get(key)
    if ids is not None:
        ids.discard(slot)
        if not ids:
            del table[key]

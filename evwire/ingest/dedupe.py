"""One story, many sources: near-duplicate grouping with MinHash over word shingles and LSH banding.

    index = StoryIndex()
    group = index.add("feedA:123", title + "\\n\\n" + text)   # -> the story's group id
    index.add("feedB:9", other_text)  # the same id when it is the same story

A document joins the group of its most similar earlier document when the estimated Jaccard
similarity of their 3-word shingle sets, or the containment of the shorter in the longer (a short
summary inside a full article, an article with added paragraphs), reaches the thresholds;
otherwise it starts a group whose id is its own doc id. Signatures are deterministic across
processes and versions (seeded from BLAKE2b, hashed with CRC32), so the store can keep them
(``signature_bytes``) and rebuild the index at start-up with ``add_signature``.

bench/dedupe.py measures precision and recall on pairs built from the labelled corpus.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

NUM_PERM = 128
BANDS = 64  # 64 bands × 2 rows: pairs above ~0.15 Jaccard become candidates (containment needs it)
ROWS = 2
SHINGLE = 3
_SHIFT = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"\w+", re.UNICODE)
_NUM_SEP = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")


def _params() -> tuple[np.ndarray, np.ndarray]:
    a, b = [], []
    for i in range(NUM_PERM):
        digest = hashlib.blake2b(f"evwire-minhash-{i}".encode(), digest_size=16).digest()
        a.append(int.from_bytes(digest[:8], "little") | 1)
        b.append(int.from_bytes(digest[8:], "little"))
    return np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


_A, _B = _params()


def tokens(text: str) -> list[str]:
    """Lower-case words; thousands separators dropped so 411,837 and 411.837 are one token."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _WORD.findall(_NUM_SEP.sub("", text))


def shingle_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """Distinct 32-bit hashes of the k-word shingles (word CRC32s combined), as uint64."""
    words = tokens(text)
    if not words:
        return np.empty(0, dtype=np.uint64)
    wh = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words))
    if len(words) < k:
        return np.unique(wh[:1])
    n = len(words) - k + 1
    with np.errstate(over="ignore"):
        acc = np.zeros(n, dtype=np.uint64)
        for j in range(k):
            acc = acc * _MIX + wh[j : j + n]
        acc ^= acc >> _SHIFT
    return np.unique(acc & _LOW32)


@dataclass(frozen=True)
class Signature:
    values: np.ndarray  # NUM_PERM uint32 minima
    size: int  # number of shingles

    def jaccard(self, other: Signature) -> float:
        return float(np.count_nonzero(self.values == other.values)) / NUM_PERM

    def containment(self, other: Signature, jaccard: float | None = None) -> float:
        """Estimated |A ∩ B| / min(|A|, |B|): high when the shorter text is inside the longer one."""
        j = self.jaccard(other) if jaccard is None else jaccard
        if not self.size or not other.size:
            return 0.0
        inter = j / (1.0 + j) * (self.size + other.size)
        return min(1.0, inter / min(self.size, other.size))

    def to_bytes(self) -> bytes:
        return self.size.to_bytes(4, "little") + self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        return cls(np.frombuffer(data[4:], dtype="<u4").astype(np.uint32), int.from_bytes(data[:4], "little"))


def signature(text: str) -> Signature:
    x = shingle_hashes(text)
    if not len(x):
        return Signature(np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32), 0)
    with np.errstate(over="ignore"):  # multiply-shift hashing: arithmetic modulo 2^64 on purpose
        hashed = (x[:, None] * _A[None, :] + _B[None, :]) >> _SHIFT
    return Signature(hashed.min(axis=0).astype(np.uint32), len(x))


def signature_bytes(text: str) -> bytes:
    return signature(text).to_bytes()


@dataclass(frozen=True)
class Match:
    doc_id: Hashable
    group_id: Hashable
    jaccard: float
    containment: float


class StoryIndex:
    """In-memory LSH index of recent documents and the story group of each."""

    def __init__(self, *, jaccard: float = 0.5, containment: float = 0.7, min_shingles: int = 12) -> None:
        self.jaccard_threshold = jaccard
        self.containment_threshold = containment
        self.min_shingles = min_shingles  # shorter texts only group on Jaccard, never on containment
        self._buckets: list[defaultdict[bytes, list[Hashable]]] = [defaultdict(list) for _ in range(BANDS)]
        self._sigs: dict[Hashable, Signature] = {}
        self._groups: dict[Hashable, Hashable] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def group_of(self, doc_id: Hashable) -> Hashable | None:
        return self._groups.get(doc_id)

    def best_match(self, sig: Signature) -> Match | None:
        """The most similar indexed document that counts as the same story, if any."""
        seen: set[Hashable] = set()
        best: Match | None = None
        for band, key in enumerate(_band_keys(sig)):
            for doc in self._buckets[band].get(key, ()):
                if doc in seen:
                    continue
                seen.add(doc)
                other = self._sigs[doc]
                j = sig.jaccard(other)
                c = sig.containment(other, j)
                same = j >= self.jaccard_threshold or (
                    c >= self.containment_threshold and min(sig.size, other.size) >= self.min_shingles
                )
                if same and (best is None or max(j, c) > max(best.jaccard, best.containment)):
                    best = Match(doc, self._groups[doc], j, c)
        return best

    def add(self, doc_id: Hashable, text: str) -> Hashable:
        """Index a document and return its story group id (its own id when the story is new)."""
        return self.add_signature(doc_id, signature(text))

    def add_signature(self, doc_id: Hashable, sig: Signature, group_id: Hashable | None = None) -> Hashable:
        if doc_id in self._groups:
            return self._groups[doc_id]
        if group_id is None:
            match = self.best_match(sig) if sig.size else None
            group_id = match.group_id if match else doc_id
        self._sigs[doc_id] = sig
        self._groups[doc_id] = group_id
        if sig.size:
            for band, key in enumerate(_band_keys(sig)):
                self._buckets[band][key].append(doc_id)
        return group_id

    def remove(self, doc_id: Hashable) -> None:
        """Forget a document (e.g. older than the grouping window); its group keeps its other members."""
        sig = self._sigs.pop(doc_id, None)
        self._groups.pop(doc_id, None)
        if sig is None or not sig.size:
            return
        for band, key in enumerate(_band_keys(sig)):
            bucket = self._buckets[band].get(key)
            at = _last_index(bucket, doc_id) if bucket else None
            if bucket is not None and at is not None:
                del bucket[at]
                if not bucket:
                    del self._buckets[band][key]

    def rename(self, doc_id: Hashable, new_id: Hashable, group_id: Hashable) -> None:
        """Give an indexed document another id and group, keeping its place in every bucket (a
        stand-in id swapped for the stored one: the index ends as if it had been added so)."""
        sig = self._sigs.pop(doc_id)
        del self._groups[doc_id]
        self._sigs[new_id] = sig
        self._groups[new_id] = group_id
        if sig.size:
            for band, key in enumerate(_band_keys(sig)):
                bucket = self._buckets[band][key]
                at = _last_index(bucket, doc_id)
                assert at is not None
                bucket[at] = new_id


def _last_index(bucket: list[Hashable], doc_id: Hashable) -> int | None:
    """Where ``doc_id`` is in a bucket, searched from the end: the documents removed or renamed are
    mostly the newest (a rolled-back poll, a run's stand-ins)."""
    for i in range(len(bucket) - 1, -1, -1):
        if bucket[i] == doc_id:
            return i
    return None


def _band_keys(sig: Signature) -> list[bytes]:
    raw = sig.values.tobytes()
    step = ROWS * 4
    return [raw[i * step : (i + 1) * step] for i in range(BANDS)]

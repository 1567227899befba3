"""One multi-pattern pass over the text for every catalog name, alias, person, product and surname.

How (measured in docs/decisions/0002-matcher.md): the text is lower-cased and every character that is not
a letter or digit is blanked to a space, byte for byte (one ``bytes.translate`` for ASCII text); every
pattern starts with a space. So the automaton (ahocorasick_rs, leftmost-longest) only reports hits
that start at a word boundary: "han" in "change" never reaches Python, and the trailing boundary is one
byte comparison per hit. Names containing CJK characters carry no space (Chinese has no spaces). The
hyperscan backend scans the same bytes and stays selectable (``backend="hyperscan"``) for the benchmark.

The automaton only proposes caseless candidates. The rules below decide which count:

* word boundaries: the characters around a hit must not be letters/digits ("Ford" not in "Fordham");
  an ASCII separator inside a form matches any other ("Mercedes-Benz" = "Mercedes Benz"); names
  containing CJK characters need no boundary.
* case: a catalog form written with a capital initial must appear with a capital initial ("nio" in running
  lower-case text, "42 tesla", "a lucid dream" do not count).
* longest match wins on overlaps ("Xiaomi SU7 Ultra" is Xiaomi + SU7 Ultra, "Li Auto" beats "Li").
* a brand that is also a surname, right after a capitalised given name or title ("Harrison Ford",
  "Premier Doug Ford"), is a person: that hit and the article's other bare uses of the word are dropped,
  unless the company has stronger evidence (a longer alias, person, product or ticker).
* weak forms need support: names in a company's ``ambiguous`` list count only in a car context (an EV word
  nearby; at a sentence start, in the same sentence) or when the company is otherwise named; one-word
  dictionary-like products ("Seal", "Leaf") only when their company is otherwise named; a person's bare
  surname ("Farley said") only after the full name appeared; a bare model code ("G7", "R2") likewise only
  when its company is otherwise named ("the G7 summit" is not Xpeng).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from operator import itemgetter

import ahocorasick_rs

from evwire.tag.catalog import Catalog
from evwire.tag.names import CHINESE_SURNAMES, EV_CONTEXT_WORDS, GIVEN_NAMES
from evwire.tag.types import Match

CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
CONTEXT_WINDOW = 150  # characters either side of an ambiguous name searched for an EV context word
WORD_RE = re.compile(r"[a-z][a-z-]*")
KIND_RANK = {"name": 0, "alias": 1, "person": 2, "product": 3, "surname": 4}


@dataclass(frozen=True)
class Entry:
    """One pattern: a catalog form and what a hit on it means."""

    text: str
    slug: str
    kind: str  # name | alias | person | product | surname
    cap_initial: bool  # catalog form starts with a capital: the hit must too
    weak: str | None  # None | "ambiguous" | "wordlike" | "surname"
    cjk: bool
    bare: bool  # one capitalised word: can be a person's surname ("Ford")
    person: str | None = None  # for surnames: the full name that must come first


def _is_wordlike(product: str) -> bool:
    """One alphabetic word ("Seal", "Leaf", "Cybertruck"): could be an ordinary word. Or a bare code of a
    letter and a digit or two ("G7", "R2", "L9"): those name summits, quarters, roads and chips as often
    as cars, so they count only where their company is named too."""
    if len(product) <= 3 and product[:1].isalpha() and product[1:].isdigit():
        return True
    return product.isalpha() and not CJK_RE.search(product)


def _surname(full: str) -> str | None:
    parts = full.split()
    if len(parts) < 2:
        return None
    name = parts[0] if parts[0] in CHINESE_SURNAMES and len(parts) == 2 else parts[-1]
    # Two-letter surnames (He, Li, Ma, Yu) are too often ordinary words or other names.
    return name if len(name) > 2 and name[0].isupper() else None


def build_entries(catalog: Catalog) -> list[Entry]:
    entries: list[Entry] = []
    taken: set[str] = set()
    for c in catalog:
        ambiguous = set(c.ambiguous)
        for i, form in enumerate(c.all_names()):
            entries.append(
                _entry(
                    form, c.slug, "name" if i == 0 else "alias", "ambiguous" if form in ambiguous else None
                )
            )
            taken.add(form.lower())
        for p in c.people:
            entries.append(_entry(p.name, c.slug, "person", None))
            taken.add(p.name.lower())
        for prod in c.products:
            entries.append(_entry(prod, c.slug, "product", "wordlike" if _is_wordlike(prod) else None))
            taken.add(prod.lower())
    for c in catalog:
        for p in c.people:
            sur = _surname(p.name)
            if sur and sur.lower() not in taken:  # a surname that is also a brand stays the brand
                entries.append(_entry(sur, c.slug, "surname", "surname", person=p.name))
    return entries


def _entry(form: str, slug: str, kind: str, weak: str | None, person: str | None = None) -> Entry:
    cjk = bool(CJK_RE.search(form))
    return Entry(
        text=form,
        slug=slug,
        kind=kind,
        cap_initial=form[:1].isupper(),
        weak=weak,
        cjk=cjk,
        bare=(" " not in form and form[:1].isupper() and not cjk),
        person=person,
    )


# ASCII upper case -> lower case, every other ASCII byte that is not a letter or digit -> space; bytes
# >= 0x80 (pieces of non-ASCII characters) are left for prepare() to handle per character.
_LOWER_SEP = bytes(
    b if b >= 0x80 else (ord(chr(b).lower()) if chr(b).isalnum() else 0x20) for b in range(256)
)
_ASCII = bytes(range(128))
_SPACE = 0x20
_start = itemgetter(1)
# A token right before a bare brand that makes it a surname: a given name or title, with or without a dot.
_GIVEN_TOKENS = GIVEN_NAMES | {g + "." for g in GIVEN_NAMES} | {g + ".." for g in GIVEN_NAMES}


def lower_aligned(text: str) -> str:
    """``text.lower()`` with the same length, so offsets in one are offsets in the other."""
    low = text.lower()
    if len(low) != len(text):  # rare: 'İ'.lower() is two characters; keep those as they are
        low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return low


def prepare(text: str) -> tuple[bytes, bytes | None, str]:
    """(data, raw, others): what the automaton scans.

    ``data`` is the lower-cased UTF-8 text with every character that is not a letter or digit blanked to
    spaces, byte for byte, plus one space each side. A word boundary is then simply a space byte;
    patterns start with one, so a name never matches inside a word ("han" in "change") and such hits
    never leave the automaton. ``raw`` (None for ASCII text, where byte offsets are character offsets)
    is the lower-cased UTF-8 that byte offsets of ``data`` (minus the pad) point into; ``others`` the
    text's distinct non-ASCII characters."""
    if text.isascii():
        return b" " + text.encode().translate(_LOWER_SEP) + b" ", None, ""
    raw = text.encode()
    others = "".join(set(raw.translate(None, _ASCII).decode()))
    if others != others.lower():  # non-ASCII capitals: full Unicode lower case (rare, slower)
        raw = lower_aligned(text).encode()
        others = "".join(set(raw.translate(None, _ASCII).decode()))
    data = raw.translate(_LOWER_SEP)
    for ch in others:
        if not ch.isalnum():  # curly quotes, dashes, CJK punctuation, no-break spaces ...
            b = ch.encode()
            data = data.replace(b, b" " * len(b))
    return b" " + data + b" ", raw, others


def form_pattern(form: str) -> tuple[bytes, bool]:
    """(pattern, spaced) for a catalog form: its normalised bytes without punctuation at either end,
    with a leading space unless it contains CJK characters (those need no word boundary)."""
    core = prepare(form)[0].strip(b" ")
    if CJK_RE.search(form) or not core:
        return core, False
    return b" " + core, True


def _hs_escape(pattern: bytes) -> bytes:
    return b"".join(bytes([b]) if chr(b).isalnum() and b < 128 else b"\\x%02x" % b for b in pattern)


class _AhoCorasickBackend:
    """ahocorasick_rs over the normalised bytes, leftmost-longest: one call into Rust returns the
    non-overlapping longest hits, so there is no per-hit Python callback and no nested sub-hits."""

    name = "ahocorasick_rs"
    overlapping = False

    def __init__(self, spaced: list[bytes], cjk: list[bytes], mixed: list[bytes]) -> None:
        # The DFA runs fewer instructions but no faster in CPU time (cache misses) at about twice the
        # memory, so contiguous NFAs (measured, docs/decisions/0002-matcher.md).
        nfa = ahocorasick_rs.Implementation.ContiguousNFA
        ll = ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
        # Forms that start with a CJK character cannot overlap a spaced form, so they share its scan;
        # mixed ones ("smart精灵") would lose to the spaced " smart" that starts one byte earlier.
        self.ac = ahocorasick_rs.BytesAhoCorasick(spaced + cjk, matchkind=ll, implementation=nfa)
        self.ac_all = ahocorasick_rs.BytesAhoCorasick(spaced, implementation=nfa)
        self.ac_mixed = ahocorasick_rs.BytesAhoCorasick(mixed, matchkind=ll) if mixed else None
        self.n_before_mixed = len(spaced) + len(cjk)
        # Forms with a shorter form inside that ends at a word boundary ("ford motor" > "ford"): only
        # these need a second look when they fail their trailing boundary ("Ford Motorsport").
        self.has_inner = [
            any(e < len(p) and p[e] == _SPACE for _f, _s, e in self.ac_all.find_matches_as_indexes(p, True))
            for p in spaced
        ] + [False] * len(cjk)

    def scan(self, text: str) -> list[tuple[int, int, int]]:
        """Raw hits, before any rule (for the benchmark)."""
        return self.ac.find_matches_as_indexes(prepare(text)[0])

    def find(self, data: bytes) -> list[tuple[int, int, int]]:
        return self.ac.find_matches_as_indexes(data)

    def find_mixed(self, data: bytes) -> list[tuple[int, int, int]]:
        if self.ac_mixed is None:
            return []
        n = self.n_before_mixed
        return [(n + f, s, e) for f, s, e in self.ac_mixed.find_matches_as_indexes(data)]

    def inside(self, data: bytes, s: int, e: int) -> list[tuple[int, int, int]]:
        """Shorter spaced hits inside a longest hit that failed its trailing boundary, that end at a
        boundary within it ("ford" in "ford motorsport")."""
        return [
            (f, s + s2, s + e2)
            for f, s2, e2 in self.ac_all.find_matches_as_indexes(data[s:e], True)
            if e2 < e - s and data[s + e2] == _SPACE
        ]


class _HyperscanBackend:
    """Hyperscan over the same normalised bytes: every overlapping hit through a Python callback."""

    name = "hyperscan"
    overlapping = True

    def __init__(self, spaced: list[bytes], cjk: list[bytes], mixed: list[bytes]) -> None:
        import hyperscan  # optional: only the benchmark uses this backend

        patterns = spaced + cjk + mixed
        self.hs = hyperscan
        self.lengths = [len(p) for p in patterns]
        self.has_inner = [False] * len(patterns)
        self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.db.compile(
            expressions=[_hs_escape(p) for p in patterns],
            ids=list(range(len(patterns))),
            elements=len(patterns),
        )
        self._local = threading.local()  # hyperscan scratch space is per thread

    def scan(self, text: str) -> list[tuple[int, int, int]]:
        return self.find(prepare(text)[0])

    def find(self, data: bytes) -> list[tuple[int, int, int]]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self.hs.Scratch(self.db)
        hits: list[tuple[int, int]] = []
        add = hits.append
        self.db.scan(data, match_event_handler=lambda i, _s, e, _f, _c: add((i, e)), scratch=scratch)
        lengths = self.lengths
        return [(i, e - lengths[i], e) for i, e in hits]

    def find_mixed(self, data: bytes) -> list[tuple[int, int, int]]:
        return []  # find() already reported them

    def inside(self, data: bytes, s: int, e: int) -> list[tuple[int, int, int]]:
        return []  # find() already reported every overlapping hit


class Matcher:
    """Compiled once per catalog; immutable; ``find`` is a pure function of the text."""

    def __init__(self, catalog: Catalog, backend: str = "auto") -> None:
        self.entries = build_entries(catalog)
        by_pattern: dict[tuple[bool, bytes], list[int]] = {}
        for idx, e in enumerate(self.entries):
            pattern, spaced = form_pattern(e.text)
            if pattern:
                by_pattern.setdefault((spaced, pattern), []).append(idx)
        # Spaced forms first, then those starting with a CJK character, then mixed ones ("smart精灵").
        keys = sorted(by_pattern, key=lambda k: 0 if k[0] else 1 if CJK_RE.match(k[1].decode()) else 2)
        self.patterns = [p for _sp, p in keys]
        n_spaced = sum(1 for sp, _p in keys if sp)
        n_cjk = n_spaced + sum(1 for sp, p in keys if not sp and CJK_RE.match(p.decode()))
        # Strongest meaning first when two companies share a form.
        self.form_entries = [
            tuple(sorted(by_pattern[k], key=lambda i: KIND_RANK[self.entries[i].kind])) for k in keys
        ]
        # Flat per-form / per-entry tables: the hot loops below read these instead of attributes.
        self._form_cap = [ids[0] for ids in self.form_entries]  # hit written with a capital
        self._form_nocap = [  # hit in lower case: only entries whose catalog form is not capitalised
            next((i for i in ids if not self.entries[i].cap_initial), -1) for ids in self.form_entries
        ]
        self._slug = [e.slug for e in self.entries]
        self._weak = [e.weak for e in self.entries]
        self._bare_name = [e.bare and e.kind in ("name", "alias") for e in self.entries]
        self._kind = ["person" if e.kind == "surname" else e.kind for e in self.entries]
        self._fkey = [hash(e.text.lower()) for e in self.entries]  # same form, same key (hot loop below)
        if backend == "auto":
            backend = "ahocorasick_rs"
        cls = _HyperscanBackend if backend == "hyperscan" else _AhoCorasickBackend
        self.backend: _AhoCorasickBackend | _HyperscanBackend = cls(
            self.patterns[:n_spaced], self.patterns[n_spaced:n_cjk], self.patterns[n_cjk:]
        )
        self._inner = self.backend.has_inner
        self._n_spaced = n_spaced

    def find(self, text: str, support: frozenset[str] = frozenset()) -> list[Match]:
        """Every counted catalog hit in ``text``, by position. ``support``: slugs known from elsewhere
        (e.g. a printed ticker) that let a weak form of that company count."""
        slug, kind = self._slug, self._kind
        return [Match(s, e, slug[i], kind[i], text[s:e]) for i, s, e in self.hits(text, support)]  # type: ignore[arg-type]

    def hits(self, text: str, support: frozenset[str] = frozenset()) -> list[tuple[int, int, int]]:
        """Like find, as (entry index, start, end) tuples: the tagger's fast path."""
        kept = self.candidates(text)
        return self._apply_rules(text, kept, support) if kept else kept

    def candidates(self, text: str) -> list[tuple[int, int, int]]:
        """The matching step: hits that pass their word boundaries and case rule, the longest on
        overlaps, as (entry index, start, end); before the context rules of ``hits``."""
        data, raw, others = prepare(text)
        backend = self.backend
        cap, nocap, inner = self._form_cap, self._form_nocap, self._inner
        out: list[tuple[int, int, int]] = []
        resort = backend.overlapping
        if raw is None and not resort:
            # The common case, kept tight: byte offsets are character offsets; a spaced hit at (s, e)
            # in the padded data is the name at text[s : e - 1], followed by a boundary if data[e] is one.
            for f, s, e in backend.find(data):
                if data[e] == _SPACE:
                    idx = cap[f] if text[s].isupper() else nocap[f]
                    if idx >= 0:
                        out.append((idx, s, e - 1))
                elif inner[f]:
                    for f2, s2, e2 in backend.inside(data, s, e):
                        idx = cap[f2] if text[s2].isupper() else nocap[f2]
                        if idx >= 0:
                            out.append((idx, s2, e2 - 1))
                            resort = True
            return _longest(out, self.entries) if resort else out
        # Byte offsets into raw: a spaced hit (s, e) is bytes [s, e - 1), a CJK one [s - 1, e - 1).
        spans: list[tuple[int, int, int]] = []
        n_spaced = self._n_spaced
        for f, s, e in backend.find(data):
            if f >= n_spaced:  # a CJK form (hyperscan reports those here too)
                spans.append((f, s - 1, e - 1))
            elif data[e] == _SPACE:
                spans.append((f, s, e - 1))
            elif inner[f]:
                spans.extend((f2, s2, e2 - 1) for f2, s2, e2 in backend.inside(data, s, e))
                resort = True
        if CJK_RE.search(others):
            mixed = backend.find_mixed(data)
            if mixed:
                spans.extend((f, s - 1, e - 1) for f, s, e in mixed)
                resort = True
        if resort:
            spans.sort(key=_start)
        if raw is None:
            out = [
                (idx, s, e) for f, s, e in spans if (idx := cap[f] if text[s].isupper() else nocap[f]) >= 0
            ]
        else:
            pos_b = pos_c = 0
            for f, bs, be in spans:
                pos_c += len(raw[pos_b:bs].decode())
                pos_b = bs
                idx = cap[f] if text[pos_c].isupper() else nocap[f]
                if idx >= 0:
                    out.append((idx, pos_c, pos_c + len(raw[bs:be].decode())))
        return _longest(out, self.entries) if resort else out

    def _apply_rules(
        self, text: str, kept: list[tuple[int, int, int]], support: frozenset[str]
    ) -> list[tuple[int, int, int]]:
        weak, bare_name, slug, fkey = self._weak, self._bare_name, self._slug, self._fkey
        # "Harrison Ford": a given name or title right before a brand that is also a surname.
        person_words: set[int] = set()
        any_weak = False
        for idx, s, _e in kept:
            if weak[idx]:
                any_weak = True
            elif bare_name[idx] and text[s - 1] == " " and s > 1:
                j = text.rfind(" ", s - 20 if s > 20 else 0, s - 1)
                if text[j + 1 : s - 1] in _GIVEN_TOKENS:
                    person_words.add(fkey[idx])
        if not any_weak and not person_words:
            return kept
        strong: set[str] = set(support)
        for idx, _s, _e in kept:
            if weak[idx] is None and not (bare_name[idx] and fkey[idx] in person_words):
                strong.add(slug[idx])
        out = []
        seen_people: set[str] = set()
        entries = self.entries
        for hit in kept:
            idx, s, e = hit
            w = weak[idx]
            if bare_name[idx] and fkey[idx] in person_words:
                # Keep only when the company is evidenced by something other than its bare name.
                if slug[idx] not in strong:
                    continue
            elif w == "surname":
                if entries[idx].person not in seen_people:
                    continue
            elif w == "wordlike":
                if slug[idx] not in strong:
                    continue
            elif w == "ambiguous":
                if slug[idx] not in strong and not _ev_context(text, s, e, _sentence_initial(text, s)):
                    continue
            if entries[idx].kind == "person":
                seen_people.add(entries[idx].text)
            out.append(hit)
        return out


def _longest(cands: list[tuple[int, int, int]], entries: list[Entry]) -> list[tuple[int, int, int]]:
    """Leftmost, then longest, then strongest kind; drop anything overlapping a kept hit."""
    cands.sort(key=lambda c: (c[1], c[1] - c[2], KIND_RANK[entries[c[0]].kind]))
    kept = []
    last_end = -1
    for c in cands:
        if c[1] >= last_end:
            kept.append(c)
            last_end = c[2]
    return kept


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 4) : start].rstrip(" \"'“‘(•-*–")
    return not before or before[-1] in ".!?:\n"


def _ev_context(text: str, start: int, end: int, sentence_only: bool) -> bool:
    """An EV word near the hit. At a sentence start ("Lucid dreams ...", "Smart charging ...") only the
    rest of that sentence counts, so a car word in the next sentence cannot rescue a common word."""
    if sentence_only:
        stop = min((i for i in (text.find(c, end) for c in ".!?\n") if i >= 0), default=len(text))
        window = text[end:stop].lower()
    else:
        window = text[max(0, start - CONTEXT_WINDOW) : end + CONTEXT_WINDOW].lower()
    if not window.isascii():
        return any(w in EV_CONTEXT_WORDS for w in WORD_RE.findall(window))
    # The words WORD_RE would find, by blanking everything but letters and hyphens (a few times faster).
    words = window.translate(_WORD_CHARS).split()
    if not EV_CONTEXT_WORDS.isdisjoint(words):
        return True
    # WORD_RE starts a word at a letter: "-car" is "car"
    return "-" in window and any(w.lstrip("-") in EV_CONTEXT_WORDS for w in words)


_WORD_CHARS = {i: " " for i in range(128) if not ("a" <= chr(i) <= "z" or chr(i) == "-")}

"""MatchDoc: what keyword queries are matched against, built once per article.

Text is folded (NFKD, accents dropped, casefolded) and cut into tokens of letters and digits;
Chinese, Japanese and Korean characters are one token each, so ``小米`` is the phrase 小 米 and
is found inside ``小米汽车``. Phrases are found in ``text``, where every part (title, each bullet,
body) is kept apart so a phrase never runs from one part into the next.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from evwire.tag.types import Tagging

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")

# Percolator key prefixes: a document has a key per token, pair of adjacent tokens (bigram), title
# token and bigram, company and ticker. A two-word phrase is then a plain key; a longer one needs
# all its bigrams and is checked in the text.
WORD, BIGRAM, TITLE, TITLE_BIGRAM = "w:", "b:", "t:", "u:"
ABOUT, ANY_MENTION, LISTING, SYMBOL = "c:", "m:", "x:", "s:"


def fold(text: str) -> str:
    """Casefold and drop accents: ``Škoda`` -> ``skoda``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(fold(text))


def phrase_text(tokens: Iterable[str]) -> str:
    """The padded form searched for in ``MatchDoc.text``: `` a b ``."""
    return " " + " ".join(tokens) + " "


def _joined(parts: Iterable[list[str]]) -> str:
    return " " + " \n ".join(" ".join(p) for p in parts) + " "


def bigram(first: str, second: str) -> str:
    return f"{first} {second}"


def _bigrams(parts: Iterable[list[str]]) -> frozenset[str]:
    return frozenset(bigram(a, b) for p in parts for a, b in zip(p, p[1:], strict=False))


@dataclass(frozen=True, eq=False)
class MatchDoc:
    tokens: frozenset[str]
    text: str  # padded token text, parts separated by newlines
    title_tokens: frozenset[str]
    title_text: str
    bigrams: frozenset[str]  # "a b" for adjacent tokens within one part
    title_bigrams: frozenset[str]
    about: frozenset[str] = frozenset()  # company slugs the article is about
    mentioned: frozenset[str] = frozenset()  # slugs only mentioned
    listings: frozenset[str] = frozenset()  # "HKG:1810", upper case
    symbols: frozenset[str] = field(default=frozenset())  # "1810", "TSLA"

    def has_phrase(self, padded: str) -> bool:
        return padded in self.text

    def has_title_phrase(self, padded: str) -> bool:
        return padded in self.title_text

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every exact key of this document, for the percolator's index and checks."""
        out = {WORD + t for t in self.tokens}
        out.update(BIGRAM + b for b in self.bigrams)
        out.update(TITLE + t for t in self.title_tokens)
        out.update(TITLE_BIGRAM + b for b in self.title_bigrams)
        out.update(ABOUT + s for s in self.about)
        out.update(ANY_MENTION + s for s in self.about | self.mentioned)
        out.update(LISTING + x for x in self.listings)
        out.update(SYMBOL + s for s in self.symbols)
        return frozenset(out)


def make_doc(
    title: str,
    bullets: Iterable[str] = (),
    body: str = "",
    *,
    about: Iterable[str] = (),
    mentioned: Iterable[str] = (),
    tickers: Iterable[tuple[str, str]] = (),
) -> MatchDoc:
    """Build a MatchDoc from plain article parts, company slugs and (exchange, symbol) pairs."""
    title_toks = tokenize(title)
    parts = [title_toks, *(tokenize(b) for b in bullets), tokenize(body)]
    all_tokens: set[str] = set()
    for p in parts:
        all_tokens.update(p)
    pairs = [(ex.strip().upper(), sym.strip().upper()) for ex, sym in tickers]
    about_set = frozenset(s.lower() for s in about)
    return MatchDoc(
        tokens=frozenset(all_tokens),
        text=_joined(parts),
        title_tokens=frozenset(title_toks),
        title_text=_joined([title_toks]),
        bigrams=_bigrams(parts),
        title_bigrams=_bigrams([title_toks]),
        about=about_set,
        mentioned=frozenset(s.lower() for s in mentioned) - about_set,
        listings=frozenset(f"{ex}:{sym}" for ex, sym in pairs),
        symbols=frozenset(sym for _, sym in pairs),
    )


def doc_from_tagging(title: str, bullets: Iterable[str], body: str, tagging: Tagging) -> MatchDoc:
    """The MatchDoc of a tagged article: about/mentioned companies and tickers from the tagging."""
    return make_doc(
        title,
        bullets,
        body,
        about=[c.slug for c in tagging.about],
        mentioned=[c.slug for c in tagging.mentioned],
        tickers=[(t.exchange, t.symbol) for t in tagging.tickers],
    )

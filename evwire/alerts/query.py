"""The keyword-alert query language: parse to an AST, print back, evaluate against a MatchDoc.

    Xiaomi AND (Ford OR "joint venture") NOT title:recall
    company:xiaomi ticker:TSLA ticker:HKG:1810 title:"price cut"

* ``AND``, ``OR``, ``NOT`` (upper case; lower-case ``and``/``or``/``not`` are ordinary words),
  parentheses, and terms side by side mean AND. Precedence: NOT, then AND, then OR.
* A word matches a token of the title, bullets or body, case- and accent-insensitively; a word
  that folds into several tokens (``Mach-E``) is a phrase. ``"quoted words"`` match in order.
* ``company:SLUG`` matches an article *about* the company (or, for a subscriber who asked,
  one that only mentions it); ``ticker:SYM`` any listing with that symbol, ``ticker:EX:SYM``
  that listing; ``title:word`` / ``title:"phrase"`` only the title.

Bad queries raise ``QueryError`` with a position (0-based character offset) and a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from evwire.alerts.document import MatchDoc, phrase_text, tokenize
from evwire.errors import EvwireError

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MAX_DEPTH = 16
FIELDS = ("company", "ticker", "title")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TICKER_RE = re.compile(r"^(?:([A-Z]{1,10}):)?([A-Z0-9][A-Z0-9.&\-]{0,19})$")  # NSE:M&M, NSE:BAJAJ-AUTO
_FIELD_RE = re.compile(r"^([A-Za-z_]+):")


class QueryError(EvwireError):
    """A query that cannot be parsed; ``position`` is the character offset it refers to."""

    def __init__(self, reason: str, position: int | None = None, hint: str = "") -> None:
        self.reason = reason
        self.position = position
        message = reason if position is None else f"{reason} at {position}"
        super().__init__(f"{message} ({hint})" if hint else message)


# --- AST ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    token: str


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class TitleWord:
    token: str


@dataclass(frozen=True)
class TitlePhrase:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Company:
    slug: str


@dataclass(frozen=True)
class Ticker:
    symbol: str
    exchange: str | None = None


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Term = Word | Phrase | TitleWord | TitlePhrase | Company | Ticker
Node = Term | Not | And | Or
TERM_TYPES = (Word, Phrase, TitleWord, TitlePhrase, Company, Ticker)


def text_term(tokens: list[str], title: bool = False) -> Term:
    if len(tokens) == 1:
        return TitleWord(tokens[0]) if title else Word(tokens[0])
    return TitlePhrase(tuple(tokens)) if title else Phrase(tuple(tokens))


def make_and(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, And) else (c,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, Or) else (c,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


# --- lexer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # ( ) AND OR NOT TERM
    pos: int
    term: Term | None = None


_STOP = set(' \t\r\n()"')


def _read_phrase(text: str, start: int) -> tuple[str, int]:
    end = text.find('"', start + 1)
    if end < 0:
        raise QueryError("unclosed quote", start)
    return text[start + 1 : end], end + 1


def _field_term(name: str, value: str, quoted: bool, pos: int) -> Term:
    if name == "title":
        toks = tokenize(value)
        if not toks:
            raise QueryError("title: needs a word with letters or digits", pos)
        return text_term(toks, title=True)
    if quoted:
        raise QueryError(f"{name}: takes a single value, not a quoted phrase", pos)
    if name == "company":
        slug = value.lower()
        if not _SLUG_RE.match(slug):
            raise QueryError(f"company:{value} is not a channel slug (letters, digits, dashes)", pos)
        return Company(slug)
    m = _TICKER_RE.match(value.upper().replace(" ", ""))
    if not m:
        raise QueryError(f"ticker:{value} is not a ticker such as TSLA or HKG:1810", pos)
    return Ticker(symbol=m.group(2), exchange=m.group(1))


def _lex(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Tok(ch, i))
            i += 1
        elif ch == '"':
            inner, i_next = _read_phrase(text, i)
            toks = tokenize(inner)
            if not toks:
                raise QueryError("empty phrase", i)
            out.append(_Tok("TERM", i, text_term(toks)))
            i = i_next
        else:
            j = i
            while j < n and text[j] not in _STOP:
                j += 1
            word = text[i:j]
            m = _FIELD_RE.match(word)
            if word in ("AND", "OR", "NOT"):
                out.append(_Tok(word, i))
            elif m:
                name = m.group(1)
                if name.lower() not in FIELDS:
                    raise QueryError(f"unknown field {name}:", i, "fields are company:, ticker:, title:")
                value, quoted = word[m.end() :], False
                if not value and j < n and text[j] == '"':
                    value, j = _read_phrase(text, j)
                    quoted = True
                if not value.strip():
                    raise QueryError(f"expected a value after {name}:", i)
                out.append(_Tok("TERM", i, _field_term(name.lower(), value, quoted, i)))
            else:
                toks = tokenize(word)
                if not toks:
                    raise QueryError(f"term {word!r} has no letters or digits", i)
                out.append(_Tok("TERM", i, text_term(toks)))
            i = j
    return out


# --- parser ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, toks: list[_Tok], length: int) -> None:
        self.toks = toks
        self.i = 0
        self.length = length
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:  # only a stray ")" can stop parse_or early
            raise QueryError("unexpected )", tok.pos)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            self.expect_term_after(tok)
            children.append(self.parse_and())
        return make_or(children)

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while (tok := self.peek()) is not None and tok.kind in ("AND", "NOT", "TERM", "("):
            if tok.kind == "AND":
                self.i += 1
                self.expect_term_after(tok)
            children.append(self.parse_unary())
        return make_and(children)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("expected a term at the end", self.length)
        if tok.kind == "NOT":
            self.i += 1
            self.expect_term_after(tok)
            return Not(self.parse_unary())
        if tok.kind == "(":
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"parentheses nested deeper than {MAX_DEPTH}", tok.pos)
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError("empty parentheses", tok.pos)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError("unclosed (", tok.pos)
            self.i += 1
            self.depth -= 1
            return node
        if tok.kind == "TERM":
            self.i += 1
            assert tok.term is not None
            return tok.term
        if tok.kind == ")":
            raise QueryError("unexpected )", tok.pos)
        raise QueryError(f"expected a term before {tok.kind}", tok.pos)

    def expect_term_after(self, op: _Tok) -> None:
        nxt = self.peek()
        if nxt is None or nxt.kind in ("AND", "OR", ")"):
            raise QueryError(f"expected a term after {op.kind}", op.pos)


def parse_query(text: str) -> Node:
    """Parse a query into its AST; raise QueryError with position and reason."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})")
    toks = _lex(text)
    if not toks:
        raise QueryError("empty query")
    n_terms = sum(1 for t in toks if t.kind == "TERM")
    if n_terms > MAX_TERMS:
        raise QueryError(f"too many terms ({n_terms}, at most {MAX_TERMS})")
    return _Parser(toks, len(text)).parse()


# --- printing, walking, evaluating -------------------------------------------------------


def _quote(tokens: tuple[str, ...]) -> str:
    return '"' + " ".join(tokens) + '"'


def to_text(node: Node) -> str:
    """Canonical text of an AST; ``parse_query(to_text(ast)) == ast``."""
    if isinstance(node, Word):
        return node.token
    if isinstance(node, Phrase):
        return _quote(node.tokens)
    if isinstance(node, TitleWord):
        return f"title:{node.token}"
    if isinstance(node, TitlePhrase):
        return f"title:{_quote(node.tokens)}"
    if isinstance(node, Company):
        return f"company:{node.slug}"
    if isinstance(node, Ticker):
        return f"ticker:{node.exchange}:{node.symbol}" if node.exchange else f"ticker:{node.symbol}"
    if isinstance(node, Not):
        inner = to_text(node.child)
        return f"NOT ({inner})" if isinstance(node.child, And | Or) else f"NOT {inner}"
    if isinstance(node, And):
        return " AND ".join(f"({to_text(c)})" if isinstance(c, Or) else to_text(c) for c in node.children)
    return " OR ".join(to_text(c) for c in node.children)


def iter_terms(node: Node) -> Iterator[Term]:
    if isinstance(node, Not):
        yield from iter_terms(node.child)
    elif isinstance(node, And | Or):
        for c in node.children:
            yield from iter_terms(c)
    else:
        yield node


def term_matches(term: Term, doc: MatchDoc, mentions: bool = False) -> bool:
    if isinstance(term, Word):
        return term.token in doc.tokens
    if isinstance(term, Phrase):
        return doc.has_phrase(phrase_text(term.tokens))
    if isinstance(term, TitleWord):
        return term.token in doc.title_tokens
    if isinstance(term, TitlePhrase):
        return doc.has_title_phrase(phrase_text(term.tokens))
    if isinstance(term, Company):
        return term.slug in doc.about or (mentions and term.slug in doc.mentioned)
    if term.exchange:
        return f"{term.exchange}:{term.symbol}" in doc.listings
    return term.symbol in doc.symbols


def evaluate(node: Node, doc: MatchDoc, mentions: bool = False) -> bool:
    """The naive evaluator: the reference the percolator must agree with.

    ``mentions``: the subscriber also wants articles that only mention a ``company:`` term.
    """
    if isinstance(node, And):
        return all(evaluate(c, doc, mentions) for c in node.children)
    if isinstance(node, Or):
        return any(evaluate(c, doc, mentions) for c in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, doc, mentions)
    return term_matches(node, doc, mentions)

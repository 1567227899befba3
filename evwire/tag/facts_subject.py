"""Who a figure belongs to, which metric and scope it has: clause-level rules for evwire.tag.facts."""

from __future__ import annotations

import re

from evwire.tag.facts_text import Figure
from evwire.tag.facts_words import (
    _BEV,
    _BLOCK_BEFORE,
    _BOUNDARY,
    _COMPANY_SUFFIX,
    _DEMONYM,
    _MARKET_RE,
    _MODEL_TOKEN,
    _MONTH_NAMES,
    _NEV,
    _OK_CAPS,
    _OWNER_GAP,
    _PHEV,
    _SEGMENT,
    _UNIT,
)
from evwire.tag.types import Match


def _metric(sent: str, fig: Figure, cs: int, hits: list[tuple[int, int, str]]) -> tuple[str | None, bool]:
    """The metric word nearest the figure: in its unit phrase, else before it in the clause, else anywhere
    in the sentence. The flag says whether a metric word stands right before the figure."""
    unit = _UNIT.match(sent[fig.end : fig.end + 60])
    reach = fig.end + (unit.end() if unit else 0)
    after_hits = [h for h in hits if fig.end <= h[0] and h[1] <= reach]
    before_hits = [h for h in hits if cs <= h[1] <= fig.start]
    near = False
    if before_hits:
        last = max(before_hits, key=lambda h: h[1])
        gap = sent[last[1] : fig.start]
        near = len(gap.split()) <= 5 and last[2] not in ("none", "reg")
    if after_hits:
        return min(after_hits)[2], near
    if before_hits:
        return max(before_hits, key=lambda h: h[1])[2], near
    rest = [h for h in hits if h[2] != "none"]
    if rest:
        return min(rest, key=lambda h: abs(h[0] - fig.start))[2], False
    return None, False


def _clause_start(sent: str, pos: int, matches: list[Match]) -> int:
    start = 0
    for m in re.finditer(r",\s+(?:which|who|when)\b", sent[:pos]):
        if "," not in sent[m.end() : pos]:
            start = m.start()
    for m in _BOUNDARY.finditer(sent, 0, pos):
        start = max(start, m.end())
    for (
        hit
    ) in matches:  # "... and Leapmotor 70,327": a new clause starts at a company followed by its figure/verb
        if start <= hit.start < pos and re.search(r"(?:,\s*|\s)and\s+(?:the\s+)?$", sent[: hit.start]):
            rest = sent[hit.end : pos + 1]
            if re.match(r"^(?:'s|’s)?\s*(?:\(?\d|[a-z]+ed\b|sold|built|sells|delivers)", rest):
                start = hit.start
    return start


def _which_antecedent(sent: str, pos: int, matches: list[Match]) -> str | None | bool:
    """A figure inside ", which ..." belongs to the company just before the comma."""
    for m in re.finditer(r",\s+(?:which|who)\b", sent[:pos]):
        if "," in sent[m.end() : pos]:
            continue
        prev = [x for x in matches if x.end <= m.start()]
        if prev and m.start() - prev[-1].end <= 25:
            return None if prev[-1].kind == "product" else prev[-1].slug
    return False


def _local_owner(sent: str, fig: Figure, matches: list[Match]) -> str | None:
    prev = [m for m in matches if m.end <= fig.start]
    if not prev:
        return None
    m = prev[-1]
    if m.kind == "product":
        return None
    if _OWNER_GAP.match(sent[m.end : fig.start]) and not re.match(
        r"^\s*$", sent[m.end : fig.start][:0] or "x"
    ):
        if sent[m.end : fig.start].strip() or re.search(r"(?:,\s*|\s)and\s+$|^\s*$", sent[: m.start]):
            return m.slug
    return None


def _is_model_subject(sent: str, m: Match, matches: list[Match], title_case: bool) -> bool:
    if m.kind == "product":
        return True
    after = sent[m.end :]
    if re.match(
        r"^(?:'s|’s)?\s+(?:(?:new|flagship|entry-level|upcoming|best-selling|popular|latest|compact|"
        r"electric)\s+)?(?:[A-Z]{1,3}\d{1,3}[A-Za-z]?|Model\s+[A-Z0-9])\b",
        after,
    ):
        return True
    adjacent = [
        x for x in matches if x.start > m.start and re.fullmatch(r"(?:'s|’s)?\s*", sent[m.end : x.start])
    ]
    if adjacent:
        return adjacent[0].kind == "product"
    nxt = re.match(r"^\s+([A-Z][\w-]+)", after)
    return bool(nxt and not title_case and nxt.group(1).lower() not in _COMPANY_SUFFIX)


def _eligible(sent: str, m: Match, cs: int) -> bool:
    pre = sent[cs : m.start]
    if re.search(r"\(\s*[^)]*$", pre):
        return False  # inside parentheses
    if _BLOCK_BEFORE.search(pre[-40:]) and not re.fullmatch(r"\s*(?:and|or)\s+", pre[-5:] or " "):
        return False
    return not re.match(r"^-(?:led|backed|owned|controlled|based|made)\b", sent[m.end :])


def _clause_subject(
    sent: str, fig: Figure, cs: int, matches: list[Match], memo: dict[int, str | None], topic: str | None
) -> str | None:
    which = _which_antecedent(sent, fig.start, matches)
    if which is not False:
        return which if isinstance(which, str) else None
    title_case = sum(w[:1].isupper() for w in sent.split()) > 0.6 * max(1, len(sent.split()))
    region = sent[cs : fig.start]
    inside = [m for m in matches if cs <= m.start < fig.start]
    # mentions inside a ", which ...," aside are not the subject
    for w in re.finditer(r",\s+(?:which|who|whose)\b[^,]*,", region):
        inside = [m for m in inside if not (cs + w.start() <= m.start < cs + w.end())]
    for m in inside:
        if not _eligible(sent, m, cs):
            continue
        if _is_model_subject(sent, m, matches, title_case):
            return None
        memo[cs] = m.slug
        return m.slug
    if _MODEL_TOKEN.search(_strip_figures(region)) and not re.search(
        r"\b(?:the|its)\s+(?:period|quarter)\b", region
    ):
        return None
    if _unknown_entity(region, matches, cs, title_case):
        return None
    earlier = [v for k, v in memo.items() if k < cs and v]
    if earlier:
        return earlier[-1]
    head = sent[:cs]
    prior = [m for m in matches if m.end <= cs and _eligible(sent, m, 0)]
    if prior and not _is_model_subject(sent, prior[0], matches, title_case) and head:
        return prior[0].slug
    return topic


def _strip_figures(text: str) -> str:
    return re.sub(r"\d[\d,.]*(?:\s*(?:million|thousand|k))?", " ", text)


def _unknown_entity(region: str, matches: list[Match], cs: int, title_case: bool) -> bool:
    """A capitalised name the catalog does not know stands where the subject should be."""
    if title_case:
        return False
    covered = [(m.start - cs, m.end - cs) for m in matches]
    for w in re.finditer(r"\b[A-Z][\w&-]*", region):
        if w.start() == 0 or any(s <= w.start() < e for s, e in covered):
            continue
        word = w.group(0)
        if (
            word in _OK_CAPS
            or word.rstrip("s") in _OK_CAPS
            or _MARKET_RE.match(word)
            or word.lower().rstrip(".") in _MONTH_NAMES
            or re.match(r"^(?:First|Second|Third|Fourth|Q\d)", word)
        ):
            continue
        if re.search(r"\b(?:in|across|to|from|outside)\s+$", region[: w.start()]) or _in_parens(
            region, w.start()
        ):
            continue
        if re.match(
            r"[A-Z][\w]*-(?:based|born|listed|owned|backed|made|built|headquartered)\b", word
        ) or _DEMONYM.match(word):
            continue
        return True
    return False


def _in_parens(text: str, pos: int) -> bool:
    return text.rfind("(", 0, pos) > text.rfind(")", 0, pos)


def _scope(sent: str, fig: Figure, cs: int, after: str) -> tuple[str | None, bool]:
    unit = _UNIT.match(after[:60])
    tail = re.split(r"[,;]|\s(?:as|while|and|but|with|after)\s", after, maxsplit=1)[0][:50]
    near = sent[cs : fig.start] + " " + (unit.group(0) if unit else tail)
    market = (
        _MARKET_RE.search(near)
        or _MARKET_RE.match(tail.lstrip(" ,"))
        or re.match(
            r"^\s*(?:[\w-]+\s+){0,3}(?:in|across)\s+(?:the\s+)?(?:China|Europe|United\s+States|U\.S\.|US|UK|Britain|"
            r"Germany|Norway|France|Japan|Korea|India)\b",
            tail,
        )
    )
    if market:
        word = re.sub(r"\s+", " ", market.group(0).lower())
        word = re.sub(r"^(?:in|across|to)\s+(?:the\s+)?", "", word)
        if word in ("abroad", "international", "exports", "export", "exported") or word.startswith("outside"):
            word = "overseas"
        return word.split(" sales")[0].split(" deliveries")[0].strip(), False
    if _SEGMENT.search(near):
        return "commercial", False
    if _PHEV.search(near) and not _BEV.search(near.replace("plug-in hybrid", "")):
        return "PHEV", False
    if _NEV.search(near) or (_PHEV.search(near) and _BEV.search(near)):
        return "NEV", True
    if _BEV.search(near):
        return "BEV", True
    return None, False


def _sentence_subject(sent: str, matches: list[Match]) -> str | None:
    title_case = False
    for m in matches:
        if not _eligible(sent, m, 0):
            continue
        if _is_model_subject(sent, m, matches, title_case):
            return None
        return m.slug
    return None

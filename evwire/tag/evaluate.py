"""Score tagger output against a labelled corpus: the same figures as /work/shared/tools/score.py.

Pure: takes the label objects and the prediction objects (``Tagging.to_json()`` shape), returns an
``EvalResult`` whose ``format()`` prints exactly the lines score.py prints. The normalisation below is
copied from score.py unchanged so the two always agree; ``evwire eval`` uses this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ALIASES = {
    "gm": "generalmotors",
    "vw": "volkswagen",
    "volkswagengroup": "volkswagen",
    "mercedes": "mercedesbenz",
    "mercedesbenzgroup": "mercedesbenz",
    "lges": "lgenergysolution",
    "lgenergy": "lgenergysolution",
    "gwm": "greatwall",
    "greatwallmotor": "greatwall",
    "greatwallmotors": "greatwall",
    "nio": "nio",
    "xpengmotors": "xpeng",
    "xiaopeng": "xpeng",
    "liauto": "liauto",
    "lixiang": "liauto",
    "byd": "byd",
    "bydauto": "byd",
    "bydcompany": "byd",
    "xiaomiev": "xiaomi",
    "xiaomiauto": "xiaomi",
    "teslamotors": "tesla",
    "fordmotor": "ford",
    "fordmotorcompany": "ford",
    "toyotamotor": "toyota",
    "hondamotor": "honda",
    "hyundaimotor": "hyundai",
    "hyundaimotorgroup": "hyundai",
    "kiacorp": "kia",
    "nissanmotor": "nissan",
    "geelyauto": "geely",
    "geelyholding": "geely",
    "zeekrgroup": "zeekr",
    "saicmotor": "saic",
    "gacgroup": "gac",
    "gacaion": "gac",
    "changanautomobile": "changan",
    "volvocar": "volvocars",
    "volvo": "volvocars",
    "catl": "catl",
    "contemporaryamperextechnology": "catl",
    "nvidiacorporation": "nvidia",
    "rivianautomotive": "rivian",
    "lucidgroup": "lucid",
    "lucidmotors": "lucid",
    "polestarautomotive": "polestar",
    "bmwgroup": "bmw",
    "renaultgroup": "renault",
    "stellantisnv": "stellantis",
    "seresgroup": "seres",
    "leapmotor": "leapmotor",
    "zhejiangleapmotor": "leapmotor",
    "cheryautomobile": "chery",
    "samsungsdi": "samsungsdi",
    "skon": "skon",
    "panasonicenergy": "panasonic",
    "huaweitechnologies": "huawei",
    "waymollc": "waymo",
}
EXCH = {
    "hkex": "hkg",
    "hk": "hkg",
    "sehk": "hkg",
    "hkse": "hkg",
    "otcmkts": "otc",
    "otcqx": "otc",
    "otcpink": "otc",
    "otcpk": "otc",
    "otcqb": "otc",
    "sse": "sha",
    "shse": "sha",
    "szse": "she",
    "sz": "she",
    "xetra": "etr",
    "fwb": "etr",
    "fra": "etr",
    "tse": "tyo",
    "tyo": "tyo",
    "kospi": "krx",
    "ks": "krx",
    "kse": "krx",
    "nasdaqgs": "nasdaq",
    "epa": "epa",
    "bit": "bit",
    "mil": "bit",
    "lse": "lon",
}


def norm_company(x: Any) -> set[str]:
    if isinstance(x, dict):
        names = [x.get("name", ""), x.get("slug", "")]
    else:
        names = [x]
    out = set()
    for n in names:
        k = re.sub(r"[^a-z0-9]", "", str(n).lower())
        if k:
            out.add(ALIASES.get(k, k))
    return out


def company_key(x: Any) -> str:
    keys = norm_company(x)
    return min(keys) if keys else ""


def norm_ticker(t: Any) -> str:
    if isinstance(t, dict):
        ex, sym = t.get("exchange", ""), t.get("symbol", "")
    else:
        ex, _, sym = str(t).partition(":")
    ex = re.sub(r"[^a-z]", "", ex.lower())
    ex = EXCH.get(ex, ex)
    sym = sym.strip().upper()
    if sym.isdigit():
        sym = sym.lstrip("0")
    return f"{ex}:{sym}"


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


KINDS = ("about", "mentioned", "tickers", "facts")


@dataclass
class EvalResult:
    n: int
    counts: dict[str, list[int]]  # kind -> [tp, fp, fn]
    misses: list[str] = field(default_factory=list)  # about disagreements, as score.py --show prints them

    def f1(self, kind: str) -> float:
        return prf(*self.counts[kind])[2]

    def prf(self, kind: str) -> tuple[float, float, float]:
        return prf(*self.counts[kind])

    def format(self, show: int = 0) -> str:
        lines = list(self.misses[:show])
        summary = []
        for k in KINDS:
            tp, fp, fn = self.counts[k]
            p, r, f = prf(tp, fp, fn)
            lines.append(f"{k:10s} P={p:.3f} R={r:.3f} F1={f:.3f}  (tp={tp} fp={fp} fn={fn})")
            summary.append(f"{k} F1={f:.3f} P={p:.2f} R={r:.2f}")
        lines.append(f"n={self.n}; " + "; ".join(summary))
        return "\n".join(lines)


def _fact_key_pred(f: dict[str, Any]) -> tuple[str, str, str, int]:
    return (
        company_key(f.get("company", "")),
        str(f.get("period")),
        f.get("kind", "actual"),
        int(float(f.get("value", 0))),
    )


def evaluate(labels: Sequence[dict[str, Any]], preds: Sequence[dict[str, Any]]) -> EvalResult:
    """Micro P/R/F1 for about, mentioned, tickers and facts over paired label/prediction objects."""
    if len(labels) != len(preds):
        raise ValueError(f"line count differs: {len(labels)} labels vs {len(preds)} predictions")
    counts = {k: [0, 0, 0] for k in KINDS}
    misses = []
    for lab, pr in zip(labels, preds, strict=True):
        gold_about = {company_key(c) for c in lab.get("about", [])}
        gold_ment = {company_key(c) for c in lab.get("mentioned", [])}
        p_about = {company_key(c) for c in pr.get("about", [])}
        p_ment = {company_key(c) for c in pr.get("mentioned", [])} - p_about
        sets: dict[str, tuple[set[Any], set[Any]]] = {
            "about": (gold_about, p_about),
            "mentioned": (gold_ment, p_ment),
            "tickers": (
                {norm_ticker(t) for t in lab.get("tickers", [])},
                {norm_ticker(t) for t in pr.get("tickers", [])},
            ),
            "facts": (
                {
                    (company_key(f["company"]), str(f["period"]), f.get("kind", "actual"), int(f["value"]))
                    for f in lab.get("facts", [])
                },
                {
                    _fact_key_pred(f)
                    for f in pr.get("facts", [])
                    if f.get("value") is not None and not f.get("scope")
                },
            ),
        }
        for k, (g, p) in sets.items():
            c = counts[k]
            c[0] += len(g & p)
            c[1] += len(p - g)
            c[2] += len(g - p)
        if gold_about != p_about:
            misses.append(
                f"  {lab.get('id')}: about gold={sorted(gold_about)} pred={sorted(p_about)} "
                f"| {lab.get('title', '')[:70]}"
            )
    return EvalResult(len(labels), counts, misses)

"""Ranking the entries for an owner's question, in Python, over an index built once per set of
entries (the same on SQLite and PostgreSQL: the database only stores).

Each entry is its question and its other phrasings. The score (0..1) mixes two measures:
- BM25 over the terms (words and character pairs, terms.py), with the inverse document frequency
  counted over entries, divided by what the question's terms could score at most: the share of
  the question an entry explains, rare words counting most;
- rapidfuzz's similarity of the whole folded question to the entry's closest phrasing, which
  keeps word order and rewards an entry that says no more than was asked.
Two entries nearly tied are both uncertain: neither is scored as sure enough to answer at once."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from rapidfuzz import fuzz

from ..ports import Where
from .entries import IndexEntry, applies
from .settings import KbSettings, load_settings
from .terms import PAIR, WORD, terms
from .text import compact, normalise, without_fillers

# below this many entries a term is never "common": every term finds candidates
COMMON_FLOOR = 200
# what a question's word unknown to every entry weighs, against the rarest known word
UNKNOWN = 0.6


@dataclass(frozen=True, slots=True)
class Hit:
    entry: IndexEntry
    score: float


@dataclass(frozen=True, slots=True)
class _Phrasing:
    compact: str
    counts: tuple[tuple[str, int], ...]


def _analyse(text: str) -> _Phrasing:
    n = normalise(text)
    return _Phrasing(compact(n), tuple(Counter(terms(without_fillers(n))).items()))


def _pairs_inside_words(q_terms: set[str]) -> set[str]:
    """The character pairs that lie inside one of the question's words."""
    out = set()
    for t in q_terms:
        if t.startswith(WORD):
            w = t[len(WORD) :]
            out.update(PAIR + w[k : k + 2] for k in range(len(w) - 1))
    return out


class KbIndex:
    """Built from the active entries; `search` filters by where and when at each question.
    `previous`: an index of an earlier set, whose analysed phrasings are reused (a change to one
    entry does not cut every other one again)."""

    def __init__(
        self,
        entries: Iterable[IndexEntry],
        settings: KbSettings | None = None,
        previous: KbIndex | None = None,
    ):
        self.settings = s = settings or load_settings()
        self.entries: list[IndexEntry] = list(entries)
        memo = previous._memo if previous is not None else {}
        self._memo: dict[str, _Phrasing] = {}
        self._compacts: list[tuple[str, ...]] = []
        analysed: list[list[_Phrasing]] = []
        for e in self.entries:
            ps = []
            for text in dict.fromkeys((e.question, *e.alternatives)):
                p = self._memo.get(text) or memo.get(text) or _analyse(text)
                self._memo[text] = p
                ps.append(p)
            analysed.append(ps)
            self._compacts.append(tuple(dict.fromkeys(p.compact for p in ps if p.compact)))
        lengths = [len(p.compact) or 1 for ps in analysed for p in ps]
        avg = sum(lengths) / len(lengths) if lengths else 1.0
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, ps in enumerate(analysed):
            best: dict[str, float] = {}
            for p in ps:
                norm = s.k1 * (1 - s.b + s.b * (len(p.compact) or 1) / avg)
                for term, tf in p.counts:
                    sat = min(1.0, tf * (s.k1 + 1) / (tf + norm))
                    if sat > best.get(term, 0.0):
                        best[term] = sat
            for term, sat in best.items():
                ids, sats = postings.setdefault(term, ([], []))
                ids.append(i)
                sats.append(sat)
        n = len(self.entries)
        self._idf = {
            t: math.log(1 + (n - len(ids) + 0.5) / (len(ids) + 0.5))
            for t, (ids, _) in postings.items()
        }
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        self._postings = postings
        # the asking words' terms, and the pairs inside them
        self._asking = {PAIR + w[k : k + 2] for w in s.asking_words for k in range(len(w) - 1)}
        self._asking |= {WORD + w for w in s.asking_words}
        limit = max(COMMON_FLOOR, s.common_share * n)
        # a common term finds no candidates (its list is long); it still adds to their score
        self._common = {
            t: dict(zip(*p, strict=True)) for t, p in postings.items() if len(p[0]) > limit
        }

    def __len__(self) -> int:
        return len(self.entries)

    def _weight(self, term: str) -> float:
        s = self.settings
        kind = s.word if term.startswith(WORD) else s.bigram
        return kind * s.asking if term in self._asking else kind

    def search(
        self, question: str, where: Where | None = None, day: date | None = None, limit: int = 3
    ) -> list[Hit]:
        """The best entries, best first, only those valid on `day` and for `where` (None: the
        owner's community and building are not known)."""
        s = self.settings
        where = where or Where()
        n = normalise(question)
        q_compact = compact(n)
        q_terms = set(terms(without_fillers(n)))
        if not q_terms or not self.entries:
            return []
        inside = _pairs_inside_words(q_terms)
        weights: dict[str, float] = {}
        total = 0.0
        for t in q_terms:
            idf = self._idf.get(t)
            if idf is not None:
                weights[t] = self._weight(t) * idf
                total += weights[t]
            elif (t.startswith(WORD) and len(t) > len(WORD) + 1) or t in inside:
                # a word no entry has: the question is partly about something else. A pair that
                # no entry has across two words' edges says nothing, and is not counted
                total += self._weight(t) * self._max_idf * UNKNOWN
        if not weights:
            return []
        lexical, common = self._lexical(weights)
        ranked = heapq.nlargest(s.candidates * 4, lexical.items(), key=itemgetter(1))
        for t in common:  # only for the front runners: a common term's list is long
            w, sats = weights[t], self._common[t]
            ranked = [(i, acc + w * sats.get(i, 0.0)) for i, acc in ranked]
        ranked.sort(key=itemgetter(1), reverse=True)
        chosen: list[tuple[int, float]] = []
        for i, acc in ranked:
            e = self.entries[i]
            if e.everywhere_always or applies(e, where, day):
                chosen.append((i, acc / total))
                if len(chosen) == s.candidates:
                    break
        hits = []
        for i, lex in chosen:
            similar = max((fuzz.ratio(q_compact, c) for c in self._compacts[i]), default=0.0)
            hits.append((round((1 - s.fuzzy) * lex + s.fuzzy * similar / 100, 4), i))
        hits.sort(key=lambda h: (-h[0], h[1]))
        out = [Hit(self.entries[i], score) for score, i in hits[:limit]]
        if len(hits) > 1 and hits[0][0] - hits[1][0] < s.ambiguity_margin:
            cap = round(s.confident - 0.01, 4)
            out = [Hit(h.entry, min(h.score, cap)) for h in out]
        return out

    def _lexical(self, weights: dict[str, float]) -> tuple[dict[int, float], list[str]]:
        """Entries sharing an uncommon term with the question, each with its weighted BM25 so
        far; and the question's common terms, still to be added."""
        acc: dict[int, float] = {}
        rare = [t for t in weights if t not in self._common]
        common = sorted(
            (t for t in weights if t in self._common), key=lambda t: len(self._common[t])
        )
        if not rare:  # every term is common: the rarest of them finds the candidates
            rare = [common.pop(0)]
        get = acc.get
        for t in rare:
            w = weights[t]
            ids, sats = self._postings[t]
            for i, sat in zip(ids, sats, strict=True):
                acc[i] = get(i, 0.0) + w * sat
        return acc, common

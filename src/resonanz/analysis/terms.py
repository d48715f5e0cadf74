"""Key phrases of one post, for term clouds and trend detection.

Why not YAKE: measured here on the demo's posts, ``yake.KeywordExtractor`` takes about 1.7 ms
per post (see docs/models.md), far too slow for a pipeline that must analyse 5,000
posts a second. This extractor keeps YAKE's idea in cheap form (RAKE-like candidates, YAKE-like
scores) and runs in some 20 microseconds:

- candidates are runs of content words: the text is split at stop words (German + English,
  :mod:`resonanz.analysis.stopwords`), punctuation, digits, links, hashtags, @handles and words
  shorter than three letters;
  every word and every pair of neighbours in a run is a candidate ("app stürzt", "erstattung");
  three-word phrases were measured to win rarely and to cost a third of the time;
- a word scores by its frequency in the post and its length (long words carry meaning, short
  ones are often filler); a pair by the mean of its words, times a bonus for being a phrase and
  for recurring; candidates in the first clause get a bonus (posts name their topic early);
- the best ``limit`` candidates are returned, skipping one that shares a word with a better one,
  so five slots hold five different things.

Phrases are lower case: a term cloud counts "Verspätung" and "verspätung" as one.
"""

from __future__ import annotations

import re

from resonanz.analysis.stopwords import STOPWORDS

#: only the start of a long text is read (an article's topic is in its first paragraphs)
MAX_CHARS = 5_000
MIN_WORD = 3
#: score factor of a two-word phrase over the mean of its words
PAIR_BONUS = 1.2
EARLY_BONUS = 1.25
#: a word's weight by its length: long words carry meaning, short ones are often filler
_LENGTH_WEIGHT = [0.5 + n / 12 for n in range(13)]
# A word (letters, inner apostrophes/hyphens) in group 1, or something that ends a run of content
# words and comes back as "": a link, a #hashtag or @handle (counted elsewhere, no key phrases),
# a digit, a punctuation mark.
_TOKEN = re.compile(r"(?:https?://|www\.)\S+|[#@]\w[\w.@-]*|([^\W\d_]+(?:['’-][^\W\d_]+)*)|\S")


def keyphrases(text: str, *, limit: int = 5) -> list[str]:
    """The ``limit`` best key phrases of ``text``, best first; links, hashtags and handles are skipped."""
    # One pass over the tokens: word and neighbour-pair frequencies (in order of first occurrence)
    # and the first run of content words; a token that is no content word ends a run.
    stop = STOPWORDS
    tf: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    first: set[str] = set()
    first_pairs: set[tuple[str, str]] = set()
    in_first = True
    prev = ""
    for word in _TOKEN.findall(text[:MAX_CHARS].lower()):
        if len(word) >= MIN_WORD and word not in stop:
            tf[word] = tf.get(word, 0) + 1
            if prev:
                two = (prev, word)
                pairs[two] = pairs.get(two, 0) + 1
                if in_first:
                    first_pairs.add(two)
            if in_first:
                first.add(word)
            prev = word
        elif prev:
            prev = ""
            in_first = False
    if not tf:
        return []
    # Scores in closed form (no pass per occurrence): a word's weight already counts its
    # frequency; a pair seen n times gets (1 + n) / 2 of its base; the first clause EARLY_BONUS.
    ws = {w: n * _LENGTH_WEIGHT[min(len(w), 12)] for w, n in tf.items()}
    scores: dict[str | tuple[str, str], float] = {w: s * EARLY_BONUS if w in first else s for w, s in ws.items()}
    pair_weight = PAIR_BONUS / 2
    for two, n in pairs.items():
        score = pair_weight * (ws[two[0]] + ws[two[1]]) * (0.5 + 0.5 * n)
        scores[two] = score * EARLY_BONUS if two in first_pairs else score
    chosen: list[str] = []
    used: set[str] = set()
    for key in sorted(scores, key=scores.__getitem__, reverse=True):
        words = (key,) if isinstance(key, str) else key
        if used.intersection(words):
            continue  # overlaps a better phrase: five slots for five different things
        chosen.append(" ".join(words))
        used.update(words)
        if len(chosen) == limit:
            break
    return chosen

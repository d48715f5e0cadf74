"""Fill the demo's text templates with plausible details, keeping every text unique (a repeated
text is a repost, which the demo makes only on purpose)."""

from __future__ import annotations

import random
from collections.abc import Callable

from resonanz.demo import phrases
from resonanz.demo.world import CITIES, COMPETITORS, CRISIS_HASHTAG, LAST_INITIALS, LINES, OWN


class TextWriter:
    """Fills templates with random but plausible details and keeps texts unique (a repeated
    text is a repost, which the demo makes only on purpose)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def slots(self, lang: str, **extra: object) -> dict[str, object]:
        rng = self.rng
        comp = rng.choice(COMPETITORS)
        city, city2 = rng.sample(CITIES, 2)
        return {
            "brand": OWN.short if rng.random() < 0.6 else OWN.name,
            "app": OWN.app,
            "service": OWN.service,
            "abo": OWN.subscription,
            "scooter": OWN.scooter,
            "tag": OWN.hashtag,
            "comp": comp.short,
            "comp_app": comp.app,
            "comp_abo": comp.subscription,
            "line": rng.choice(LINES),
            "city": city,
            "city2": city2,
            "min": rng.choice((7, 12, 15, 20, 25, 35, 40, 45, 60, 90)),
            "eur": rng.choice((9, 19, 29, 49, 58, 98, 120)),
            "day": rng.choice(phrases.WEEKDAYS[lang]),
            "time": f"{rng.randint(5, 22):02d}:{rng.choice((4, 12, 18, 27, 33, 41, 48, 56)):02d}",
            "crisis": CRISIS_HASHTAG,
            "n": 1,
            "sig": "".join(rng.sample(LAST_INITIALS, 2)),
            **extra,
        }

    def unique(self, make: Callable[[], str]) -> str:
        for _ in range(20):
            text = str(make())
            if text not in self.seen:
                self.seen.add(text)
                return text
        # Still taken after 20 tries: make it unique with a detail a person would add.
        n = 2
        while f"{text} ({n})" in self.seen:
            n += 1
        text = f"{text} ({n})"
        self.seen.add(text)
        return text

    def post(self, lang: str, category: str, **extra: object) -> str:
        t = phrases.POSTS[lang][category]

        def make() -> str:
            s = self.slots(lang, **extra)
            body = self.rng.choice(t["body"]).format(**s)
            parts = [self.rng.choice(t["open"]).format(**s), body[0].upper() + body[1:] + ".", ""]
            parts[2] = self.rng.choice(t["close"]).format(**s)
            return " ".join(p for p in parts if p)

        return self.unique(make)

    def short(self, options: tuple[str, ...], lang: str, prefix: str = "", tail: float = 0.0) -> str:
        """One of ``options``, after ``prefix``, followed by a specific sentence with probability ``tail``."""

        def make() -> str:
            s = self.slots(lang)
            text = prefix + self.rng.choice(options).format(**s)
            if self.rng.random() < tail:
                text += " " + self.rng.choice(phrases.TAILS[lang]).format(**s)
            return text.strip()

        return self.unique(make)

    def article(self, lang: str, **extra: object) -> tuple[str, str]:
        t = phrases.NEWS[lang]
        s = self.slots(lang, **extra)
        title = self.unique(lambda: self.rng.choice(t["title"]).format(**self.slots(lang, **extra)))
        body = " ".join(b.format(**s) for b in self.rng.sample(t["body"], self.rng.randint(2, 4)))
        return title, body

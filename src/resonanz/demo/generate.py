"""The demo data set: a deterministic, generated conversation about a fictional mobility company.

:func:`generate` depends only on its arguments (``seed``, ``anchor``, ``scale``): the same
arguments give the same posts, byte for byte, on every machine; it never reads the clock. The 90
days end on ``anchor`` (a fixed date by default, see :data:`DEFAULT_ANCHOR`). One crisis (an IT
outage with a suspected data leak, hashtag :data:`~resonanz.demo.world.CRISIS_HASHTAG`) lasts
three days in the second half and shows as a burst of negative posts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from resonanz.demo import phrases
from resonanz.demo.world import (
    CRISIS_HASHTAG,
    DEMO_PREFIX,
    FIRST_NAMES_DE,
    FIRST_NAMES_EN,
    INFLUENCERS,
    LAST_INITIALS,
    OWN,
)
from resonanz.demo.writer import TextWriter

DEFAULT_SEED = 20261101
#: The last day of the demo window. Fixed, so the data set is identical wherever it is made.
DEFAULT_ANCHOR = date(2026, 11, 1)
DAYS = 90
#: Day (0-based, from the window's start) the crisis begins, and how many days it lasts.
CRISIS_DAY = 62
CRISIS_DAYS = 3
SOCIAL_PLATFORMS = ("mastodon", "bluesky")
# Posts per ordinary day at scale 1, by channel.
SOCIAL_PER_DAY = 22.0
REVIEWS_PER_DAY = 3.0
NEWS_DE_PER_DAY = 1.5
NEWS_EN_PER_DAY = 0.7
BLOG_EVERY_DAYS = 2
# Crisis posts per crisis day at scale 1 (on top of the ordinary volume).
CRISIS_BURST = (210, 160, 90)


@dataclass(frozen=True)
class DemoAuthor:
    handle: str
    name: str
    followers: int
    language: str

    @property
    def url(self) -> str:
        return f"https://social.example/@{self.handle}"


@dataclass
class DemoPost:
    """One generated post; ``channel`` says which demo document or file it goes into."""

    id: str
    channel: str  # news-de | news-en | blog | blog-comment | social | reviews
    platform: str
    language: str
    category: str  # complaint question praise competitor crisis news reply service comment repost review
    sentiment: str
    published_at: datetime
    text: str
    url: str
    author: DemoAuthor | None = None
    title: str | None = None
    parent_id: str | None = None
    repost_of: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoDataset:
    seed: int
    anchor: date
    start: date
    crisis_start: date
    crisis_end: date  # inclusive
    posts: list[DemoPost]

    def channel(self, name: str) -> list[DemoPost]:
        return [p for p in self.posts if p.channel == name]


def _authors(rng: random.Random, count: int) -> list[DemoAuthor]:
    people: list[DemoAuthor] = []
    taken: set[str] = set()
    while len(people) < count:
        lang = "en" if rng.random() < 0.15 else "de"
        first = rng.choice(FIRST_NAMES_EN if lang == "en" else FIRST_NAMES_DE)
        last = rng.choice(LAST_INITIALS)
        handle = f"{DEMO_PREFIX}{first.lower()}_{last.lower()}{rng.randint(1, 99)}"
        if handle in taken:
            continue
        taken.add(handle)
        followers = int(rng.lognormvariate(5.0, 1.2))
        people.append(DemoAuthor(handle=handle, name=f"{first} {last}.", followers=followers, language=lang))
    return people


def _moment(rng: random.Random, day: date) -> datetime:
    """A time of day weighted to the commuter peaks (UTC, so 6-8 and 15-17 local in winter)."""
    hour = rng.choice((5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 16, 16, 17, 18, 19, 20, 21))
    return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC)


def _count(rng: random.Random, mean: float) -> int:
    """A whole number of posts around ``mean`` (deterministic, never negative)."""
    return max(0, int(rng.gauss(mean, mean**0.5) + 0.5))


def generate(*, seed: int = DEFAULT_SEED, anchor: date = DEFAULT_ANCHOR, scale: float = 1.0) -> DemoDataset:
    """Generate the demo data set (about 4,000 posts at ``scale`` 1)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = random.Random(seed)
    writer = TextWriter(rng)
    start = anchor - timedelta(days=DAYS - 1)
    crisis_start = start + timedelta(days=CRISIS_DAY)
    crisis_end = crisis_start + timedelta(days=CRISIS_DAYS - 1)
    people = _authors(rng, max(20, int(600 * scale)))
    # A few people post a lot, most post now and then (Zipf-like weights).
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(people))]
    influencers = [DemoAuthor(DEMO_PREFIX + h, n, f, lang) for h, n, f, lang in INFLUENCERS]
    service = DemoAuthor(f"{DEMO_PREFIX}{OWN.key}_service", f"{OWN.service} (Demo)", 48_000, "de")
    gen = _Generator(rng, writer, people, weights, influencers, service)
    # Replies and comments come minutes to days after their post; none may fall after the window.
    gen.end = datetime.combine(anchor, time(23, 59, 59), tzinfo=UTC)

    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        weekday_factor = 0.7 if day.weekday() >= 5 else 1.0
        crisis_index = (day - crisis_start).days if crisis_start <= day <= crisis_end else None
        for _ in range(_count(rng, NEWS_DE_PER_DAY * scale)):
            gen.news(day, "de")
        for _ in range(_count(rng, NEWS_EN_PER_DAY * scale)):
            gen.news(day, "en")
        if offset % BLOG_EVERY_DAYS == 0:
            gen.blog_post(day, crisis=crisis_index == 0, scale=scale)
        for _ in range(_count(rng, SOCIAL_PER_DAY * weekday_factor * scale)):
            gen.social(day)
        for _ in range(_count(rng, REVIEWS_PER_DAY * scale)):
            gen.review(day, crisis=False)
        if crisis_index is not None:
            gen.crisis_day(day, crisis_index, scale)
    gen.posts.sort(key=lambda p: (p.published_at, p.id))
    return DemoDataset(
        seed=seed, anchor=anchor, start=start, crisis_start=crisis_start, crisis_end=crisis_end, posts=gen.posts
    )


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        writer: TextWriter,
        people: list[DemoAuthor],
        weights: list[float],
        influencers: list[DemoAuthor],
        service: DemoAuthor,
    ) -> None:
        self.rng = rng
        self.writer = writer
        self.people = people
        self.weights = weights
        self.influencers = influencers
        self.service = service
        self.posts: list[DemoPost] = []
        self.social_posts: list[DemoPost] = []
        self.serial: dict[str, int] = {}
        self.end = datetime.max.replace(tzinfo=UTC)

    def next_id(self, kind: str) -> int:
        self.serial[kind] = self.serial.get(kind, 0) + 1
        return self.serial[kind]

    def person(self, lang: str | None = None) -> DemoAuthor:
        if self.rng.random() < 0.03:
            return self.rng.choice(self.influencers)
        for _ in range(10):
            who = self.rng.choices(self.people, weights=self.weights)[0]
            if lang is None or who.language == lang:
                return who
        return who

    def metrics(self, author: DemoAuthor, negative: bool) -> dict[str, int]:
        reach = author.followers**0.5
        boost = 1.6 if negative else 1.0
        return {
            "likes": int(self.rng.random() * reach * boost),
            "reposts": int(self.rng.random() * reach * boost / 4),
            "replies": int(self.rng.random() * reach / 8),
        }

    def add(self, post: DemoPost) -> DemoPost:
        post.published_at = min(post.published_at, self.end)
        self.posts.append(post)
        return post

    def news(self, day: date, lang: str, *, crisis: bool = False) -> None:
        outlet, domain = (
            ("Nordküste Kurier", "nordkurier.example") if lang == "de" else ("Mobility Wire", "mobilitywire.example")
        )
        n = self.next_id(f"news-{lang}")
        if crisis:
            title, body = (
                (
                    f"IT-Störung bei {OWN.name}: Ticketkauf seit Stunden unmöglich",
                    f"Kunden berichten unter {CRISIS_HASHTAG} von Ausfällen der {OWN.app} App. "
                    "Das Unternehmen prüft, ob Kundendaten betroffen sind.",
                )
                if lang == "de"
                else (
                    f"IT outage at {OWN.name} halts ticket sales",
                    f"Customers report app failures under {CRISIS_HASHTAG}; "
                    "the company is checking whether customer data was exposed.",
                )
            )
        else:
            title, body = self.writer.article(lang)
        self.add(
            DemoPost(
                id=f"https://{domain}/artikel/{n}" if lang == "de" else f"tag:{domain},2026:article-{n}",
                channel=f"news-{lang}",
                platform="feed",
                language=lang,
                category="news",
                sentiment="negative" if crisis else "neutral",
                published_at=_moment(self.rng, day),
                text=body,
                title=f"[DEMO] {title}",
                url=f"https://{domain}/artikel/{n}",
                author=DemoAuthor(f"{DEMO_PREFIX}redaktion-{domain}", f"Redaktion {outlet}", 0, lang),
            )
        )

    def blog_post(self, day: date, *, crisis: bool, scale: float) -> None:
        n = self.next_id("blog") * 7 + 100  # WordPress ids are sparse
        if crisis:
            title = "Stellungnahme zur aktuellen IT-Störung"
            body = (
                f"Seit heute Morgen ist die {OWN.app} App gestört. Wir entschuldigen uns und informieren hier laufend."
            )
        else:
            title, body = self.writer.article("de")
        guid = f"https://blog.{OWN.domain}/?p={n}"
        published = datetime.combine(day, time(9, 30), tzinfo=UTC)
        post = self.add(
            DemoPost(
                id=guid, channel="blog", platform="feed", language="de", category="news", sentiment="neutral",
                published_at=published, text=body, title=f"[DEMO] {title}",
                url=f"https://blog.{OWN.domain}/{day:%Y/%m}/beitrag-{n}/",
                author=DemoAuthor(f"{DEMO_PREFIX}blogteam", f"{OWN.short} Blogteam (Demo)", 0, "de"),
            )
        )  # fmt: skip
        comments = _count(self.rng, (30.0 if crisis else 7.0) * min(scale, 1.0) + 0.5)
        for m in range(comments):
            who = self.person("de")
            lang = "de"
            if crisis:
                text = self.writer.post(lang, "crisis")
                category, sentiment = "crisis", "negative"
            else:
                text = self.writer.short(phrases.COMMENTS[lang], lang, tail=0.75)
                category, sentiment = "comment", "neutral"
            cid = 1000 + n * 40 + m
            self.add(
                DemoPost(
                    id=f"{guid}#comment-{cid}", channel="blog-comment", platform="feed", language=lang,
                    category=category, sentiment=sentiment,
                    published_at=published + timedelta(minutes=self.rng.randint(5, 60 * 48)),
                    text=text, title=f"[DEMO] Kommentar zu {title} von {who.name}",
                    url=f"{post.url}#comment-{cid}", author=who, parent_id=guid,
                )
            )  # fmt: skip

    def social(self, day: date, *, category: str | None = None, crisis_n: int = 1) -> DemoPost:
        rng = self.rng
        if category is None:
            category = rng.choices(
                ("complaint", "question", "praise", "competitor", "repost"), weights=(38, 24, 18, 14, 4)
            )[0]
        if category == "repost" and self.social_posts:
            return self.repost(day)
        if category == "repost":
            category = "complaint"
        author = self.person()
        lang = author.language
        text = self.writer.post(lang, category, n=crisis_n)
        sentiment = phrases.SENTIMENT.get(category, rng.choice(("neutral", "positive", "negative")))
        platform = rng.choice(SOCIAL_PLATFORMS)
        n = self.next_id("social")
        post = self.add(
            DemoPost(
                id=f"{DEMO_PREFIX}{platform[:2]}-{n}", channel="social", platform=platform, language=lang,
                category=category, sentiment=sentiment, published_at=_moment(rng, day), text=text,
                url=f"https://{platform}.example/@{author.handle}/{n}", author=author,
                metrics=self.metrics(author, sentiment == "negative"),
            )
        )  # fmt: skip
        self.social_posts.append(post)
        if rng.random() < (0.35 if category in ("complaint", "crisis") else 0.15):
            self.thread(post)
        return post

    def thread(self, root: DemoPost) -> None:
        rng = self.rng
        at = root.published_at
        parent = root
        for _ in range(rng.randint(1, 4)):
            at += timedelta(minutes=rng.randint(2, 240))
            assert parent.author is not None
            lang = root.language
            if rng.random() < 0.3 and root.category in ("complaint", "question", "crisis"):
                author, pool, category, sentiment = self.service, phrases.SERVICE_REPLIES[lang], "service", "neutral"
            else:
                author, pool, category, sentiment = self.person(lang), phrases.REPLIES[lang], "reply", root.sentiment
            text = self.writer.short(
                pool, lang, prefix=f"@{parent.author.handle} ", tail=0.0 if category == "service" else 0.5
            )
            n = self.next_id("social")
            reply = self.add(
                DemoPost(
                    id=f"{DEMO_PREFIX}{root.platform[:2]}-{n}", channel="social", platform=root.platform,
                    language=lang, category=category, sentiment=sentiment, published_at=at, text=text,
                    url=f"https://{root.platform}.example/@{author.handle}/{n}", author=author,
                    parent_id=parent.id, metrics=self.metrics(author, False),
                )
            )  # fmt: skip
            parent = reply if rng.random() < 0.5 else root

    def repost(self, day: date) -> DemoPost:
        rng = self.rng
        original = rng.choice(self.social_posts[-300:])
        author = self.person()
        n = self.next_id("social")
        # Same words, sometimes other case or spacing: still the same content.
        text = original.text.upper() if rng.random() < 0.2 else original.text.replace(" ", "  ", 1)
        post = self.add(
            DemoPost(
                id=f"{DEMO_PREFIX}{original.platform[:2]}-{n}", channel="social", platform=original.platform,
                language=original.language, category="repost", sentiment=original.sentiment,
                published_at=max(original.published_at + timedelta(minutes=3), _moment(rng, day)), text=text,
                url=f"https://{original.platform}.example/@{author.handle}/{n}", author=author,
                repost_of=original.id, metrics=self.metrics(author, original.sentiment == "negative"),
            )
        )  # fmt: skip
        return post

    def review(self, day: date, *, crisis: bool) -> None:
        rng = self.rng
        if crisis:
            stars, category = 1, "crisis"
        else:
            stars = rng.choices((1, 2, 3, 4, 5), weights=(22, 14, 16, 22, 26))[0]
            category = "complaint" if stars <= 2 else ("praise" if stars >= 4 else "question")
        author = self.person()
        text = self.writer.post(author.language, category)
        n = self.next_id("review")
        self.add(
            DemoPost(
                id=f"{DEMO_PREFIX}review-{n}", channel="reviews", platform="appstore", language=author.language,
                category="review", sentiment="negative" if stars <= 2 else ("positive" if stars >= 4 else "neutral"),
                published_at=_moment(rng, day), text=text, url=f"https://apps.example/{OWN.key}-go/reviews/{n}",
                author=author, metrics={"rating": stars}, extra={"stars": stars},
            )
        )  # fmt: skip

    def crisis_day(self, day: date, index: int, scale: float) -> None:
        burst = max(3, int(CRISIS_BURST[index] * scale))
        for _ in range(burst):
            self.social(day, category="crisis", crisis_n=index + 1)
        for _ in range(max(1, burst // 12)):
            self.review(day, crisis=True)
        if index == 0:
            self.news(day, "de", crisis=True)
            self.news(day, "en", crisis=True)
        # The loudest voices join in; their posts reach hundreds of thousands.
        for who in self.influencers[: 2 + index]:
            text = self.writer.post(who.language, "crisis", n=index + 1)
            n = self.next_id("social")
            post = self.add(
                DemoPost(
                    id=f"{DEMO_PREFIX}ma-{n}", channel="social", platform="mastodon", language=who.language,
                    category="crisis", sentiment="negative", published_at=_moment(self.rng, day), text=text,
                    url=f"https://mastodon.example/@{who.handle}/{n}", author=who,
                    metrics=self.metrics(who, True),
                )
            )  # fmt: skip
            self.social_posts.append(post)
            self.thread(post)

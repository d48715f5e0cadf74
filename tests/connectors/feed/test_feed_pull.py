"""The feed connector end to end: a real local HTTP server, the real pull job, the test database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from feed_world import ATOM, RSS, FeedWorld, Reply, payload, redirect_to

from resonanz.clock import now
from resonanz.sources.models import RunStatus, SourceHealth

BLOGGER_POSTS, BLOGGER_COMMENTS = "/feeds/posts/default", "/feeds/comments/default"
WP_POSTS, WP_COMMENTS = "/feed/", "/comments/feed/"


@pytest.mark.parametrize(
    ("name", "content_type", "count"),
    [
        ("rss091.xml", "application/rss+xml; charset=ISO-8859-1", 2),
        ("rss10.rdf", "application/rdf+xml", 2),
        ("rss20.xml", RSS, 2),
        ("atom03.xml", "application/atom+xml", 2),
        ("atom10.xml", ATOM, 2),
        ("blogger_posts.xml", ATOM, 2),
        ("wordpress_posts.xml", RSS, 2),
    ],
)
def test_pull_every_format_then_repull_adds_nothing(feeds: FeedWorld, name: str, content_type: str, count: int) -> None:
    feeds.serve("/feed", name, content_type=content_type)
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id)
    assert (run.status, run.new, run.rejected, run.error) == (RunStatus.OK, count, 0, None)
    stored = feeds.mentions(source_id)
    assert len(stored) == count and all(m.platform == "feed" and m.text for m in stored)
    assert feeds.source(source_id).health == SourceHealth.OK
    again = feeds.pull(source_id)
    assert (again.new, again.updated, again.duplicate) == (0, 0, count)
    assert len(feeds.mentions()) == count
    assert feeds.server.requests[0].headers["user-agent"].startswith("Resonanz/")


def _pull_in_order(feeds: FeedWorld, order: list[str]) -> None:
    for name in order:
        run = feeds.pull(feeds.add_source(name.strip("/").replace("/", "-"), name))
        assert run.status == RunStatus.OK and run.new > 0, (name, run.error)


@pytest.mark.parametrize("order", [[BLOGGER_POSTS, BLOGGER_COMMENTS], [BLOGGER_COMMENTS, BLOGGER_POSTS]])
def test_blogger_comments_become_replies_in_either_pull_order(feeds: FeedWorld, order: list[str]) -> None:
    feeds.serve(BLOGGER_POSTS, "blogger_posts.xml", content_type=ATOM)
    feeds.serve(BLOGGER_COMMENTS, "blogger_comments.xml", content_type=ATOM)
    _pull_in_order(feeds, order)
    tag = "tag:blogger.com,1999:blog-4711.post-"
    post, jonas, anonymous, reply = (feeds.mention(tag + n) for n in ("8001", "9101", "9102", "9103"))
    assert post.kind == "article" and post.parent_id is None
    assert (jonas.kind, jonas.parent_id, anonymous.parent_id) == ("comment", post.id, post.id)
    assert reply.parent_id == jonas.id and reply.thread_external_id == post.external_id


@pytest.mark.parametrize("order", [[WP_POSTS, WP_COMMENTS], [WP_COMMENTS, WP_POSTS]])
def test_wordpress_comments_become_replies_in_either_pull_order(feeds: FeedWorld, order: list[str]) -> None:
    feeds.serve(WP_POSTS, "wordpress_posts.xml")
    feeds.serve(WP_COMMENTS, "wordpress_comments.xml")
    _pull_in_order(feeds, order)
    post = feeds.mention("https://radwerk.example/?p=42")
    for n in (7, 8):
        comment = feeds.mention(f"https://radwerk.example/?p=42#comment-{n}")
        assert (comment.kind, comment.parent_id, comment.thread_external_id) == ("comment", post.id, post.external_id)
    assert feeds.mention("https://radwerk.example/?p=37").parent_id is None


def test_conditional_get_sends_validators_and_304_is_not_modified(feeds: FeedWorld) -> None:
    stamp = "Sat, 02 Mar 2024 07:05:00 GMT"
    feeds.serve("/feed", "rss20.xml", etag='"v1-abc"', last_modified=stamp)
    source_id = feeds.add_source("f", "/feed")
    assert feeds.pull(source_id).new == 2
    cursor = feeds.source(source_id).cursor
    assert (cursor["etag"], cursor["last_modified"]) == ('"v1-abc"', stamp)
    run = feeds.pull(source_id)
    second = feeds.server.requests_to("/feed")[-1]
    assert (second.headers["if-none-match"], second.headers["if-modified-since"]) == ('"v1-abc"', stamp)
    assert (run.status, run.new, run.duplicate) == (RunStatus.NOT_MODIFIED, 0, 0)
    assert feeds.source(source_id).cursor == cursor and feeds.source(source_id).health == SourceHealth.OK


def test_edited_entry_is_updated_not_duplicated(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "rss20.xml")
    source_id = feeds.add_source("f", "/feed")
    feeds.pull(source_id)
    edited = payload("rss20.xml").replace(b"12 Kilometer neue Radwege", b"15 Kilometer neue Radwege")
    feeds.serve("/feed", edited)
    run = feeds.pull(source_id)
    assert (run.new, run.updated, run.duplicate) == (0, 1, 1)
    changed = feeds.mention("127.0.0.1:mobil-heute-2024-0117")
    assert changed.revision == 2 and "15 Kilometer" in changed.text


def test_gzip_response(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "atom10.xml", content_type=ATOM, gzip=True)
    run = feeds.pull(feeds.add_source("f", "/feed"))
    assert run.new == 2
    assert "gzip" in feeds.server.requests[0].headers["accept-encoding"]


def test_permanent_redirect_is_followed_and_reported(feeds: FeedWorld) -> None:
    new_url = feeds.serve("/new-feed", "rss20.xml")
    feeds.server.route("/old-feed", redirect_to("/new-feed", status=301))
    source_id = feeds.add_source("f", "/old-feed")
    run = feeds.pull(source_id)
    assert run.new == 2 and run.status == RunStatus.OK
    assert any("moved permanently (HTTP 301)" in w and new_url in w for w in run.warnings)
    assert feeds.source(source_id).cursor["final_url"] == new_url


def test_temporary_redirect_gives_no_warning(feeds: FeedWorld) -> None:
    feeds.serve("/today", "rss20.xml")
    feeds.server.route("/feed", redirect_to("/today", status=302))
    run = feeds.pull(feeds.add_source("f", "/feed"))
    assert run.new == 2 and run.warnings == []


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ({"/a": "/b", "/b": "/a"}, "redirect loop: {url}/a -> {url}/b -> {url}/a"),
        ({f"/r{i}": f"/r{i + 1}" for i in range(7)} | {"/a": "/r0"}, "too many redirects (more than 5)"),
    ],
)
def test_redirect_loops_disable_the_source(feeds: FeedWorld, routes: dict[str, str], reason: str) -> None:
    for path, target in routes.items():
        feeds.server.route(path, redirect_to(target))
    source_id = feeds.add_source("f", "/a")
    run = feeds.pull(source_id)
    source = feeds.source(source_id)
    expected = reason.format(url=feeds.server.base_url)
    assert run.status == RunStatus.FAILED and expected in (run.error or "")
    assert source.health == SourceHealth.DISABLED and expected in (source.last_error or "")
    assert source.next_pull_at is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (404, "HTTP 404 Not Found: there is no feed at"),
        (410, "HTTP 410 Gone: the feed at {url}/feed was removed"),
        (401, "HTTP 401 Unauthorized: the feed at {url}/feed needs a login"),
        (403, "HTTP 403 Forbidden"),
    ],
)
def test_gone_or_forbidden_disables_the_source(feeds: FeedWorld, status: int, reason: str) -> None:
    feeds.server.route("/feed", Reply(status=status, body=b"nope"))
    source_id = feeds.add_source("f", "/feed")
    feeds.pull(source_id)
    source = feeds.source(source_id)
    assert source.health == SourceHealth.DISABLED
    assert reason.format(url=feeds.server.base_url) in (source.last_error or "")


@pytest.mark.parametrize("retry_after", ["120", "http-date"])
def test_429_honours_retry_after(feeds: FeedWorld, retry_after: str) -> None:
    header = retry_after
    if retry_after == "http-date":
        header = (now() + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    feeds.server.route("/feed", Reply(status=429, headers={"Retry-After": header}))
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id)
    source = feeds.source(source_id)
    assert run.status == RunStatus.FAILED and "HTTP 429 Too Many Requests" in (run.error or "")
    assert source.health == SourceHealth.FAILING and source.consecutive_failures == 1
    assert source.next_pull_at is not None
    wait = (source.next_pull_at - now()).total_seconds()
    assert 100 < wait <= 121, wait  # Retry-After, not the 900 s interval or backoff


def test_server_error_is_transient(feeds: FeedWorld) -> None:
    feeds.server.route("/feed", Reply(status=500, body=b"Internal Server Error"))
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id)
    source = feeds.source(source_id)
    assert "HTTP 500 Internal Server Error" in (run.error or "") and source.health == SourceHealth.FAILING
    assert source.next_pull_at is not None and source.next_pull_at > now()
    # the server recovers: the next pull works and the source is healthy again
    feeds.serve("/feed", "rss20.xml")
    assert feeds.pull(source_id).new == 2
    assert (feeds.source(source_id).health, feeds.source(source_id).consecutive_failures) == (SourceHealth.OK, 0)


def test_timeout_is_transient(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "rss20.xml", delay_s=1.5)
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id, settings=feeds.settings.model_copy(update={"http_timeout_s": 0.3}))
    source = feeds.source(source_id)
    assert "timed out fetching" in (run.error or "") and source.health == SourceHealth.FAILING
    assert feeds.mentions() == []


def test_connection_refused_is_transient(feeds: FeedWorld) -> None:
    source_id = feeds.add_source("f", "/feed")
    feeds.server.stop()
    run = feeds.pull(source_id)
    assert "could not fetch" in (run.error or "") and feeds.source(source_id).health == SourceHealth.FAILING


def test_body_over_the_size_limit_is_refused(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "rss20.xml", gzip=True)
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id, settings=feeds.settings.model_copy(update={"http_max_bytes": 1000}))
    assert "over the limit of 1,000 bytes" in (run.error or "") or "larger than the limit of 1,000" in (run.error or "")
    assert feeds.source(source_id).health == SourceHealth.DISABLED


@pytest.mark.parametrize(
    ("name", "content_type", "reason"),
    [
        ("html_page.html", "text/html; charset=utf-8", "not a feed: the server sent an HTML page (text/html)"),
        ("malformed.xml", RSS, "malformed XML at line 4, column 26: mismatched tag"),
    ],
)
def test_unusable_document_is_quarantined_whole(feeds: FeedWorld, name: str, content_type: str, reason: str) -> None:
    feeds.serve("/feed", name, content_type=content_type)
    source_id = feeds.add_source("f", "/feed")
    run = feeds.pull(source_id)
    assert (run.new, run.rejected, run.status) == (0, 1, RunStatus.PARTIAL)
    (row,) = feeds.quarantine()
    assert row.raw == payload(name) and row.stage == "fetch" and row.location == "document"
    assert reason in row.reason and row.source_id == source_id and row.run_id == run.id
    assert row.context["level"] == "document" and row.context["feed_url"] == feeds.server.url("/feed")
    source = feeds.source(source_id)
    assert source.health == SourceHealth.FAILING and reason in (source.last_error or "")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("invalid_utf8.xml", RSS), ("wrong_encoding.xml", "application/rss+xml; charset=us-ascii")],
)
def test_wrong_encodings_land_readable_with_a_warning(feeds: FeedWorld, name: str, content_type: str) -> None:
    feeds.serve("/feed", name, content_type=content_type)
    run = feeds.pull(feeds.add_source("f", "/feed"))
    assert run.new == 1 and any("but parsed as" in w for w in run.warnings)
    (mention,) = feeds.mentions()
    assert mention.title == "Grüße vom Sommerfest" and "Köln und München" in mention.text


def test_entries_without_ids_get_the_same_derived_id_on_every_pull(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "no_ids.xml")
    source_id = feeds.add_source("f", "/feed")
    assert feeds.pull(source_id).new == 2
    ids = [m.external_id for m in feeds.mentions()]
    again = feeds.pull(source_id)
    assert again.new == 0 and again.updated == 0
    assert [m.external_id for m in feeds.mentions()] == ids
    assert all(m.raw["resonanz_derived_id"] for m in feeds.mentions())


def test_duplicate_ids_in_one_feed_are_stored_once(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "duplicate_ids.xml")
    run = feeds.pull(feeds.add_source("f", "/feed"))
    assert (run.new, run.duplicate) == (2, 1)
    assert sorted(m.external_id for m in feeds.mentions()) == [
        "https://doppelt.example/?p=5",
        "https://doppelt.example/?p=6",
    ]


def test_dates_without_time_zone_are_stored_as_utc(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "no_timezone.xml")
    feeds.pull(feeds.add_source("f", "/feed"))
    dates = sorted(m.published_at.isoformat() for m in feeds.mentions())
    assert dates == ["2024-03-04T10:30:00+00:00", "2024-03-04T11:45:00+00:00"]


def test_ten_megabyte_item_is_quarantined_and_the_rest_lands(feeds: FeedWorld) -> None:
    big = b"<p>" + b"Sehr lange Beschwerde. " * (10 * 1024 * 1024 // 23) + b"</p>"
    body = payload("rss20.xml").replace(
        b"<item>", b"<item><title>Riesig</title><guid>https://mobil-heute.example/riesig</guid>"
        b"<description><![CDATA[" + big + b"]]></description></item>\n<item>", 1,
    )  # fmt: skip
    feeds.serve("/feed", body)
    run = feeds.pull(feeds.add_source("f", "/feed"))
    assert (run.new, run.rejected) == (2, 1)
    (row,) = feeds.quarantine()
    assert row.location == "entry 1" and row.stage == "parse" and len(row.raw) > 10 * 1024 * 1024
    assert f"item is {len(row.raw):,} bytes, over the limit of 1,048,576" in row.reason
    assert {m.title for m in feeds.mentions()} == {
        "Streik bei der S-Bahn: Was Fahrgäste jetzt wissen müssen", "Neue Radwege in der Innenstadt",
    }  # fmt: skip


def test_script_injection_never_reaches_the_html_column(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "injection.xml")
    feeds.pull(feeds.add_source("f", "/feed"))
    (mention,) = feeds.mentions()
    html = (mention.html or "").lower()
    assert "gewinnen" in html
    assert "<script" not in html and "javascript:" not in html and "<iframe" not in html
    assert not any(f" on{event}" in html for event in ("click", "mouseover", "error", "load"))


def test_relative_links_resolve_against_where_the_feed_was_fetched(feeds: FeedWorld) -> None:
    feeds.serve("/blog/feed/", "wordpress_posts.xml")
    feeds.pull(feeds.add_source("f", "/blog/feed/"))
    post = feeds.mention("https://radwerk.example/?p=42")
    assert f'href="{feeds.server.base_url}/kontakt/"' in (post.html or "")
    assert post.title == "Hallo Welt – unser neuer Laden"


def test_max_items_takes_the_first_entries(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "rss20.xml")
    run = feeds.pull(feeds.add_source("f", "/feed", max_items=1))
    assert run.new == 1 and feeds.mentions()[0].title.startswith("Streik")


def test_estimated_dates_do_not_move_when_the_feed_date_does(feeds: FeedWorld) -> None:
    feeds.serve("/feed", "rss091.xml", content_type="application/rss+xml; charset=ISO-8859-1")
    source_id = feeds.add_source("f", "/feed")
    feeds.pull(source_id)
    before = {m.external_id: m.published_at for m in feeds.mentions()}
    assert set(before.values()) == {datetime(2024, 3, 1, 12, tzinfo=UTC)}  # the channel's pubDate
    moved = payload("rss091.xml").replace(b"Fri, 01 Mar 2024 12:00:00 GMT", b"Sat, 09 Mar 2024 08:00:00 GMT")
    feeds.serve("/feed", moved, content_type="application/rss+xml; charset=ISO-8859-1")
    run = feeds.pull(source_id)
    assert (run.new, run.updated) == (0, 0)
    assert {m.external_id: m.published_at for m in feeds.mentions()} == before
    assert all(m.raw["resonanz_date_estimated"] for m in feeds.mentions())

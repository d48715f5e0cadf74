"""The knowledge base (approved answers per language, with tags, an owner and a review date) and
reply templates: reads and audited ``do_*`` writes.

Why review dates: an answer about prices or delivery times goes stale; an article past its
``review_at`` is still suggested but marked, and the knowledge page lists what is due so its owner
confirms or changes it (:func:`do_review_article` moves the date on by ``REVIEW_EVERY``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from resonanz.audit.actions import Actor, do_record
from resonanz.cases.reply_models import Article, ArticleStatus, Reply, ReplyStatus, ReplyTemplate
from resonanz.cases.templates_text import check_template
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.mentions.text import fold

REVIEW_EVERY = timedelta(days=180)
LANGS = ("de", "en")
MAX_TAGS = 20


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, unique, in the order given; refuses empty or long tags."""
    out: list[str] = []
    for i, raw in enumerate(tags):
        tag = raw.strip().lower()
        if not tag:
            continue
        if len(tag) > 60:
            raise InputError("a tag is at most 60 characters", location=f"tags[{i}]")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InputError(f"at most {MAX_TAGS} tags", location="tags")
    return out


def _check_article(title: str, body: str, lang: str) -> None:
    if not title.strip():
        raise InputError("the title is empty", location="title")
    if len(title) > 200:
        raise InputError("the title is at most 200 characters", location="title")
    if not body.strip():
        raise InputError("the text is empty", location="body")
    if lang not in LANGS:
        raise InputError(f"language must be one of {', '.join(LANGS)}", location="lang")


def _snapshot(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "lang": article.lang,
        "tags": list(article.tags),
        "status": article.status,
        "owner_id": article.owner_id,
        "review_at": article.review_at.isoformat() if article.review_at else None,
        "body_chars": len(article.body),
    }


# --- reads ----------------------------------------------------------------------------------------


def get_article(session: Session, *, id: int) -> Article:
    article = session.get(Article, id)
    if article is None:
        raise NotFoundError(f"article {id} does not exist")
    return article


def list_articles(
    session: Session,
    *,
    q: str | None = None,
    lang: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    due_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Article]:
    """Articles filtered by words in title/body (folded, every word must occur), language, tag,
    status and review date, newest change first. Tags are filtered in Python (JSON lists differ
    between engines); the knowledge base is small (hundreds of articles, not millions)."""
    stmt = select(Article)
    if lang:
        stmt = stmt.where(Article.lang == lang)
    if status:
        stmt = stmt.where(Article.status == status)
    if due_before is not None:
        stmt = stmt.where(Article.review_at.is_not(None), Article.review_at <= due_before)
    rows = list(session.scalars(stmt.order_by(Article.updated_at.desc(), Article.id.desc())))
    if tag:
        rows = [a for a in rows if tag.lower() in a.tags]
    if q:
        words = fold(q).split()
        rows = [a for a in rows if all(w in fold(f"{a.title} {a.body} {' '.join(a.tags)}") for w in words)]
    return rows[offset : offset + limit]


def count_due_for_review(session: Session, *, at: datetime | None = None) -> int:
    stamp = at or now()
    stmt = select(func.count()).select_from(Article).where(Article.review_at <= stamp, Article.status != "archived")
    return int(session.scalar(stmt) or 0)


# --- writes ---------------------------------------------------------------------------------------


def do_create_article(
    session: Session,
    *,
    title: str,
    body: str,
    lang: str,
    tags: Sequence[str] = (),
    status: str = ArticleStatus.published,
    owner_id: int | None = None,
    review_at: datetime | None = None,
    from_reply_id: int | None = None,
    actor: Actor | None,
) -> Article:
    _check_article(title, body, lang)
    if status not in ArticleStatus.__members__:
        raise InputError("status must be draft, published or archived", location="status")
    stamp = now()
    article = Article(
        title=title.strip(),
        body=body.strip(),
        lang=lang,
        tags=clean_tags(tags),
        status=status,
        owner_id=owner_id if owner_id is not None else (actor.user_id if actor else None),
        review_at=review_at or stamp + REVIEW_EVERY,
        from_reply_id=from_reply_id,
        created_by_id=actor.user_id if actor else None,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(article)
    session.flush()
    do_record(session, actor=actor, action="kb.article.create", object_type="kb_article", object_id=article.id,
              after=_snapshot(article))  # fmt: skip
    return article


def do_update_article(
    session: Session,
    *,
    article: Article,
    expected_version: int | None = None,
    actor: Actor | None,
    **changes: Any,
) -> Article:
    """Change title/body/lang/tags/status/owner_id/review_at. ``expected_version`` (the version the
    editor loaded) refuses an edit based on a stale read with a ConflictError."""
    if expected_version is not None and expected_version != article.version:
        raise ConflictError(f"article {article.id} was changed by someone else meanwhile; reload it")
    allowed = {"title", "body", "lang", "tags", "status", "owner_id", "review_at"}
    unknown = set(changes) - allowed
    if unknown:
        raise InputError(f"cannot change {', '.join(sorted(unknown))}", location=sorted(unknown)[0])
    before = _snapshot(article)
    if "tags" in changes:
        changes["tags"] = clean_tags(changes["tags"])
    if "status" in changes and changes["status"] not in ArticleStatus.__members__:
        raise InputError("status must be draft, published or archived", location="status")
    for key, value in changes.items():
        setattr(article, key, value.strip() if isinstance(value, str) and key in ("title", "body") else value)
    _check_article(article.title, article.body, article.lang)
    article.updated_at = now()
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"article {article.id} was changed by someone else meanwhile; reload it") from None
    do_record(session, actor=actor, action="kb.article.update", object_type="kb_article", object_id=article.id,
              before=before, after=_snapshot(article))  # fmt: skip
    return article


def do_review_article(session: Session, *, article: Article, actor: Actor | None) -> Article:
    """The owner confirms the article is still right: reviewed now, next review in REVIEW_EVERY."""
    before = _snapshot(article)
    stamp = now()
    article.reviewed_at = stamp
    article.review_at = stamp + REVIEW_EVERY
    article.updated_at = stamp
    session.flush()
    do_record(session, actor=actor, action="kb.article.review", object_type="kb_article", object_id=article.id,
              before=before, after=_snapshot(article))  # fmt: skip
    return article


def do_article_from_reply(
    session: Session, *, reply: Reply, title: str, tags: Sequence[str] = (), actor: Actor | None
) -> Article:
    """Turn a good sent reply into a draft article (a manager publishes it after a look)."""
    if reply.status != ReplyStatus.sent:
        raise ConflictError("only a sent reply can become an article")
    return do_create_article(
        session,
        title=title,
        body=reply.text,
        lang=reply.lang or "de",
        tags=tags,
        status=ArticleStatus.draft,
        from_reply_id=reply.id,
        actor=actor,
    )


def import_articles(session: Session, *, lines: Iterable[str], actor: Actor | None) -> list[Article]:
    """JSON lines ``{"title", "body", "lang", "tags"?, "status"?}``; all or nothing: the first bad
    line raises InputError naming its line number and field, and nothing is added."""
    made = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise InputError(f"not JSON: {exc}", location=f"line {number}") from None
        if not isinstance(data, dict):
            raise InputError("each line must be a JSON object", location=f"line {number}")
        missing = [k for k in ("title", "body", "lang") if not isinstance(data.get(k), str)]
        if missing:
            raise InputError(f"missing text field {missing[0]!r}", location=f"line {number}")
        try:
            made.append(
                do_create_article(
                    session,
                    title=data["title"],
                    body=data["body"],
                    lang=data["lang"],
                    tags=[str(t) for t in data.get("tags") or []],
                    status=str(data.get("status") or ArticleStatus.published),
                    actor=actor,
                )
            )
        except InputError as exc:
            raise InputError(exc.reason, location=f"line {number}, {exc.location}") from None
    return made


# --- templates ------------------------------------------------------------------------------------


def get_template(session: Session, *, id: int) -> ReplyTemplate:
    template = session.get(ReplyTemplate, id)
    if template is None:
        raise NotFoundError(f"template {id} does not exist")
    return template


def list_templates(session: Session, *, lang: str | None = None) -> list[ReplyTemplate]:
    stmt = select(ReplyTemplate).order_by(ReplyTemplate.name)
    if lang:
        stmt = stmt.where(or_(ReplyTemplate.lang == lang))
    return list(session.scalars(stmt))


def do_save_template(
    session: Session,
    *,
    name: str,
    body: str,
    lang: str,
    tags: Sequence[str] = (),
    template: ReplyTemplate | None = None,
    actor: Actor | None,
) -> ReplyTemplate:
    """Create (``template`` None) or change a template; unknown ``{variables}`` are refused by name."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError("a name of 1 to 100 characters is needed", location="name")
    if lang not in LANGS:
        raise InputError(f"language must be one of {', '.join(LANGS)}", location="lang")
    if not body.strip():
        raise InputError("the text is empty", location="body")
    check_template(body)
    clash = session.scalar(select(ReplyTemplate).where(ReplyTemplate.name == name))
    if clash is not None and clash is not template:
        raise ConflictError(f"a template named {name!r} exists already")
    stamp = now()
    before = None
    if template is None:
        template = ReplyTemplate(name=name, body=body, lang=lang, tags=clean_tags(tags), created_at=stamp,
                                 updated_at=stamp, created_by_id=actor.user_id if actor else None)  # fmt: skip
        session.add(template)
    else:
        before = {"name": template.name, "lang": template.lang, "body": template.body}
        template.name, template.body, template.lang, template.tags = name, body, lang, clean_tags(tags)
        template.updated_at = stamp
    session.flush()
    do_record(session, actor=actor, action="reply_template.save", object_type="reply_template",
              object_id=template.id, before=before, after={"name": name, "lang": lang, "body": body})  # fmt: skip
    return template


def do_delete_template(session: Session, *, template: ReplyTemplate, actor: Actor | None) -> None:
    do_record(session, actor=actor, action="reply_template.delete", object_type="reply_template",
              object_id=template.id, before={"name": template.name})  # fmt: skip
    session.delete(template)
    session.flush()

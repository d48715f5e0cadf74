"""The mentions explorer: search and filter all mentions, and one mention in detail.

Data comes from :mod:`resonanz.mentions.explorer` (the same service the API lists with); this
module reads the URL into a query, turns domain errors into messages next to the field that caused
them (a search with an unbalanced quote is a 400 page that points at the column, never a 500), and
renders. Post text is escaped by the template; post HTML goes through :func:`sanitise_html`.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.analysis.feedback import LABELS, do_correct
from resonanz.api.deps import DbSession
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import N_, translations
from resonanz.mentions import explorer
from resonanz.sources.service import list_sources
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.explorer_form import PAGE_SIZES, SORT_LABELS, SORTS, distinct_values, read_form
from resonanz.web.sanitise import safe_url, sanitise_html
from resonanz.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

#: counts stop here ("more than 10,000"), so a broad search never scans a million rows to count them
COUNT_CAP = 10_000
CORRECTABLE = ("sentiment", "intent")

#: messages the domain raises for a search box text, so the catalogue can translate them
DOMAIN_MESSAGES = (
    N_('unbalanced double quote: close the phrase with another "'),
    N_("the search has no words to look for"),
)
#: ExplorerQuery's field -> the form field its error is shown next to
FORM_FIELDS = {"source_ids": "source", "platforms": "platform", "langs": "lang", "sentiments": "sentiment",
               "intents": "intent", "since": "since", "until": "until", "author": "author", "q": "q"}  # fmt: skip
TASK_NAMES = {"sentiment": N_("sentiment"), "intent": N_("intent"), "offensive": N_("offensiveness"),
              "language": N_("language")}  # fmt: skip
_COLUMN = re.compile(r"column (\d+)")

LABEL_NAMES = {
    "negative": N_("negative"),
    "neutral": N_("neutral"),
    "positive": N_("positive"),
    "complaint": N_("complaint"),
    "question": N_("question"),
    "praise": N_("praise"),
    "suggestion": N_("suggestion"),
    "other": N_("other"),
}


def _search_error(exc: InputError, query: str, gettext: Any) -> dict[str, Any]:
    """A search error as the page shows it: the translated reason and, when the domain named a
    column, the query with a caret under that position."""
    column = None
    match = _COLUMN.search(exc.location or "")
    if match:
        column = max(1, min(int(match.group(1)), len(query) + 1))
    return {
        "message": gettext(exc.reason),
        "column": column,
        "query": query,
        "caret": " " * ((column or 1) - 1) + "^",
    }


def _valid_id(mention_id: int) -> int:
    """``mention_id`` if a database integer can hold it; NotFoundError otherwise (a number from a
    URL may be of any size, and SQLite refuses one over 64 bits with an OverflowError)."""
    if not 0 < mention_id < 2**63:
        raise NotFoundError(f"no mention with id {mention_id}")
    return mention_id


def _filter_options(session: Session) -> dict[str, Any]:
    return {
        "sources": [(s.id, s.name) for s in list_sources(session)],
        "platforms": distinct_values(session, "platform"),
        "langs": [v for v in distinct_values(session, "lang") if v != "und"],
        "sentiments": LABELS["sentiment"],
        "intents": LABELS["intent"],
        "sorts": [(key, SORT_LABELS[key]) for key in SORTS],
        "page_sizes": PAGE_SIZES,
        "label_names": LABEL_NAMES,
    }


@router.get("/mentions", response_class=HTMLResponse)
def mention_list(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.mentions_read)]
) -> HTMLResponse:
    """The explorer: search box, filters, sort, and one keyset page of results."""
    gettext = translations(locale_of(request, principal)).ugettext
    form, query_args = read_form(request.query_params, tz=principal.time_zone, gettext=gettext)
    after = form.after
    page, total, search_error, page_error = None, None, None, None
    if not form.errors:
        try:
            query = explorer.ExplorerQuery(**query_args)
            page = explorer.list_page(session, query=query, after=after, limit=form.limit)
            total = explorer.count(session, query=query, cap=COUNT_CAP)
        except ValidationError as exc:
            for error in exc.errors():
                field = FORM_FIELDS.get(str(error["loc"][0]) if error["loc"] else "", "q")
                form.errors[field] = gettext("This value is not accepted: %(reason)s") % {"reason": error["msg"]}
        except InputError as exc:
            if after and (exc.location or "").startswith(("after", "cursor")):
                page_error = gettext("This page link is no longer valid. Start again from the first page.")
            else:
                search_error = _search_error(exc, form.q, gettext)
    status = 400 if (form.errors or search_error or page_error) else 200
    context = {
        "principal": principal,
        "form": form,
        "page": page,
        "total": total,
        "count_cap": COUNT_CAP,
        "after": after,
        "search_error": search_error,
        "page_error": page_error,
        "options": _filter_options(session),
    }
    return render(request, "mentions/list.html", context, status_code=status)


@router.get("/mentions/{mention_id}", response_class=HTMLResponse)
def mention_detail(
    request: Request,
    mention_id: int,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.mentions_read)],
) -> HTMLResponse:
    """One mention: text, analysis with its reasons, thread, author, raw payload (``mentions.raw``)."""
    gettext = translations(locale_of(request, principal)).ugettext
    try:
        detail = explorer.get_detail(session, id=_valid_id(mention_id))
    except NotFoundError:
        context = {"principal": principal, "title": gettext("Not found"), "back_href": "/mentions",
                   "message": gettext("There is no mention with the number %(id)s.") % {"id": mention_id},
                   "back_label": gettext("Back to the mentions")}  # fmt: skip
        return render(request, "error.html", context, status_code=404)
    mention = detail.mention
    can_raw = principal.can(Permission.mentions_raw)
    context = {
        "principal": principal,
        "detail": detail,
        "m": mention,
        "body_html": sanitise_html(mention.html) if mention.html else None,
        "link": safe_url(mention.url),
        "analysis": {entry.stage: entry.result for entry in detail.analysis},
        "can_raw": can_raw,
        "raw_json": json.dumps(mention.raw, ensure_ascii=False, indent=2, default=str) if can_raw else None,
        "can_correct": principal.can(Permission.mentions_correct),
        "labels": {task: LABELS[task] for task in CORRECTABLE},
        "label_names": LABEL_NAMES,
        "task_names": TASK_NAMES,
        "corrected": request.query_params.get("corrected") in CORRECTABLE,
        "safe_url": safe_url,
    }
    return render(request, "mentions/detail.html", context)


@router.post("/mentions/{mention_id}/corrections", response_class=HTMLResponse)
def correct_mention(
    request: Request,
    mention_id: int,
    session: DbSession,
    principal: Annotated[Principal, require_page(Permission.mentions_correct)],
    form: CsrfForm,
) -> Response:
    """Correct the sentiment or intent through the feedback action, then back to the mention."""
    gettext = translations(locale_of(request, principal)).ugettext
    task, label, note = (str(form.get(name) or "")[:1000] for name in ("task", "label", "note"))
    try:
        if task not in CORRECTABLE:
            raise InputError(f"cannot correct {task!r} here", location="task")
        do_correct(session, mention_id=_valid_id(mention_id), task=task, label=label, actor=principal.email,
                   note=note.strip() or None)  # fmt: skip
        session.commit()
    except NotFoundError:
        context = {"principal": principal, "title": gettext("Not found"), "back_href": "/mentions",
                   "message": gettext("There is no mention with the number %(id)s.") % {"id": mention_id}}  # fmt: skip
        return render(request, "error.html", context, status_code=404)
    except InputError:
        session.rollback()
        context = {"principal": principal, "title": gettext("Correction not saved"),
                   "message": gettext("Choose one of the listed values."), "back_href": f"/mentions/{mention_id}",
                   "back_label": gettext("Back to the mention")}  # fmt: skip
        return render(request, "error.html", context, status_code=400)
    return RedirectResponse(f"/mentions/{mention_id}?corrected={task}#analysis", status_code=303)

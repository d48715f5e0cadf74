"""Saved queries and brands on the command line (the ``query`` group's write commands and the
``brand`` group), over :mod:`resonanz.listening.queries` and :mod:`resonanz.listening.brands`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from resonanz.cli.context import console, database, fmt_time, handle_errors, print_json, print_table
from resonanz.cli.query import _show_syntax_error, app
from resonanz.listening import brands as brand_service
from resonanz.listening import queries as query_service
from resonanz.listening.models import Query
from resonanz.listening.query import QuerySyntaxError
from resonanz.listening.schemas import BrandRead, QueryRead, QueryVersionRead

brand_app = typer.Typer(help="Brands: your own, your products, your competitors.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
NoApply = Annotated[bool, typer.Option("--no-apply", help="leave re-applying to history to a worker")]
Note = Annotated[str | None, typer.Option(help="why (kept with the version)")]
Ref = Annotated[str, typer.Argument(help="the query's id or name")]


def _syntax_exit(exc: QuerySyntaxError) -> typer.Exit:
    _show_syntax_error(exc)
    return typer.Exit(5)


def _apply_now(no_apply: bool) -> None:
    """Run the queued re-apply jobs here, so the command ends with complete matches."""
    if no_apply:
        return
    from resonanz.worker.runner import drain

    with console.status("applying to stored mentions …"):
        drain(database(), kinds=[query_service.REAPPLY_KIND])


def _read(session: Any, query: Query) -> dict[str, Any]:
    counts = query_service.match_counts(session, query_ids=[query.id])
    return QueryRead.of(query, matches=counts.get(query.id, 0)).model_dump(mode="json")


@app.command("add")
@handle_errors
def add(
    name: Annotated[str, typer.Argument(help="a unique name")],
    text: Annotated[str, typer.Argument(help="the query text")],
    brand: Annotated[str | None, typer.Option(help="the brand's id or name")] = None,
    note: Note = None,
    no_apply: NoApply = False,
    as_json: AsJson = False,
) -> None:
    """Save a new query (version 1) and apply it to the stored mentions."""
    with database().sessions() as session:
        brand_id = brand_service.brand_by_ref(session, ref=brand).id if brand else None
        try:
            query = query_service.do_create_query(session, name=name, text=text, brand_id=brand_id, note=note)
        except QuerySyntaxError as exc:
            raise _syntax_exit(exc) from exc
        session.commit()
        qid = query.id
    _apply_now(no_apply)
    _show(str(qid), as_json)


@app.command("list")
@handle_errors
def list_(
    brand: Annotated[str | None, typer.Option(help="only this brand's queries (id or name)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="inactive queries too")] = False,
    as_json: AsJson = False,
) -> None:
    """Saved queries with their version, brand, stored matches and whether history is applied."""
    with database().sessions() as session:
        brand_id = brand_service.brand_by_ref(session, ref=brand).id if brand else None
        queries = query_service.list_queries(session, brand_id=brand_id, active=None if all_ else True)
        counts = query_service.match_counts(session, query_ids=[q.id for q in queries])
        brands = {b.id: b.name for b in brand_service.list_brands(session)}
        reads = [QueryRead.of(q, matches=counts.get(q.id, 0)) for q in queries]
    if as_json:
        print_json([r.model_dump(mode="json") for r in reads])
        return
    rows = [
        (
            r.id,
            r.name,
            brands.get(r.brand_id or 0, ""),
            f"v{r.version}",
            f"{r.matches:,}",
            "yes" if r.applied else "applying",
            "" if r.active else "inactive",
            r.text,
        )
        for r in reads
    ]
    print_table("queries", ["id", "name", "brand", "version", "matches", "applied", "", "text"], rows)


def _show(ref: str, as_json: bool) -> None:
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        data = _read(session, query)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['name']}[/bold] (#{data['id']}, v{data['version']})", highlight=False, markup=True)
    console.print(data["text"], markup=False, highlight=False)
    applied = "applied to history" if data["applied"] else "being applied to history"
    state = "" if data["active"] else ", inactive"
    console.print(f"{data['matches']:,} stored matches, {applied}{state}", highlight=False)


@app.command("show")
@handle_errors
def show(ref: Ref, as_json: AsJson = False) -> None:
    """One saved query."""
    _show(ref, as_json)


@app.command("history")
@handle_errors
def history(ref: Ref, as_json: AsJson = False) -> None:
    """The query's versions, newest first: text, note, who and when."""
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        versions = [QueryVersionRead.model_validate(v) for v in query_service.list_versions(session, query_id=query.id)]
    if as_json:
        print_json([v.model_dump(mode="json") for v in versions])
        return
    rows = [(f"v{v.version}", fmt_time(v.changed_at), v.changed_by_id or "cli", v.note or "", v.text) for v in versions]
    print_table(f"versions of {query.name}", ["version", "changed", "by", "note", "text"], rows)


@app.command("edit")
@handle_errors
def edit(
    ref: Ref,
    text: Annotated[str | None, typer.Option(help="the new text (a new version)")] = None,
    name: Annotated[str | None, typer.Option(help="a new name")] = None,
    brand: Annotated[str | None, typer.Option(help="the brand (id or name); '' for none")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="match new mentions or not")] = None,
    note: Note = None,
    no_apply: NoApply = False,
    as_json: AsJson = False,
) -> None:
    """Change a query; a new text is a new version and is re-applied to history."""
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        brand_id: int | query_service.Unset | None = query_service.UNSET
        if brand is not None:
            brand_id = brand_service.brand_by_ref(session, ref=brand).id if brand else None
        try:
            query_service.do_update_query(
                session, query=query, text=text, name=name, brand_id=brand_id, active=active, note=note
            )
        except QuerySyntaxError as exc:
            raise _syntax_exit(exc) from exc
        session.commit()
        qid = query.id
    _apply_now(no_apply)
    _show(str(qid), as_json)


@app.command("restore")
@handle_errors
def restore(
    ref: Ref,
    version: Annotated[int, typer.Argument(min=1, help="the version whose text becomes current again")],
    note: Note = None,
    no_apply: NoApply = False,
    as_json: AsJson = False,
) -> None:
    """Make an old version's text current again (as a new version)."""
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        query_service.do_restore_version(session, query=query, version=version, note=note)
        session.commit()
        qid = query.id
    _apply_now(no_apply)
    _show(str(qid), as_json)


@app.command("reapply")
@handle_errors
def reapply(ref: Ref, no_apply: NoApply = False, as_json: AsJson = False) -> None:
    """Rebuild the query's stored matches over all mentions."""
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        query_service.do_reapply(session, query=query)
        session.commit()
        qid = query.id
    _apply_now(no_apply)
    _show(str(qid), as_json)


@app.command("remove")
@handle_errors
def remove(ref: Ref) -> None:
    """Delete a query with its versions and stored matches."""
    with database().sessions() as session:
        query = query_service.query_by_ref(session, ref=ref)
        name = query.name
        query_service.do_remove_query(session, query=query)
        session.commit()
    console.print(f"removed query {name}", markup=False, highlight=False)


@brand_app.command("add")
@handle_errors
def brand_add(
    name: Annotated[str, typer.Argument(help="the brand's name")],
    kind: Annotated[str, typer.Option(help="own, product or competitor")] = "own",
    alias: Annotated[list[str] | None, typer.Option(help="another name it goes by (repeat)")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    as_json: AsJson = False,
) -> None:
    """Add a brand."""
    with database().sessions() as session:
        brand = brand_service.do_create_brand(
            session, name=name, kind=kind, aliases=alias or [], description=description
        )
        session.commit()
        read = BrandRead.of(brand)
    if as_json:
        print_json(read.model_dump(mode="json"))
        return
    console.print(f"added brand {read.name} (#{read.id}, {read.kind})", markup=False, highlight=False)


@brand_app.command("list")
@handle_errors
def brand_list(as_json: AsJson = False) -> None:
    """Brands with their kind, aliases and number of queries."""
    with database().sessions() as session:
        brands = brand_service.list_brands(session)
        counts = brand_service.query_counts(session)
        reads = [(BrandRead.of(b), counts.get(b.id, 0)) for b in brands]
    if as_json:
        print_json([{**r.model_dump(mode="json"), "queries": n} for r, n in reads])
        return
    rows = [(r.id, r.name, r.kind, ", ".join(r.aliases), n) for r, n in reads]
    print_table("brands", ["id", "name", "kind", "aliases", "queries"], rows)


@brand_app.command("remove")
@handle_errors
def brand_remove(ref: Annotated[str, typer.Argument(help="the brand's id or name")]) -> None:
    """Remove a brand; its queries stay, without a brand."""
    with database().sessions() as session:
        brand = brand_service.brand_by_ref(session, ref=ref)
        name = brand.name
        brand_service.do_remove_brand(session, brand=brand)
        session.commit()
    console.print(f"removed brand {name}", markup=False, highlight=False)

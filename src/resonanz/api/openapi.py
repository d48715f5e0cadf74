"""The API's own description: ``/api/v1/openapi.json`` and a reference page at ``/api/v1/docs``.

The spec holds only the ``/api/v1`` routes (pages, webhooks and the health check are not part of
the API contract), declares both ways in (a personal token as ``Authorization: Bearer``, or the web
session cookie plus ``X-CSRF-Token`` for unsafe methods) and the one error shape (``Problem``).

FastAPI's Swagger UI loads its script from a CDN, which this project does not allow, so the docs
page is rendered here, server-side, from the same spec: one section per operation with its
parameters, body, answers and a ``curl`` line. No script at all, so the web layer's strict CSP holds.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts

from resonanz import __version__
from resonanz.api.deps import PermissionCheck
from resonanz.api.problems import FieldError, Problem

PREFIX = "/api/v1"

DESCRIPTION = """\
The Resonanz JSON API: mentions (search, filters, detail, corrections), sources and users.

**Signing in.** Create a personal token on the *Settings → API tokens* page (or `POST /api/v1/me/tokens`)
and send it as `Authorization: Bearer rz_…`. A browser session (cookie `rz_session`) works too; then
unsafe methods need the header `X-CSRF-Token`.

**Errors** are `application/problem+json` (RFC 9457); validation problems list every invalid field in
`errors` with its path, e.g. `["query", "limit"]`.

**Lists** page by cursor: pass `next_cursor` as `cursor`, or follow the `Link: <…>; rel="next"` header.

**Single resources** carry an `ETag`; send it as `If-None-Match` to get `304 Not Modified`, and as
`If-Match` on `PATCH`/`DELETE` to be refused with `412` when someone changed the resource meanwhile.
"""

TAGS = [
    {"name": "mentions", "description": "What people say: search, filter, read and correct the analysis."},
    {"name": "sources", "description": "The connectors Resonanz pulls mentions from or receives them with."},
    {
        "name": "users",
        "description": "People who sign in, their roles, and (for everyone) their own profile and tokens.",
    },
]


def build_spec(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API routes of ``app``."""
    spec = get_openapi(
        title="Resonanz API",
        version=__version__,
        description=DESCRIPTION,
        routes=app.routes,
        tags=TAGS,
    )
    # Pages, webhooks and the health check are routes of the same app but not part of the API.
    spec["paths"] = {path: ops for path, ops in spec.get("paths", {}).items() if path.startswith(PREFIX + "/")}
    for (method, path), permission in _permissions(app).items():
        op = spec["paths"].get(path, {}).get(method)
        if op is not None:
            op["x-permission"] = permission
            op["description"] = (op.get("description", "") + f"\n\nNeeds the permission `{permission}`.").strip()
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    ref = "#/components/schemas/{model}"
    schemas["FieldError"] = FieldError.model_json_schema(ref_template=ref)
    problem = Problem.model_json_schema(ref_template=ref)
    problem.pop("$defs", None)
    schemas["Problem"] = problem
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "a personal API token (`rz_…`), created under Settings → API tokens",
        },
        "cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "rz_session",
            "description": "the web session; unsafe methods also need the `X-CSRF-Token` header",
        },
    }
    spec["security"] = [{"bearer": []}, {"cookie": []}]
    return spec


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


_CONVERTER = re.compile(r"\{(\w+):[^}]+\}")


def _permissions(app: FastAPI) -> dict[tuple[str, str], str]:
    """(method, path) -> the permission its ``require(...)`` asks for, read from the dependency tree,
    so the reference says what each operation needs without a second place to keep it."""
    found: dict[tuple[str, str], str] = {}
    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            continue
        checks = [c for c in _calls(ctx.dependant) if isinstance(c, PermissionCheck)]
        for method in ctx.methods or ():
            if checks:
                # the spec writes "/queries/{query_id}" for a route declared "/queries/{query_id:int}"
                found[(method.lower(), _CONVERTER.sub(r"{\1}", str(ctx.path)))] = checks[0].permission.value
    return found


def spec_of(app: FastAPI) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(app.state, "api_spec", None)
    if cached is None:
        cached = build_spec(app)
        app.state.api_spec = cached
    return cached


# --- the reference page -------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff;line-height:1.5}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 4rem}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1.1rem;margin:2rem 0 .25rem}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f3f5f7;padding:.75rem;overflow-x:auto;border-radius:4px}
.method{display:inline-block;min-width:4.2rem;font-weight:700;color:#fff;background:#0b5cad;border-radius:3px;
padding:0 .4rem;margin-right:.5rem;text-align:center}.method.post{background:#1a7f37}.method.patch{background:#9a6700}
.method.delete{background:#cf222e}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;border-bottom:1px solid #d0d7de;padding:.3rem .5rem;vertical-align:top}
nav ul{columns:2;padding-left:1.2rem}a{color:#0b5cad}a:focus,a:hover{outline:2px solid #0b5cad}
.perm{color:#57606a;font-size:.9rem}
@media (max-width:40rem){nav ul{columns:1}th,td{display:block}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value).replace("``", "`"), quote=True)


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(f"<code>{_e(v)}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{_e(schema['const'])}</code>"
    text = _e(schema.get("type", "any"))
    if "format" in schema:
        text += f" ({_e(schema['format'])})"
    return text


def _constraints(schema: dict[str, Any]) -> str:
    keys = ("minimum", "maximum", "minLength", "maxLength", "pattern", "default")
    parts = [f"{k}: <code>{_e(json.dumps(schema[k]))}</code>" for k in keys if k in schema]
    return "; ".join(parts)


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    anchor = op.get("operationId", f"{method}-{path}")
    out = [
        f'<section id="{_e(anchor)}"><h3><span class="method {method}">{method.upper()}</span>'
        f"<code>{_e(path)}</code></h3>",
        f"<p><strong>{_e(op.get('summary', ''))}</strong></p>",
    ]
    if op.get("description"):
        out.append("".join(f"<p>{_e(p)}</p>" for p in op["description"].split("\n\n")))
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>")
        for p in params:
            schema = p.get("schema", {})
            req = " (required)" if p.get("required") else ""
            desc = _e(p.get("description", schema.get("description", "")))
            extra = _constraints(schema)
            out.append(
                f"<tr><td><code>{_e(p['name'])}</code>{req}</td><td>{_e(p['in'])}</td>"
                f"<td>{_type_of(schema)}</td><td>{desc}{'<br>' + extra if extra else ''}</td></tr>"
            )
        out.append("</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        out.append(f"<p>Body (JSON): {_type_of(body.get('schema', {}))}</p>")
        for name, example in body.get("examples", {}).items():
            out.append(f"<p>Example <em>{_e(name)}</em>: {_e(example.get('summary', ''))}</p>")
            out.append(f"<pre>{_e(json.dumps(example.get('value'), indent=2, ensure_ascii=False))}</pre>")
    out.append("<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>")
    for code, resp in op.get("responses", {}).items():
        content = resp.get("content", {})
        shapes = ", ".join(
            f"{_type_of(c.get('schema', {}))} <small>({_e(media)})</small>" for media, c in content.items()
        )
        out.append(f"<tr><td>{_e(code)}</td><td>{_e(resp.get('description', ''))}</td><td>{shapes}</td></tr>")
    out.append("</table>")
    curl = 'curl -H "Authorization: Bearer $RESONANZ_TOKEN" '
    if method != "get":
        curl += f"-X {method.upper()} "
        if body:
            curl += "-H 'Content-Type: application/json' -d '{…}' "
    out.append(f"<pre>{_e(curl)}http://localhost:8000{_e(path)}</pre></section>")
    return "".join(out)


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    out = [f'<section id="schema-{_e(name)}"><h3>{_e(name)}</h3>']
    if schema.get("description"):
        out.append(f"<p>{_e(schema['description'])}</p>")
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        out.append("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>")
        for field, sub in props.items():
            req = " (required)" if field in required else ""
            extra = _constraints(sub)
            desc = _e(sub.get("description", ""))
            out.append(
                f"<tr><td><code>{_e(field)}</code>{req}</td><td>{_type_of(sub)}</td>"
                f"<td>{desc}{'<br>' + extra if extra else ''}</td></tr>"
            )
        out.append("</table>")
    elif "enum" in schema:
        out.append(f"<p>One of {_type_of(schema)}</p>")
    out.append("</section>")
    return "".join(out)


def render_reference(spec: dict[str, Any]) -> str:
    """The whole reference page as HTML (every spec value escaped)."""
    ops: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            tag = (op.get("tags") or ["other"])[0]
            ops.setdefault(tag, []).append((path, method, op))
    toc = []
    body = []
    for tag in [t["name"] for t in spec.get("tags", [])] + sorted(set(ops) - {t["name"] for t in spec.get("tags", [])}):
        if tag not in ops:
            continue
        desc = next((t.get("description", "") for t in spec.get("tags", []) if t["name"] == tag), "")
        body.append(f'<h2 id="tag-{_e(tag)}">{_e(tag.capitalize())}</h2><p>{_e(desc)}</p>')
        for path, method, op in ops[tag]:
            anchor = op.get("operationId", f"{method}-{path}")
            toc.append(f'<li><a href="#{_e(anchor)}">{method.upper()} {_e(path)}</a></li>')
            body.append(_operation(path, method, op))
    body.append('<h2 id="schemas">Schemas</h2>')
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        body.append(_schema_section(name, schema))
    intro = "".join(f"<p>{_e(p)}</p>" for p in spec["info"].get("description", "").split("\n\n"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(spec['info']['title'])} {_e(spec['info']['version'])}</title>"
        f'<link rel="stylesheet" href="{PREFIX}/docs.css"></head><body><main>'
        f"<h1>{_e(spec['info']['title'])} <small>{_e(spec['info']['version'])}</small></h1>{intro}"
        f'<p>Machine-readable: <a href="{PREFIX}/openapi.json">openapi.json</a>.</p>'
        f"<nav aria-label='Operations'><ul>{''.join(toc)}</ul></nav>{''.join(body)}</main></body></html>"
    )


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the spec lists for ``path`` (a concrete path such as ``/api/v1/me``), for the
    ``Allow`` header of a 405 answer."""
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "api_path_patterns", None)
    if patterns is None:
        patterns = []
        for template, ops in spec_of(app).get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            patterns.append((re.compile(f"^{regex}$"), sorted(m.upper() for m in ops)))
        app.state.api_path_patterns = patterns
    for pattern, methods in patterns:
        if pattern.match(path):
            return methods
    return []


def install(app: FastAPI) -> None:
    """Serve the spec and the reference page; keep FastAPI's own whole-app ``/openapi.json`` off."""

    @app.get(PREFIX + "/openapi.json", include_in_schema=False)
    def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(spec_of(request.app))

    @app.get(PREFIX + "/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs_page(request: Request) -> HTMLResponse:
        return HTMLResponse(render_reference(spec_of(request.app)))

    @app.get(PREFIX + "/docs.css", include_in_schema=False)
    def docs_css() -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    def _openapi() -> dict[str, Any]:
        return spec_of(app)

    app.openapi = _openapi  # type: ignore[method-assign]
    app.state.allowed_methods = lambda path: allowed_methods(app, path)

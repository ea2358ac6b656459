"""URLs for list rows: ``row_url``, the ``row_url`` template global.

A page of 50 rows asks for a few URLs per row that differ only in the row's id. Building
each with ``url_for`` costs a routing build per row (quoting, converters, the query string).
``row_url`` builds the URL once per request for each endpoint and set of fixed arguments,
with placeholder ids, and then writes each row's ids into that template: the same string
``url_for`` gives (script root, converters, quoting), without a build per row.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request, url_for

try:  # Flask 3.0-3.1's context variables: a lookup without the proxies' cost
    from flask.globals import _cv_app, _cv_request
except ImportError:  # pragma: no cover - a Flask that changed them: the public proxies
    _cv_app = _cv_request = None  # type: ignore[assignment]
from werkzeug.routing import BuildError, IntegerConverter

# Where a row's id goes while the template is built: the same number of digits each, so
# one is never part of another, and large enough to be found nowhere else in a URL.
_PLACEHOLDER_BASE = 7_391_846_205_000
# The name in ``g`` of (the request they were made for, its templates).
_KEPT_IN_G = "_row_url_templates"


def row_url(endpoint: str, /, **values: Any) -> str:
    """``url_for(endpoint, **values)``, built once per request for each endpoint and set of
    non-int values, then reused with each row's int values (ids) written in.

    Only non-negative ints are written in; str and None values are fixed parts of the
    template. Any other value, a relative (".name") endpoint, or an endpoint whose URL an
    int cannot be written into safely (several rules, defaults, a converter that formats
    ints its own way) goes to ``url_for`` itself, which also raises its usual errors.
    """
    ids: list[int] = []
    shape: list[object] = [endpoint]
    for name, value in values.items():
        if type(value) is int and value >= 0:
            ids.append(value)
            shape.append(name)
        elif value is None or type(value) is str:
            shape.append((name, value))
        else:
            return url_for(endpoint, **values)
    templates = _templates()
    if not ids or templates is None:
        return url_for(endpoint, **values)
    key = tuple(shape)
    try:
        template = templates[key]
    except KeyError:
        template = templates[key] = _template_for(endpoint, values)
    if template is None:
        return url_for(endpoint, **values)
    return template.format(*ids)


def _templates() -> dict[tuple[object, ...], str | None] | None:
    """This request's templates, kept in ``g`` (None outside an app context). Dropped when ``g`` outlives the request they
    were made in (the test client can reuse one app context for several requests, and the
    script root or host may differ between them).

    Read through Flask's context variables rather than the ``g`` and ``request`` proxies:
    a page asks a hundred times, and each proxy costs more than the rest of the lookup."""
    if _cv_app is None:
        if not has_app_context():
            return None
        where, request_context = g, (request._get_current_object() if has_request_context() else None)
    else:
        app_context = _cv_app.get(None)
        if app_context is None:
            return None
        where, request_context = app_context.g, _cv_request.get(None)
    kept = where.__dict__.get(_KEPT_IN_G)
    if kept is None or kept[0] is not request_context:
        kept = (request_context, {})
        setattr(where, _KEPT_IN_G, kept)
    templates: dict[tuple[object, ...], str | None] = kept[1]
    return templates


def _template_for(endpoint: str, values: dict[str, Any]) -> str | None:
    """A ``str.format`` template of the URL, with ``{0}``, ``{1}``... where the ids go;
    None when the ids cannot be written in safely, so ``row_url`` uses ``url_for``."""
    if endpoint.startswith("."):
        return None
    try:
        rules = list(current_app.url_map.iter_rules(endpoint))
    except KeyError:
        return None
    if len(rules) != 1:  # which rule url_for picks could depend on the values
        return None
    rule = rules[0]
    placeholders: dict[str, Any] = {}
    marks: list[str] = []
    for name, value in values.items():
        if type(value) is int:
            if name in (rule.defaults or {}):
                return None
            converter = rule._converters.get(name)  # werkzeug's converter of each argument
            if converter is not None and not _writes_plain_digits(converter):
                return None
            number = _PLACEHOLDER_BASE + len(marks)
            marks.append(str(number))
            placeholders[name] = number
        else:
            placeholders[name] = value
    try:
        url = url_for(endpoint, **placeholders)
    except BuildError:
        return None
    if any(url.count(mark) != 1 for mark in marks):
        return None
    template = url.replace("{", "{{").replace("}", "}}")
    for index, mark in enumerate(marks):
        template = template.replace(mark, "{%d}" % index)
    return template


def _writes_plain_digits(converter: object) -> bool:
    """Whether the path converter writes a non-negative int as ``str(value)`` and takes any
    such value: werkzeug's ``int`` without ``fixed_digits``, ``min`` or ``max``."""
    return (
        type(converter) is IntegerConverter
        and not converter.fixed_digits
        and converter.min is None
        and converter.max is None
    )

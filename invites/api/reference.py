"""The API's description: the OpenAPI 3.1 document that flask-smorest builds from the
schemas and operations (``/api/v1/openapi.json``), and a reference page made from that
same document by a template (``/api/v1/docs``): no script, so it passes the app's CSP.
Both are public, like any API documentation; neither says anything of an organization."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from markupsafe import Markup, escape

from invites.api import schemas
from invites.api.resources import bp as resources

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")

BEARER = {"type": "http", "scheme": "bearer",
          "description": "An organization API token, made under API Tokens by an owner"}


class InvitesApi(Api):
    """flask-smorest's Api, documenting errors in the app's JSON shape
    (:func:`invites.errors.json_error`), which also answers them: flask-smorest's own
    error handler would answer the whole app's errors in its shape."""

    ERROR_SCHEMA = schemas.Error

    def _register_error_handlers(self) -> None:
        pass


def register_api(app: Flask) -> None:
    """Register the API's operations with flask-smorest (which documents them) and its
    reference pages."""
    api = InvitesApi(app, spec_kwargs={
        "info": {"description": "Invite people, read who joined and settle join requests from another "
                                "system. Every request presents an organization API token: "
                                "`Authorization: Bearer <token>`."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
    })
    api.spec.components.security_scheme("bearerAuth", BEARER)
    api.register_blueprint(resources)
    app.register_blueprint(bp)


def document() -> dict[str, Any]:
    api: InvitesApi = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec: dict[str, Any] = api.spec.to_dict()
    return spec


@bp.route("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(document())


@bp.route("/docs")
def docs() -> ResponseReturnValue:
    spec = document()
    operations = [
        (path, method.upper(), operation, _answers(spec, operation))
        for path, item in spec["paths"].items()
        for method, operation in item.items() if method in METHODS
    ]
    return render_template("api/reference.html", spec=spec, operations=operations)


METHODS = ("get", "post", "put", "patch", "delete")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


@bp.app_template_filter("code_spans")
def code_spans(text: object) -> Markup:
    """The document's text, escaped, its CommonMark code spans (`x`, and ``x`` from the
    docstrings flask-smorest reads) shown as <code> rather than as backticks."""
    return Markup(CODE_SPAN.sub(lambda m: f"<code>{m.group(2).strip()}</code>", str(escape(text or ""))))


def _answers(spec: dict[str, Any], operation: dict[str, Any]) -> list[tuple[str, str]]:
    """(status, description) of each documented answer, shared ones ($ref) looked up."""
    answers = []
    for status, answer in operation.get("responses", {}).items():
        if "$ref" in answer:
            answer = spec["components"]["responses"].get(answer["$ref"].split("/")[-1], {})
        answers.append((status, answer.get("description", "")))
    return answers

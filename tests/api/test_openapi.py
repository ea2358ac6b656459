"""The API's description (issue 20): ``/api/v1/openapi.json`` is a valid OpenAPI 3.1
document that documents every route of the API with its methods and the bearer scheme,
and ``/api/v1/docs`` is a readable page of the same operations under the app's CSP."""
import re

from openapi_spec_validator import validate

from invites.api.reference import code_spans

API = "/api/v1/"
DOCUMENTS = {"/api/v1/openapi.json", "/api/v1/docs"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app):
    """{OpenAPI path: {methods}} of every API rule of the URL map but the two documents."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule in DOCUMENTS:
            continue
        # "<int:invitation_id>" and "<any(accept, reject):decision>" are "{invitation_id}", "{decision}".
        path = re.sub(r"<(?:[^:<>]+:)?([^<>:]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(rule.methods - SKIPPED_METHODS)
    return routes


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # raises on any error of the document


def test_the_document_is_public_and_needs_no_token(client):
    assert client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer nonsense"}).status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_every_api_route_is_documented_with_its_methods(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    routes = api_routes(app)
    assert len(routes) >= 10, routes
    documented = {
        path: {method.upper() for method in item if method in ("get", "post", "put", "patch", "delete")}
        for path, item in spec["paths"].items()
    }
    assert documented == routes


def test_every_operation_documents_its_answers_and_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert "default" in responses, (method, path)  # 401, 403, 404, 409... in the error shape
            assert operation.get("summary"), (method, path)
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "field"}


def test_the_bearer_scheme_is_declared_and_required(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"].lower() == "bearer"
    assert {"bearerAuth": []} in spec["security"]
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            # No operation opts out of the document-wide requirement.
            assert operation.get("security", spec["security"]) == spec["security"], method


def test_the_reference_page_lists_every_operation(app, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    spec = client.get("/api/v1/openapi.json").get_json()
    count = 0
    for path, methods in api_routes(app).items():
        for method in methods:
            assert f"<code>{method} {path}</code>" in html, (method, path)
            count += 1
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            summary = operation.get("summary", "")
            assert str(code_spans(summary)) in html, summary  # ``url`` shown as <code>url</code>
    assert count >= 14
    assert "openapi.json" in html and "Bearer" in html


def test_the_reference_page_runs_no_script_of_its_own_or_from_elsewhere(client):
    response = client.get("/api/v1/docs")
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, "the app's Content-Security-Policy is missing"
    assert csp == client.get("/login").headers["Content-Security-Policy"]  # the app's, as on any page
    script_src = re.search(r"script-src ([^;]*)", csp) or re.search(r"default-src ([^;]*)", csp)
    assert script_src and "'unsafe-inline'" not in script_src.group(1)
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
    for tag in scripts:
        src = re.search(r'\bsrc="([^"]*)"', tag)
        assert src, f"an inline script: {tag}"
        assert src.group(1).startswith("/static/"), tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "a script with a body"
    for tag in re.findall(r"<(?:link|script|img|iframe)\b[^>]*>", html, flags=re.IGNORECASE):
        assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), f"a resource from another host: {tag}"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    assert "<style" not in html.lower(), "an inline style sheet"

"""The JSON API (issue 20, SPEC F23): ``/api/v1``, for programs acting in one organization
with an organization API token. The same services, policy and rules as the panels; only
the way in (a bearer token instead of a session) and the format (JSON) differ.

- ``models.py``: ``ApiToken`` (hashed, scoped, expiring, revocable).
- ``service.py``: making, revoking and checking tokens.
- ``panel.py``: the "API Tokens" panel where owners make and revoke them (HTML).
- ``auth.py``: who a request acts as, its scope, its rate limit.
- ``schemas.py``: the JSON shapes (marshmallow), from which the OpenAPI document is made.
- ``resources.py``: the operations (flask-smorest), thin over the services.
- ``reference.py``: ``/api/v1/openapi.json`` and the readable reference page.
"""

"""The "API Tokens" panel (issue 20): owners make organization API tokens, see when each
was last used, and revoke them. A new token is shown once, on the page that made it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from invites.api import service
from invites.api.forms import TokenForm
from invites.extensions import limiter
from invites.forms import EmptyForm, confirm_first
from invites.htmx import fragment_or_redirect, page_or_fragment
from invites.orgs.loaders import load_org_for
from invites.pagination import page_number
from invites.transaction import attempt

if TYPE_CHECKING:
    from invites.orgs.models import Organization

bp = Blueprint("api_tokens", __name__)


@bp.route("/o/<slug>/manage/api-tokens")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "api_tokens.manage")
    return _panel(org, TokenForm(formdata=None))


def _panel(org: Organization, form: TokenForm, new_token: str | None = None, status: int = 200) -> Response:
    page = service.page_of_tokens(org, page_number(), current_app.config["PAGE_SIZE"])
    response = page_or_fragment("api/panel.html", "api/_table.html", org=org, page=page, form=form,
                                row_form=EmptyForm(), new_token=new_token)
    response.status_code = status
    if new_token is not None:
        response.headers["Cache-Control"] = "no-store"  # the token is on this page only
    return response


@bp.route("/o/<slug>/manage/api-tokens", methods=["POST"])
@login_required
@limiter.limit("30 per hour", key_func=lambda: f"api-token-create:{current_user.id}")
def create(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "api_tokens.manage")
    form = TokenForm()
    if not form.validate_on_submit():
        return _panel(org, form, status=422)
    with attempt(form) as done:
        _, value = service.create_token(org, current_user, form.name.data, form.scope.data, form.last_day.data)
    if not done:
        return _panel(org, form, status=422)
    # Shown once, on this answer only: never stored, never put in a URL or a flash.
    return _panel(org, TokenForm(formdata=None), new_token=value)


@bp.route("/o/<slug>/manage/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(slug: str, token_id: int) -> ResponseReturnValue:
    org = load_org_for(slug, "api_tokens.manage")
    token = service.load_token(org, token_id)
    back = url_for("api_tokens.panel", slug=org.slug)
    asking = confirm_first(
        title=f"Revoke the token “{token.name}”?",
        message="Every program using it is refused from its next request. This cannot be undone.",
        button="Revoke token", cancel=back,
    )
    if asking is not None:
        return asking
    with attempt() as done:
        service.revoke_token(org, current_user, token)
    if done:
        flash(f"The token “{token.name}” was revoked.", "success")
    return fragment_or_redirect("api/_row.html", back, org=org, token=token, row_form=EmptyForm())

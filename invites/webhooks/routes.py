"""The "Webhooks" panel (issue 21): owners add endpoints (the signing secret is shown
once), choose their events, disable and enable them, send a test event, and read each
endpoint's delivery log with "Redeliver"."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from invites.extensions import limiter
from invites.forms import EmptyForm, confirm_first
from invites.htmx import page_or_fragment, whole_page_redirect
from invites.orgs.loaders import load_org_for
from invites.pagination import page_number
from invites.transaction import attempt
from invites.webhooks import service
from invites.webhooks.forms import EndpointForm, EventsForm

if TYPE_CHECKING:
    from invites.orgs.models import Organization
    from invites.webhooks.models import WebhookEndpoint

bp = Blueprint("webhooks", __name__)


@bp.route("/o/<slug>/manage/webhooks")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "webhooks.manage")
    return _panel(org, EndpointForm(formdata=None))


def _panel(org: Organization, form: EndpointForm, secret: str | None = None,
           added: WebhookEndpoint | None = None, status: int = 200) -> Response:
    response = page_or_fragment("webhooks/panel.html", "webhooks/_endpoints.html", org=org, form=form,
                                endpoints=service.endpoints_of(org), secret=secret, added=added)
    response.status_code = status
    if secret is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


@bp.route("/o/<slug>/manage/webhooks", methods=["POST"])
@login_required
@limiter.limit("30 per hour", key_func=lambda: f"webhook-add:{current_user.id}")
def add(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "webhooks.manage")
    form = EndpointForm()
    if not form.validate_on_submit():
        return _panel(org, form, status=422)
    with attempt(form) as done:
        endpoint, secret = service.add_endpoint(org, current_user, form.url.data, form.events.data or [],
                                                form.description.data or "")
    if not done:
        return _panel(org, form, status=422)
    return _panel(org, EndpointForm(formdata=None), secret=secret, added=endpoint)


def _endpoint(slug: str, endpoint_id: int) -> tuple[Organization, WebhookEndpoint]:
    org = load_org_for(slug, "webhooks.manage")
    return org, service.load_endpoint(org, endpoint_id)


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>")
@login_required
def show(slug: str, endpoint_id: int) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    form = EventsForm(formdata=None, events=endpoint.event_types)
    return _show(org, endpoint, form)


def _show(org: Organization, endpoint: WebhookEndpoint, form: EventsForm, status: int = 200) -> Response:
    page = service.page_of_deliveries(endpoint, page_number(), current_app.config["PAGE_SIZE"])
    response = page_or_fragment("webhooks/show.html", "webhooks/_log.html", org=org, endpoint=endpoint,
                                form=form, page=page, row_form=EmptyForm())
    response.status_code = status
    return response


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>/events", methods=["POST"])
@login_required
def change_events(slug: str, endpoint_id: int) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    form = EventsForm()
    if not form.validate_on_submit():
        return _show(org, endpoint, form, status=422)
    with attempt(form) as done:
        service.change_events(org, current_user, endpoint, form.events.data or [])
    if not done:
        return _show(org, endpoint, form, status=422)
    flash("The events sent to this endpoint were saved.", "success")
    return redirect(url_for("webhooks.show", slug=org.slug, endpoint_id=endpoint.id))


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>/<any(enable, disable):change>", methods=["POST"])
@login_required
def switch(slug: str, endpoint_id: int, change: str) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    back = url_for("webhooks.show", slug=org.slug, endpoint_id=endpoint.id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    with attempt() as done:
        service.set_enabled(org, current_user, endpoint, change == "enable")
    if done:
        flash("Enabled: events are sent again, starting with those that waited." if change == "enable"
              else "Disabled: no events are sent until it is enabled again.", "success")
    return redirect(back)


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>/test", methods=["POST"])
@login_required
@limiter.limit("20 per hour", key_func=lambda: f"webhook-test:{current_user.id}")
def send_test(slug: str, endpoint_id: int) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    back = url_for("webhooks.show", slug=org.slug, endpoint_id=endpoint.id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    answer = service.send_test(org, endpoint)
    if answer.ok:
        flash(f"Test event delivered: the receiver answered {answer.status} in {answer.duration_ms} ms.", "success")
    else:
        flash(f"The test event was not delivered ({answer.error}). It is retried like any other; "
              "see the log below.", "error")
    return redirect(back)


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@login_required
def delete(slug: str, endpoint_id: int) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    asking = confirm_first(
        title=f"Delete the endpoint {endpoint.url}?",
        message="No more events are sent to it, and its delivery log is deleted with it.",
        button="Delete endpoint", cancel=url_for("webhooks.show", slug=org.slug, endpoint_id=endpoint.id),
    )
    if asking is not None:
        return asking
    with attempt() as done:
        service.delete_endpoint(org, current_user, endpoint)
    if done:
        flash("The endpoint was deleted.", "success")
    return whole_page_redirect(url_for("webhooks.panel", slug=org.slug))  # (htmx: the panel, whole)


@bp.route("/o/<slug>/manage/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@login_required
def redeliver(slug: str, endpoint_id: int, delivery_id: int) -> ResponseReturnValue:
    org, endpoint = _endpoint(slug, endpoint_id)
    found = service.load_delivery(endpoint, delivery_id)
    back = url_for("webhooks.show", slug=org.slug, endpoint_id=endpoint.id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    with attempt() as done:
        service.redeliver(org, current_user, found)
    if done:
        flash(f"The event {found.event_id} is due again: the worker sends it shortly"
              + ("" if endpoint.enabled else ", once the endpoint is enabled") + ".", "success")
    return redirect(back)

"""The waiting list's door (issue 19), shared by the routes where someone accepts an
invitation or uses an invite link: when the organization has no free seat, the refused
admission is rolled back and the person becomes a join request on its waiting list."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import flash, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from invites.extensions import db
from invites.htmx import whole_page_redirect
from invites.join_requests import service

if TYPE_CHECKING:
    from invites.orgs.models import Organization


def put_on_waiting_list(org: Organization, **way_in: Any) -> Response:
    """After :class:`invites.orgs.seats.NoFreeSeat`: roll the admission back, put the
    person on ``org``'s waiting list (:func:`service.wait_for_seat`, with ``invitation=``
    or ``invite_link=``), mail its owners and managers, and tell the person where they
    stand, on their dashboard."""
    db.session.rollback()
    try:
        join_request = service.wait_for_seat(org, current_user, **way_in)
        db.session.commit()
    except IntegrityError:  # the same person, at the same moment, in another tab
        db.session.rollback()
    else:
        service.mail_new_request(join_request)
    flash(f"{org.name} has no free seat right now, so you are on its waiting list. Its owners and "
          "managers have been told; you will hear by email when they let you in.", "info")
    return whole_page_redirect(url_for("home.dashboard"))  # htmx: from the bell's prompt too

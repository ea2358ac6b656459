"""The four CSV downloads, each beside its panel's URL and under the panel's own policy
action (404 outside the organization, 403 without the right). GETs: nothing changes."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Blueprint, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.wrappers import Response

from invites.clock import now
from invites.exports import rows
from invites.exports.writing import csv_chunks
from invites.extensions import limiter
from invites.groups.loaders import load_groups
from invites.orgs.loaders import load_org_for
from invites.orgs.models import Organization

bp = Blueprint("exports", __name__)

# Each export reads a whole table: one budget for all four, per client.
limit_exports = limiter.shared_limit("10 per minute; 60 per hour", scope="csv-exports")


@bp.route("/o/<slug>/manage/members/export.csv")
@login_required
@limit_exports
def members(slug: str) -> ResponseReturnValue:
    return _export(slug, "members.view", rows.MEMBERS, rows.member_rows)


@bp.route("/o/<slug>/manage/invitations/export.csv")
@login_required
@limit_exports
def invitations(slug: str) -> ResponseReturnValue:
    """With the panel's filters (``status``, ``q``, ``group``), read as the panel reads
    them: another organization's group is ignored, like an unknown status."""
    org = load_org_for(slug, "invitations.manage")
    chosen = request.args.get("group", type=int)
    group = load_groups(org, [chosen] if chosen else [])
    search = request.args.get("q", "").strip()[:100]
    lines = rows.invitation_rows(org, request.args.get("status"), search or None, group[0].id if group else None)
    return csv_download(org, rows.INVITATIONS, lines)


@bp.route("/o/<slug>/manage/join-requests/export.csv")
@login_required
@limit_exports
def join_requests(slug: str) -> ResponseReturnValue:
    return _export(slug, "join_requests.manage", rows.JOIN_REQUESTS, rows.join_request_rows)


@bp.route("/o/<slug>/manage/activity/export.csv")
@login_required
@limit_exports
def activity(slug: str) -> ResponseReturnValue:
    return _export(slug, "activity.view", rows.ACTIVITY, rows.activity_rows)


def _export(slug: str, action: str, export: rows.Export,
            read: Callable[[Organization], Iterator[list[object]]]) -> Response:
    """The whole of an export without filters, under the panel's ``action``."""
    org = load_org_for(slug, action)
    return csv_download(org, export, read(org))


def csv_download(org: Organization, export: rows.Export, lines: Iterator[list[object]]) -> Response:
    """``lines`` streamed as "<slug>-<export>-<UTC day>.csv": the rows are read while the
    response is sent, inside the request's context (so its database session)."""
    response = Response(stream_with_context(csv_chunks(export.header, lines)),
                        content_type="text/csv; charset=utf-8")
    filename = f"{org.slug}-{export.name}-{now():%Y-%m-%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"  # people's names and addresses
    return response

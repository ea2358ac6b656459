from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from flask_login import login_required

from invites.activity.service import page_of_activity
from invites.htmx import page_or_fragment
from invites.orgs.loaders import load_org_for
from invites.pagination import page_number

bp = Blueprint("activity", __name__)


@bp.route("/o/<slug>/manage/activity")
@login_required
def index(slug: str) -> ResponseReturnValue:
    org = load_org_for(slug, "activity.view")
    page = page_of_activity(org, page_number(), current_app.config["PAGE_SIZE"])
    return page_or_fragment("activity/index.html", "activity/_table.html", org=org, page=page)

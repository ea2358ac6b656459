from flask import Blueprint, current_app
from flask_login import current_user, login_required

from invites import policy
from invites.activity.service import page_of_activity
from invites.htmx import page_or_fragment
from invites.orgs.loaders import load_org, page_number

bp = Blueprint("activity", __name__)


@bp.route("/o/<slug>/manage/activity")
@login_required
def index(slug):
    org = load_org(slug)
    policy.require(current_user, "activity.view", org)
    page = page_of_activity(org, page_number(), current_app.config["PAGE_SIZE"])
    return page_or_fragment("activity/index.html", "activity/_table.html", org=org, page=page)

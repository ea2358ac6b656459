"""The home page: the welcome page for visitors, and for an account its organizations and
the invitations waiting for it. It sits above the concepts and reads from two of them."""
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from invites.forms import EmptyForm
from invites.invitations.queries import open_invitations_for
from invites.orgs.service import memberships_of

bp = Blueprint("home", __name__)


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return render_template("home/welcome.html")
    return render_template(
        "home/dashboard.html", memberships=memberships_of(current_user), form=EmptyForm(),
        invitations=open_invitations_for(current_user),
    )

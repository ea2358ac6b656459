"""The Import Learners panel (F14, premium): template downloads, upload and preview,
"Are You Sure?" then "Continue", and the history of imports."""
from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from invites.extensions import db, limiter
from invites.forms import EmptyForm
from invites.htmx import whole_page_redirect
from invites.imports import service
from invites.imports.forms import UploadForm
from invites.imports.models import Fate, Import
from invites.imports.spreadsheet import MAX_BYTES, template_csv, template_xlsx
from invites.orgs.loaders import load_org_for
from invites.pagination import page_number
from invites.orgs.models import Organization
from invites.transaction import attempt


bp = Blueprint("imports", __name__)

TEMPLATES = {
    "csv": (template_csv, "text/csv; charset=utf-8"),
    "xlsx": (template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _load(slug: str, action: str = "imports.manage") -> Organization:
    org = load_org_for(slug, action)
    return org


def _load_import(org: Organization, import_id: int) -> Import:
    return db.first_or_404(
        db.select(Import).options(joinedload(Import.created_by)).filter_by(id=import_id, org_id=org.id)
    )


def _panel(org: Organization, form: UploadForm | None, status: int = 200) -> tuple[str, int]:
    page = service.page_of_imports(org, page_number(), current_app.config["PAGE_SIZE"]) if org.is_premium else None
    return render_template("imports/panel.html", org=org, form=form, page=page), status


@bp.route("/o/<slug>/manage/imports")
@login_required
def panel(slug: str) -> ResponseReturnValue:
    org = _load(slug)
    return _panel(org, UploadForm(formdata=None))


@bp.route("/o/<slug>/imports/template.<any(csv, xlsx):kind>")
@login_required
def template(slug: str, kind: str) -> ResponseReturnValue:
    org = _load(slug)
    if not org.is_premium:
        return _panel(org, None, status=403)
    build, mimetype = TEMPLATES[kind]
    response = make_response(build())
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="import-learners-template.{kind}"'
    return response


@bp.route("/o/<slug>/imports", methods=["POST"])
@login_required
@limiter.limit("20 per minute")
def upload(slug: str) -> ResponseReturnValue:
    org = _load(slug)
    form = UploadForm()
    if not form.validate_on_submit():
        return _panel(org, form, status=403 if not org.is_premium else 422)
    upload = form.file.data
    data = upload.stream.read(MAX_BYTES + 1)
    with attempt(form) as previewed:
        imp = service.preview_import(org, current_user, upload.filename, data, access_until=form.access_until.data)
    if not previewed:
        return _panel(org, form, status=403 if not org.is_premium else 422)
    return redirect(url_for("imports.show", slug=org.slug, import_id=imp.id))


@bp.route("/o/<slug>/imports/<int:import_id>")
@login_required
def show(slug: str, import_id: int) -> ResponseReturnValue:
    org = _load(slug)
    imp = _load_import(org, import_id)
    return render_template(
        "imports/show.html", org=org, imp=imp, rows=service.rows_of(imp), counts=service.counts(imp),
        Fate=Fate, form=EmptyForm(),
    )


@bp.route("/o/<slug>/imports/<int:import_id>/run", methods=["POST"])
@login_required
@limiter.limit("10 per minute")
def run(slug: str, import_id: int) -> ResponseReturnValue:
    org = _load(slug)
    imp = _load_import(org, import_id)
    form = EmptyForm()
    back = url_for("imports.show", slug=org.slug, import_id=imp.id)
    if not form.validate_on_submit():
        return redirect(back)
    if request.form.get("confirmed") != "yes":  # "Upload" leads to "Are You Sure?"
        to_send = sum(n for fate, n in service.counts(imp).items() if fate in Fate.SENDS)
        return render_template("imports/confirm.html", org=org, imp=imp, to_send=to_send, form=form)
    with attempt() as done:
        service.run_import(org, current_user, imp, commit=db.session.commit)
    if not done:
        return redirect(back)
    flash(f"Import finished: {imp.sent_count} sent, {imp.failed_count} not delivered.",
          "success" if not imp.failed_count else "warning")
    return whole_page_redirect(back)  # with htmx, the progress indicator was shown meanwhile

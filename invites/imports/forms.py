from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from invites.forms import access_until_field


class UploadForm(FlaskForm):
    file = FileField(
        "Spreadsheet (CSV or XLSX)", validators=[FileRequired(message="Choose a file to upload.")],
        description="Columns: email, groups (separated by ;), first name, last name. At most 500 rows and 1 MB.",
    )
    access_until = access_until_field()

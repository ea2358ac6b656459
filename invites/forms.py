"""Form pieces shared by every concept."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """For button-only POSTs: it carries nothing but the CSRF token."""

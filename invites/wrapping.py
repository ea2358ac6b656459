"""Where long text may break on a narrow screen."""
from __future__ import annotations

from markupsafe import Markup, escape


def breakable_email(address: object) -> Markup:
    """The address, escaped, with a ``<wbr>`` after the "@" and before each dot, so a
    narrow column breaks it as "someone@" / "example" / ".org", never inside a word
    (app.css: ``.address``)."""
    text = str(escape("" if address is None else address))
    return Markup('<span class="address">%s</span>' % text.replace("@", "@<wbr>").replace(".", "<wbr>."))

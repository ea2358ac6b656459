"""Email-domain rules: who a way in accepts by the domain of a confirmed address.

The Join Web Page (F13) and invite links (F22) keep their rules the same way, one per line
("example.com", or "*.example.com" for its subdomains; empty lets anyone in), and refuse
in the same words. Each way raises its own refusal with :func:`refusal`'s reason and text.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from invites.errors import DomainError
from invites.extensions import db

if TYPE_CHECKING:
    from invites.accounts.models import User

DOMAIN = re.compile(r"^(\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
MAX_DOMAINS = 100


class AllowedDomains:
    """A model mixin: the ``allowed_domains`` column and what it allows."""

    allowed_domains = db.Column(db.Text, nullable=False, default="")

    @property
    def domains(self) -> list[str]:
        return [line for line in (self.allowed_domains or "").split("\n") if line]

    def allows(self, email: str) -> bool:
        """True when ``email``'s domain is on the list (or the list is empty)."""
        rules = self.domains
        if not rules:
            return True
        domain = email.rsplit("@", 1)[-1].lower()
        return any(domain.endswith(rule[1:]) if rule.startswith("*.") else domain == rule for rule in rules)


def parse_domains(text: str | None) -> list[str]:
    """The allowed domains typed one per line (or separated by commas or spaces),
    lower-cased and de-duplicated. Refuses anything that is not a domain name or a
    ``*.domain`` rule, naming it."""
    rules: list[str] = []
    for raw in re.split(r"[\s,;]+", (text or "").strip().lower()):
        if not raw:
            continue
        rule = raw.lstrip("@")
        if not DOMAIN.match(rule) or len(rule) > 253:
            raise DomainError(
                f"“{raw}” is not a domain. Write it like example.com, or *.example.com for its subdomains.",
                "allowed_domains",
            )
        if rule not in rules:
            rules.append(rule)
    if len(rules) > MAX_DOMAINS:
        raise DomainError(f"List at most {MAX_DOMAINS} domains.", "allowed_domains")
    return rules


def refusal(holder: AllowedDomains, user: User, org_name: str) -> tuple[str, str] | None:
    """Why ``user`` may not come in under ``holder``'s rules, as ``(reason, message)``:
    "domain" for an address at another domain, "unverified" for one not confirmed yet (a
    domain says nothing until its owner has proved the address). None when let in."""
    if not holder.domains:
        return None
    if not holder.allows(user.email):
        return "domain", (f"{org_name} accepts people with an email address at {', '.join(holder.domains)}. "
                          f"Your account's address is at {user.email.rsplit('@', 1)[-1]}.")
    if not user.is_verified:
        return "unverified", (f"Confirm your email address first: {org_name} accepts people by the domain "
                              "of a confirmed address. We sent you a confirmation link; follow it, then "
                              "come back and press Join.")
    return None

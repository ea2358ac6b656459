"""Link tokens: 32 random bytes in the URL, only their SHA-256 in the database."""
import hashlib
import secrets


def new_token():
    """32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token):
    """What the database keeps of a token: its SHA-256 (the token itself is only sent)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_token(model, token, *options):
    """The row of ``model`` whose ``token_hash`` matches ``token``, or None."""
    from invites.extensions import db

    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        db.select(model).options(*options).where(model.token_hash == hash_token(token))
    )

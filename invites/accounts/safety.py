"""Redirect targets we accept from a ``next`` parameter: same-site paths only."""
from urllib.parse import urlsplit


def safe_next(target: object, default: str) -> str:
    """``target`` when it is a local path (``/...``), else ``default``.

    Refuses absolute URLs, scheme-relative ``//host`` and the backslash variants that
    browsers treat as ``//``, and anything with control characters.
    """
    if not target or not isinstance(target, str):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target

"""Private unit links: a 256-bit token per unit and campaign, stored only as a SHA-256 hash.

The token is an HMAC of the unit's campaign, code and a random 128-bit nonce under a key
derived from the instance's secret key. The database therefore holds no token (only its hash
and the nonce), yet ``portal links`` can print the same links again as long as the secret key
file is there; rotating a link replaces the nonce, which invalidates the old link and every
session opened with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

from django.conf import settings

#: Characters a token can have (base64url without padding): anything else is not a token.
TOKEN_LENGTH = 43


def new_nonce() -> str:
    return secrets.token_hex(16)


def _key() -> bytes:
    # A key of its own, so that a link never equals any other HMAC Django makes with SECRET_KEY.
    return hmac.new(settings.SECRET_KEY.encode(), b"xls-gongkai portal unit links", hashlib.sha256).digest()


def token_for(campaign_id: int, code: str, nonce: str) -> str:
    """The unit's link token (43 characters of base64url, 256 bits)."""
    message = f"{campaign_id}\x1f{code}\x1f{nonce}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def token_hash(token: str) -> str:
    """What the database stores and looks a link up by."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def plausible(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)

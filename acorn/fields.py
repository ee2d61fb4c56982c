"""Encrypted text at rest, on cryptography's MultiFernet.

Keys come from ACORN_FIELD_ENCRYPTION_KEYS (newest first), never from
SECRET_KEY. A value that no configured key opens raises
``FieldDecryptionError``: returning the ciphertext would hand a token to
code that expects a secret.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class FieldDecryptionError(Exception):
    """No configured key can decrypt the stored value."""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ACORN_FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "ACORN_FIELD_ENCRYPTION_KEYS must hold url-safe base64 Fernet keys "
            "(Fernet.generate_key())."
        ) from exc


def field_cipher() -> MultiFernet:
    return _fernet_for(tuple(settings.ACORN_FIELD_ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    return field_cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return field_cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise FieldDecryptionError(
            "Cannot decrypt an encrypted field with the configured keys; "
            "was ACORN_FIELD_ENCRYPTION_KEYS changed without rotate_field_keys?"
        ) from exc


def rotate_token(token: str) -> str:
    """Re-encrypt under the newest key (MultiFernet.rotate)."""
    try:
        return field_cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise FieldDecryptionError("Cannot rotate: no configured key opens the value.") from exc


class EncryptedTextField(models.TextField):
    """A TextField stored as a Fernet token; empty stays empty."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def get_lookup(self, lookup_name):
        # Ciphertext is randomised: only null checks make sense.
        if lookup_name not in {"isnull"}:
            return None
        return super().get_lookup(lookup_name)

"""Encrypted text at rest: ciphertext in the table, rotation, wrong keys."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from acorn.fields import FieldDecryptionError, decrypt_text, encrypt_text

SECRET = "Atzr|a-refresh-token-that-must-never-be-stored-plain"


def test_round_trip_and_ciphertext_differs(settings):
    token = encrypt_text(SECRET)
    assert SECRET not in token
    assert decrypt_text(token) == SECRET


def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    token = encrypt_text(SECRET)
    settings.ACORN_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(FieldDecryptionError, match="Cannot decrypt an encrypted field"):
        decrypt_text(token)


@pytest.mark.django_db
def test_no_plaintext_in_the_database_and_rotation(settings, tenant_a):
    """Stored values are Fernet tokens; rotate_field_keys re-encrypts them
    under the new first key so the old key can be dropped."""
    from django.db import models

    from acorn.fields import EncryptedTextField

    # Given a table with an encrypted column holding a secret
    field = EncryptedTextField()
    field.set_attributes_from_name("secret")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE secret_probe (id serial primary key, secret text)")
        cursor.execute(
            "INSERT INTO secret_probe (secret) VALUES (%s)",
            [field.get_db_prep_save(SECRET, connection)],
        )
        cursor.execute("SELECT secret FROM secret_probe")
        stored = cursor.fetchone()[0]
    # Then the database holds no plaintext
    assert SECRET not in stored and stored.startswith("gAAAA")
    # When a new key is put first and the value rotated
    old_keys = list(settings.ACORN_FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.ACORN_FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    from acorn.fields import rotate_token

    rotated = rotate_token(stored)
    # Then the new key alone opens it, and the old one alone no longer does
    settings.ACORN_FIELD_ENCRYPTION_KEYS = [new_key]
    assert decrypt_text(rotated) == SECRET
    settings.ACORN_FIELD_ENCRYPTION_KEYS = old_keys
    with pytest.raises(FieldDecryptionError):
        decrypt_text(rotated)
    assert isinstance(field, models.TextField)

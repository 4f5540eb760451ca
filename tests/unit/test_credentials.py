"""API keys: issuing, parsing, hashing, and comparing in constant time."""

from __future__ import annotations

import hashlib
import re

import pytest

from chalicelib.domain.credentials import (
    KEY_SECRET_BYTES,
    KeyKind,
    hash_secret,
    issue_key,
    parse_key,
    same_hash,
    same_secret,
)

TENANT = "tn" + "a1b2c3d4e5f6g7h8j9k0"
HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(("kind", "prefix"), [(KeyKind.SECRET, "sk"), (KeyKind.PUBLISHABLE, "pk")])
def test_an_issued_key_reads_kind_tenant_and_64_hex_characters(kind: KeyKind, prefix: str) -> None:
    issued = issue_key(kind, TENANT)

    assert re.fullmatch(rf"{prefix}_{TENANT}_[0-9a-f]{{64}}", issued.plaintext)
    assert issued.kind is kind
    assert issued.tenant_id == TENANT


def test_an_issued_key_is_stored_only_as_its_sha256() -> None:
    issued = issue_key(KeyKind.SECRET, TENANT)

    assert issued.hash == hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert issued.plaintext not in issued.key_id
    assert issued.key_id == "key_" + issued.hash[:12]


def test_two_issued_keys_never_repeat() -> None:
    keys = {issue_key(KeyKind.SECRET, TENANT).plaintext for _ in range(50)}

    assert len(keys) == 50


@pytest.mark.parametrize("kind", list(KeyKind))
def test_parsing_an_issued_key_recovers_kind_tenant_and_hash(kind: KeyKind) -> None:
    issued = issue_key(kind, TENANT)

    parsed = parse_key(issued.plaintext)

    assert parsed is not None
    assert (parsed.kind, parsed.tenant_id, parsed.hash) == (kind, TENANT, issued.hash)


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param("", id="empty"),
        pytest.param(f"xk_{TENANT}_{HEX}", id="unknown prefix"),
        pytest.param(f"SK_{TENANT}_{HEX}", id="upper-case prefix"),
        pytest.param(f"{TENANT}_{HEX}", id="no prefix"),
        pytest.param(f"sk-{TENANT}-{HEX}", id="wrong separator"),
        pytest.param(f"sk_{TENANT}_{HEX[:-1]}", id="63 hex"),
        pytest.param(f"sk_{TENANT}_{HEX}0", id="65 hex"),
        pytest.param(f"sk_{TENANT}_{HEX[:-1]}g", id="non-hex"),
        pytest.param(f"sk_{TENANT}_{HEX.upper()}", id="upper-case hex"),
        pytest.param(f"sk_{TENANT}_{HEX[:-1]}٣", id="non-ascii digit"),
        pytest.param(f"sk__{HEX}", id="empty tenant"),
        pytest.param(f"sk_{HEX}", id="no tenant"),
        pytest.param(f"sk_{'t' * 200}_{HEX}", id="over-long"),
        pytest.param(f"sk_T#{TENANT}#CAT_{HEX}", id="key syntax in the tenant id"),
        pytest.param(f"sk_{TENANT}_x_{HEX}", id="underscore in the tenant id"),
        pytest.param(f"sk_xy{TENANT}_{HEX}", id="not a tenant id"),
    ],
)
def test_a_string_that_cannot_be_one_of_our_keys_does_not_parse(presented: str) -> None:
    assert parse_key(presented) is None


def test_parsing_does_not_check_the_secret_only_its_shape() -> None:
    forged = f"sk_{TENANT}_{HEX}"

    parsed = parse_key(forged)

    assert parsed is not None
    assert parsed.hash == hash_secret(forged)


def test_the_secret_part_is_the_documented_number_of_bytes() -> None:
    secret = issue_key(KeyKind.SECRET, TENANT).plaintext.rpartition("_")[2]

    assert len(bytes.fromhex(secret)) == KEY_SECRET_BYTES == 32


def test_hash_secret_is_the_sha256_hex_digest() -> None:
    assert hash_secret("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [("s3cret", "s3cret", True), ("s3cret", "s3cres", False), ("short", "a much longer secret", False), ("", "", True)],
)
def test_same_secret_compares_whole_values(given: str, expected: str, same: bool) -> None:
    assert same_secret(given, expected) is same


def test_same_hash_is_true_only_for_identical_digests() -> None:
    digest = hash_secret("one")

    assert same_hash(digest, hash_secret("one"))
    assert not same_hash(digest, hash_secret("two"))
    assert not same_hash(digest, digest[:-1])

from bonjoro_tui.redact import Redactor, mask


def test_mask_shows_only_a_short_prefix():
    secret = "eyJhbGciOiJIUzI1NiJ9.payload.signature"
    m = mask(secret)
    assert secret not in m
    assert m.startswith("eyJhbG")
    assert f"({len(secret)} chars)" in m


def test_mask_of_short_secret_reveals_little():
    assert mask("abcd") == "a…(4 chars)"
    assert mask("") == "(none)"
    assert mask(None) == "(none)"


def test_redactor_hides_known_secrets_and_sensitive_fields():
    r = Redactor(["s3cr3t-client-secret"])
    text = (
        'client_secret=s3cr3t-client-secret&code=abc123xyz&grant_type=authorization_code '
        '{"access_token": "tok_AAAAAAAAAAAA", "refresh_token":"ref_BBBBBBBBBB", "expires_in": 3600} '
        "Authorization: Bearer tok_CCCCCCCCCCCC"
    )
    out = r(text)
    for secret in ["s3cr3t-client-secret", "abc123xyz", "tok_AAAAAAAAAAAA", "ref_BBBBBBBBBB", "tok_CCCCCCCCCCCC"]:
        assert secret not in out
    assert "grant_type=authorization_code" in out
    assert '"expires_in": 3600' in out


def test_field_names_that_merely_end_in_a_sensitive_word_are_left_alone():
    r = Redactor()
    text = '{"error": {"status_code": 404}} error_code=12 token_type_hint=refresh_token'
    assert r(text) == text


def test_a_known_token_in_a_bearer_header_is_masked_once():
    r = Redactor(["tok_ABCDEFGHIJKL"])
    out = r("Authorization: Bearer tok_ABCDEFGHIJKL")
    assert out == "Authorization: Bearer tok_…(16 chars)"


def test_a_secret_json_escaped_twice_is_masked_whole():
    """A server quoting our JSON request inside its JSON error escapes the token twice."""
    import json

    from bonjoro_tui.redact import Redactor

    token = 're fresh,"tok"\'en'
    body = json.dumps({"error_description": json.dumps({"refresh_token": token})})
    out = Redactor([token])(body)
    assert "fresh," not in out and "'en" not in out and "(23 chars)" in out, out

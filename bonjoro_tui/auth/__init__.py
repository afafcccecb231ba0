"""OAuth 2.0 client side: PKCE + state, loopback callback server, token endpoint, sign-in flows.

Headless: nothing here imports Textual.
"""

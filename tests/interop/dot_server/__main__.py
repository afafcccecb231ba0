"""Start the interop authorization server: ``python -m dot_server --db PATH``.

Migrates a fresh sqlite database at PATH, creates the user and the applications below, binds a
free port on 127.0.0.1 and serves the Django project with uvicorn. Once it accepts connections
it prints ONE line of JSON on stdout — ``{"url": ..., "user": {...}, "clients": {...}}``, the
plain client secrets included (they are stored hashed) — and then only logs on stderr.
SIGTERM or SIGINT stops it (uvicorn's own handlers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time

USER = {"username": "ada", "password": "correct-horse-battery", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.test"}

#: The loopback redirect URI registered for the code-flow clients, without a port: DOT matches a
#: loopback IP redirect URI on any port (RFC 8252 §7.3), so the CLI's free port is accepted.
REDIRECT_URI = "http://127.0.0.1/callback"

CLIENTS = {
    # name: (client_id, client_type, grant type, secret or None)
    "public": ("bonjoro-tui-public", "public", "authorization-code", None),
    "confidential": ("bonjoro-tui-confidential", "confidential", "authorization-code",
                     "conf-secret-9f2c1d7e4b"),
    "service": ("bonjoro-tui-service", "confidential", "client-credentials", "svc-secret-3a8e5b0c6d"),
    # The harness's own resource-server client: it authenticates at the introspection endpoint.
    "introspector": ("harness-introspector", "confidential", "client-credentials", "introspector-secret-71c4"),
}


def _rsa_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _seed() -> dict:
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_application_model

    user = get_user_model().objects.create_user(**USER)
    Application = get_application_model()
    clients = {}
    for name, (client_id, client_type, grant, secret) in CLIENTS.items():
        app = Application(
            name=f"bonjoro-tui interop ({name})",
            client_id=client_id,
            client_type=client_type,
            authorization_grant_type=grant,
            redirect_uris=REDIRECT_URI if grant == "authorization-code" else "",
            # The plain secret goes in; DOT hashes it on save (hash_client_secret defaults to True).
            client_secret=secret or "",
            hash_client_secret=True,
            user=user if grant == "client-credentials" and name == "introspector" else None,
            algorithm=Application.RS256_ALGORITHM if grant == "authorization-code" else Application.NO_ALGORITHM,
        )
        app.save()
        clients[name] = {"client_id": client_id, "client_secret": secret, "client_type": client_type,
                         "grant": grant, "redirect_uri": app.redirect_uris or None}
    return {"user": {k: v for k, v in USER.items()} | {"id": user.pk}, "clients": clients}


async def _serve(sock: socket.socket, announce: dict) -> None:
    import uvicorn
    from django.core.asgi import get_asgi_application

    config = uvicorn.Config(get_asgi_application(), lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task  # raises what stopped it
            return
        await asyncio.sleep(0.01)
    print(json.dumps(announce), flush=True)
    await task


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m dot_server")
    parser.add_argument("--db", required=True, help="sqlite file to create (must not exist)")
    args = parser.parse_args()
    started = time.monotonic()

    os.environ["DJANGO_SETTINGS_MODULE"] = "dot_server.settings"
    os.environ["DOT_HARNESS_DB"] = args.db
    os.environ["DOT_HARNESS_OIDC_KEY"] = _rsa_key_pem()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    seeded = _seed()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    import oauth2_provider

    announce = {
        "url": f"http://127.0.0.1:{port}",
        "dot_version": oauth2_provider.__version__,
        "django_version": django.get_version(),
        "started_in": round(time.monotonic() - started, 3),
        **seeded,
    }
    asyncio.run(_serve(sock, announce))
    return 0


if __name__ == "__main__":
    sys.exit(main())

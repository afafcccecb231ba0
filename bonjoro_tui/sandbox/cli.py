"""``bonjoro-tui sandbox``: run the sandbox in the foreground until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bonjoro_tui.sandbox.clients import API_KEY, CLIENTS
from bonjoro_tui.sandbox.server import SandboxServer, SandboxServerError
from bonjoro_tui.sandbox.state import KnobError


def describe(server: SandboxServer) -> list[str]:
    """What the command prints once listening: the URL first, then clients and endpoints.

    Everything here is public sandbox configuration (documented in docs/SANDBOX.md).
    """
    url = server.url
    lines = [f"Bonjoro sandbox listening on {url}", "", "Registered clients:"]
    for client in CLIENTS.values():
        kind = "public, PKCE, no secret" if client.is_public else f"confidential, secret {client.secret}"
        lines.append(f"  {client.client_id:<22} {kind}")
        lines.append(f"  {'':<22} redirect URIs: {', '.join(client.redirect_uris)} (loopback IPs: any port)")
    lines += [
        f"  {'API key':<22} {API_KEY} (send as a Bearer token)",
        "",
        f"Authorize:  {url}/oauth/authorize",
        f"Token:      {url}/api/v2/oauth/2/token  (also {url}/oauth/token)",
        f"Revoke:     {url}/oauth/revoke",
        f"API:        {url}/api/v2",
        f"Knobs:      {url}/_sandbox/",
    ]
    if server.state.state_file:
        lines.append(f"State file: {server.state.state_file}")
    if server.announce is not None and server.announced:
        lines.append(f"Shared:     the bonjoro-tui commands and dashboards of this data directory use it "
                     f"(announced in {server.announce})")
    elif server.announce is not None:
        lines.append(f"Shared:     no, the other commands start their own sandbox: {server.announce_error}")
    knobs = server.state.knobs
    lines.append(
        f"Consent:    {'auto-approve' if knobs['auto_approve'] else 'consent page'}; "
        f"access tokens live {knobs['access_ttl']} s; latency {knobs['latency']:g} s"
    )
    lines.append("Press Ctrl+C to stop.")
    return lines


def _parse_fail(spec: str) -> tuple[int, int, str]:
    """``N:STATUS[:SCOPE]``, e.g. ``3:503`` or ``1:401:api``."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0].isdigit() or not parts[1].isdigit():
        raise KnobError(f"--fail-next expects N:STATUS[:SCOPE], got {spec!r}")
    return int(parts[0]), int(parts[1]), parts[2] if len(parts) == 3 else "any"


def run_sandbox_command(args: argparse.Namespace) -> int:
    try:
        server = SandboxServer(
            args.host,
            args.port,
            state_file=args.state_file,
            access_ttl=args.access_ttl,
            auto_approve=args.auto_approve,
            latency=getattr(args, "latency", None),
            announce=getattr(args, "announce", None),
        )
        for spec in getattr(args, "fail_next", None) or []:
            server.state.fail_next(*_parse_fail(spec))
    except (KnobError, OSError) as exc:
        print(f"bonjoro-tui sandbox: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, KnobError) else 1

    def ready(srv: SandboxServer) -> None:
        print("\n".join(describe(srv)), flush=True)

    # The data directory's sandbox takes the port its last sandbox used when it is free (absolute
    # links printed before and after it keep answering), else any free one; an explicit --port is kept.
    preferred = getattr(args, "preferred_port", None)
    ports = [preferred, 0] if preferred and not args.port else [args.port]
    try:
        for i, port in enumerate(ports):
            server.port = port
            try:
                asyncio.run(server.serve(on_ready=ready))
                break
            except SandboxServerError:
                if i + 1 == len(ports):
                    raise
    except SandboxServerError as exc:
        print(f"bonjoro-tui sandbox: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a Ctrl+C that arrived before the handlers were installed
        pass
    return 0

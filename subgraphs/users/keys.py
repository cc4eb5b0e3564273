"""Key rotation from the command line (embedded mode: key files under ``PIZZA_DATA_DIR/keys``).

``python -m subgraphs.users.keys list`` shows the kids (the last one signs);
``rotate`` adds a key that signs from now on; ``retire KID`` stops publishing an old key.
A running users process picks the change up on its next token or JWKS request; routers on
their next JWKS refresh (``poll_interval``) or on the first token with the new kid.
With ``PIZZA_JWT_PRIVATE_KEYS`` the keys live in the environment: rotate by adding a
``kid: PEM`` entry at the end, retire by removing one, then restart users.
"""

from __future__ import annotations

import argparse

from shared.keys import key_ring_for
from shared.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs.users.keys")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the published kids, oldest first (the last signs)")
    commands.add_parser("rotate", help="add a signing key")
    retire = commands.add_parser("retire", help="stop publishing a key")
    retire.add_argument("kid")
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.jwt_private_keys and args.command != "list":
        raise SystemExit("Keys come from PIZZA_JWT_PRIVATE_KEYS: change that variable instead.")
    ring = key_ring_for(settings)
    if args.command == "rotate":
        print(ring.rotate().kid)
    elif args.command == "retire":
        ring.retire(args.kid)
    else:
        for key in ring.keys:
            print(key.kid)


if __name__ == "__main__":
    main()

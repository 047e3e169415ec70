"""Run the emulator alone: ``python -m bot.emulator --port 8080`` (the browser chat at /)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .flood import FloodConfig
from .server import EmulatorServer, PortInUseError
from .world import EmulatorConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token", help="the bot token to accept (default: a random one)")
    parser.add_argument("--username", default="branchbot_test_bot")
    parser.add_argument("--no-flood", action="store_true", help="turn flood control off")
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        token=args.token, bot_username=args.username, flood=FloodConfig(enabled=not args.no_flood)
    )
    try:
        asyncio.run(_serve(EmulatorServer(config, host=args.host, port=args.port)))
    except PortInUseError as exc:
        print(f"error: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(server: EmulatorServer) -> None:
    await server.start()
    # the token goes to the terminal of whoever started the emulator, never to a log
    print(f"Telegram emulator on {server.url}/  token {server.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


if __name__ == "__main__":
    sys.exit(main())

"""sendMessage throughput of the local Bot API emulator, flood control off.

The emulator runs in its own process (as in the demo), and this process drives it over
HTTP with keep-alive connections. It must sustain >= 2,000 messages/s so that it is never
the bottleneck of the bot's own benchmarks. Besides the wall rate it prints the emulator's
CPU time per message, which does not depend on other load on the machine.

    uv run python benchmarks/bench_emulator.py [--seconds 5] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
from multiprocessing.connection import Connection

import aiohttp

from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig, free_port

TARGET = 2000.0


def serve(port: int, token: str, control: Connection) -> None:
    """The emulator's process; reports the CPU seconds it spent between "start" and "stop"."""

    async def main() -> None:
        config = EmulatorConfig(token=token, flood=FloodConfig(enabled=False))
        server = EmulatorServer(config, port=port)
        await server.start()
        loop = asyncio.get_running_loop()
        control.send("ready")
        await loop.run_in_executor(None, control.recv)
        before = os.times()
        await loop.run_in_executor(None, control.recv)
        after = os.times()
        control.send(after.user - before.user + after.system - before.system)

    asyncio.run(main())


async def drive(base: str, token: str, seconds: float, concurrency: int) -> tuple[int, float]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        chat_ids = []
        for i in range(concurrency):
            async with http.post(f"{base}/_emu/users", json={"first_name": f"u{i}"}) as resp:
                chat_ids.append((await resp.json())["id"])
        url = f"{base}/bot{token}/sendMessage"
        sent = 0
        errors = 0
        stop_at = time.perf_counter() + seconds

        async def worker(chat_id: int) -> None:
            nonlocal sent, errors
            body = json.dumps({"chat_id": chat_id, "text": "基准测试 benchmark message"})
            headers = {"Content-Type": "application/json"}
            while time.perf_counter() < stop_at:
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        sent += 1
                    else:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(chat_id) for chat_id in chat_ids))
        elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{errors} requests failed")
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    port = free_port()
    token = "1234567:benchmark-token"
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve, args=(port, token, theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise SystemExit("the emulator did not start")
        ours.recv()
        ours.send("start")
        client_before = os.times()
        sent, elapsed = asyncio.run(
            drive(f"http://127.0.0.1:{port}", token, args.seconds, args.concurrency)
        )
        ours.send("stop")
        client_after = os.times()
        server_cpu = ours.recv()
        client_cpu = (
            client_after.user - client_before.user + client_after.system - client_before.system
        )
    finally:
        process.terminate()
        process.join(5)
    rate = sent / elapsed
    capacity = sent / server_cpu
    print(
        f"emulator sendMessage: {sent} messages in {elapsed:.2f} s = {rate:,.0f} messages/s "
        f"({args.concurrency} concurrent clients, flood control off)\n"
        f"emulator CPU: {server_cpu:.2f} s = {1e6 * server_cpu / sent:.0f} us per message "
        f"= {capacity:,.0f} messages per CPU-second; the HTTP client used {client_cpu:.2f} CPU-s"
    )
    # The wall rate depends on what else runs on the machine (client and emulator share its
    # cores); the emulator's cost per message does not, so that is what must meet the target.
    if capacity < TARGET:
        raise SystemExit(
            f"too slow: the emulator alone manages {capacity:,.0f}/s < {TARGET:,.0f}/s"
        )
    if rate < TARGET:
        print(f"note: wall rate below {TARGET:,.0f}/s; the machine is busy (see `uptime`)")


if __name__ == "__main__":
    main()

"""An asyncio program with 20 tasks waiting in asyncio.sleep: its wall time is the event
loop's select; the waiting coroutines are on no thread's stack."""

import asyncio
import sys


async def waiter(i: int) -> None:
    while True:
        await asyncio.sleep(0.5 + i / 100)


async def main(limit: float) -> None:
    tasks = [asyncio.create_task(waiter(i), name=f"request-{i}") for i in range(20)]
    await asyncio.sleep(limit)
    for t in tasks:
        t.cancel()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0))

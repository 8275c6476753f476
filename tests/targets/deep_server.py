"""A server-shaped target: every request goes through the same 30 frames of framework
(<module>, main, serve_forever, 24 middlewares, handle_request, dispatch), then about
60% of the work is in find_emails and 40% in query_items, each looping in its own body.
The icicle should fold the shared frames and show both leaves at 80×24.
Runs until killed, or for argv[1] seconds."""

import sys
import time
from collections.abc import Callable

UNIT = 20_000  # loop iterations per fifth of a request: a request takes a few ms

Handler = Callable[[int], None]


def find_emails(request: int) -> None:
    for _ in range(3 * UNIT):
        pass


def query_items(request: int) -> None:
    for _ in range(2 * UNIT):
        pass


def dispatch(request: int) -> None:
    find_emails(request)
    query_items(request)


def handle_request(request: int) -> None:
    dispatch(request)


def middleware(name: str, inner: Handler) -> Handler:
    """A layer that passes the request on; its code is renamed so each layer shows up
    under its own name in the profile, as a real framework's would."""

    def layer(request: int) -> None:
        inner(request)

    code = layer.__code__
    if sys.version_info >= (3, 11):
        layer.__code__ = code.replace(co_name=name, co_qualname=name)
    else:
        layer.__code__ = code.replace(co_name=name)
    return layer


def build_stack() -> Handler:
    app: Handler = handle_request
    for i in range(27, 3, -1):  # middleware_04 (outermost) … middleware_27
        app = middleware(f"middleware_{i:02}", app)
    return app


def serve_forever(app: Handler, stop: float) -> None:
    request = 0
    while time.monotonic() < stop:
        app(request)
        request += 1


def run(stop: float) -> None:
    serve_forever(build_stack(), stop)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    run(time.monotonic() + limit)


if __name__ == "__main__":
    main()

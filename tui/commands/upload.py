"""`flametop upload`: send profile files, or a spool left by `record --server`, to a
Pyroscope-compatible server. Every file is read before anything is sent (an unreadable
one is exit 2); a refused or failed send is exit 1."""

from __future__ import annotations

import argparse
import sys

from samplers.errors import UploadError, UsageError
from samplers.session.deliver import file_upload, send_spool
from samplers.session.spool import Spool
from samplers.session.upload import Upload, check_app, parse_server, parse_tags, send
from tui.commands.report import load_profile


def _say(line: str) -> None:
    print(f"flametop: {line}", file=sys.stderr, flush=True)


def run_upload(args: argparse.Namespace) -> int:
    if not args.files and not args.spool:
        raise UsageError("give profile files to send, or --spool DIR to send a spool")
    server = parse_server(
        args.server, tenant=args.tenant or "", cacert=args.cacert or "", timeout=args.timeout
    )
    tags = parse_tags(args.tag or ())
    app = check_app(args.app) if args.app else ""
    if args.files and not app:
        raise UsageError("give --app NAME: the application the profiles belong to")
    uploads: list[tuple[str, Upload]] = []
    for path in args.files:
        profile, _fmt = load_profile(path, args.sample_type)
        uploads.append((path, file_upload(profile, path, app, tags)))
    failed = 0
    if args.spool:
        with Spool(args.spool) as spool:
            result = send_spool(server, spool, app, tags)
        if result.sent or not result.left:
            _say(f"sent {result.sent} profiles from spool {args.spool} to {server.shown}")
        if result.refused:
            _say(f"the server rejected {result.refused} spooled profiles; they were removed")
        for error in result.errors[-1:]:
            _say(error)
        if result.left:
            _say(f"{result.left} profiles are still spooled in {args.spool}; run this again later")
            failed += 1
        failed += result.refused
    for path, upload in uploads:
        try:
            send(server, upload)
        except UploadError as exc:
            _say(f"{path}: {exc.message}")
            failed += 1
            continue
        _say(f"sent {path} as {upload.name} ({upload.start}..{upload.end}) to {server.shown}")
    return 1 if failed else 0

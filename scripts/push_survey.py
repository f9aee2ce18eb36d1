#!/usr/bin/env python3
"""Upload a survey file to a civicgrid server and print what became of it.

    CIVICGRID_TOKEN=cg_... python scripts/push_survey.py survey.csv --url https://civicgrid.example

Only the Python standard library is used, so the script runs on any machine with
Python 3.11+ (a cron job, the laptop of an inspection team). The token comes from
CIVICGRID_TOKEN (or --token-file): command-line arguments are visible to other users
in the process list. Create one with `civicgrid tokens create NAME --role city_officer`.

Exit codes: 0 written (or checked, with --dry-run); 1 the server refused the file
(bad rows are listed with their line numbers); 2 no connection, bad token or usage.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import secrets
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TOKEN_ENV = "CIVICGRID_TOKEN"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, upload, print the summary; return the exit code."""
    args = _parser().parse_args(argv)
    token = _token(args)
    if not token:
        print(f"错误 / error: no token: set {TOKEN_ENV} or use --token-file", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"错误 / error: {args.file}: file not found", file=sys.stderr)
        return 2
    fields = {"source": args.source, "strict": str(not args.lenient).lower()}
    fields["dry_run"] = str(args.dry_run).lower()
    try:
        status, body = upload(args.url, token, args.file, fields, args.timeout)
    except (urllib.error.URLError, OSError) as exc:
        print(f"错误 / error: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 2
    print(summary(args.file.name, status, body))
    if status in (200, 201):
        return 0
    return 1 if status in (400, 413, 415, 422) else 2


def terminal_language() -> str:
    """The terminal's language as an Accept-Language value, so that the server's messages
    come in it: the first of LC_ALL, LC_MESSAGES, LANG that is set; ``en…`` gives
    English, anything else (or nothing) Chinese."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh-CN"
    return "zh-CN"


def upload(
    base_url: str, token: str, path: Path, fields: dict[str, str], timeout: float = 300
) -> tuple[int, dict[str, Any]]:
    """POST ``path`` to ``<base_url>/api/v1/surveys``; return the status and JSON body."""
    boundary = "civicgrid-" + secrets.token_hex(12)
    body = _multipart(boundary, path, fields)
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/surveys",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
            "User-Agent": "civicgrid-push-survey/1",
            "Accept-Language": terminal_language(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {
                "error": {"code": exc.reason, "message": raw[:300].decode(errors="replace")}
            }


def summary(name: str, status: int, body: dict[str, Any]) -> str:
    """The lines to print for one upload."""
    error = body.get("error")
    batch = (error or body).get("batch") if isinstance(error or body, dict) else None
    lines = []
    if batch:
        state = "已写入 written" if batch.get("written") else "未写入 not written"
        lines.append(
            f"{name}: {batch['rows']} 行 / rows — 导入 accepted {batch['accepted']}, "
            f"已存在 duplicates {batch['duplicates']}, 区域外 outside {batch['outside']}, "
            f"批次 batch {batch.get('id') or '-'} ({state})"
        )
    if error:
        lines.append(f"错误 / error ({status} {error.get('code')}): {error.get('message')}")
    rejects = (error or body).get("rejects") or []
    for reject in rejects[:50]:
        lines.append(f"  第 {reject['row']} 行 / row {reject['row']}: "
                     f"{reject['reason_zh']} / {reject['reason_en']}")  # fmt: skip
    if len(rejects) > 50:
        lines.append(f"  … {len(rejects) - 50} more")
    return "\n".join(lines)


def _multipart(boundary: str, path: Path, fields: dict[str, str]) -> bytes:
    parts = []
    for key, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{key}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    filename = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {kind}\r\n\r\n"
    )
    parts += [head.encode(), path.read_bytes(), f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts)


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        return Path(args.token_file).read_text(encoding="utf-8").strip()
    return os.environ.get(TOKEN_ENV, "").strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="survey file (CSV)")
    parser.add_argument("--url", required=True, help="server, e.g. https://civicgrid.example")
    parser.add_argument("--token-file", help=f"file holding the token (default: ${TOKEN_ENV})")
    parser.add_argument("--source", default="survey", help="source scoping the ids")
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    parser.add_argument("--lenient", action="store_true", help="skip bad rows, keep good ones")
    parser.add_argument("--timeout", type=float, default=300, help="seconds (default 300)")
    return parser


if __name__ == "__main__":
    sys.exit(main())

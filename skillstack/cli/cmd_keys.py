"""CLI commands for the server's API keys: `keys create` (prints a new key once) and `keys list`.

Only SHA-256 hashes are stored (HOME/api_keys); a lost key cannot be recovered, only replaced.
"""

from __future__ import annotations

import time

import typer

from .common import JSON_OPTION, emit, settings_from

app = typer.Typer(name="keys", help="API keys for `skillstack serve` (stored hashed in the home).", no_args_is_help=True)


@app.command("create")
def create(ctx: typer.Context, name: str = typer.Option("", "--name", help="A label for the key (no spaces)."),
           as_json: bool = JSON_OPTION) -> None:
    """Make a new API key, store its hash and print the key: this is the only time it is shown."""
    from skillstack.skills.server.auth import create_key, keys_path

    settings = settings_from(ctx)
    key = create_key(settings, name=name)
    emit({"key": key, "name": name, "file": str(keys_path(settings))}, as_json,
         lambda d: f"{d['key']}\n(shown once; its SHA-256 hash is stored in {d['file']})")


@app.command("list")
def list_keys(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """The stored keys: name, creation time and the start of each hash (never a key)."""
    from skillstack.skills.server.auth import keys_path, read_keys_file

    settings = settings_from(ctx)
    keys = [{"name": k.name, "created": k.created, "hash": f"sha256:{k.digest.hex()[:12]}..."}
            for k in read_keys_file(keys_path(settings))]

    def human(rows: list[dict]) -> str:
        if not rows:
            return "no keys stored; create one with `skillstack keys create`"
        return "\n".join(f"{r['hash']}  {time.strftime('%Y-%m-%d %H:%M', time.gmtime(r['created']))}  {r['name']}"
                         for r in rows)

    emit(keys, as_json, human)

"""Entry point of the `skillstack` command: the root app, --home, and one-line errors.

Each command module (cmd_<name>.py) defines one `app = typer.Typer(...)`, mounted here the same way:
named (`name="data"`) it is a group, `skillstack data ...`; unnamed its commands sit at the top level
(`skillstack ingest`). Heavy libraries are imported inside the commands, so `skillstack --help` is instant.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Optional

import click
import typer

from skillstack.errors import SkillstackError

USAGE_EXIT_CODE = 2  # as for every SkillstackError: one line, exit 2, never a traceback

# The command modules, in the order their commands appear in --help: knowledge, the agent, skills, building skills.
COMMAND_MODULES = ("retrieval", "graph", "skills", "vllm", "keys", "data", "train", "evaluate", "jobs")

app = typer.Typer(
    name="skillstack",
    help="Knowledge (RAG over Chroma) and behaviour (LoRA skills) for LangGraph agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", help="skillstack home (config, store, skills); default $SKILLSTACK_HOME or ~/.skillstack."),
) -> None:
    ctx.obj = {"home": home}


for _name in COMMAND_MODULES:
    app.add_typer(importlib.import_module(f"{__package__}.cmd_{_name}").app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a SkillstackError becomes one line on stderr and exit code 2, never a traceback."""
    try:
        # Without standalone mode click returns typer.Exit's code instead of raising it.
        result = app(args=argv, standalone_mode=False)
    except SkillstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, typer.Abort):
        print("aborted", file=sys.stderr)
        return 1
    # typer ships its own copy of click, whose usage errors (bad values, unknown options) are not click's classes.
    except (click.ClickException, typer.exceptions.TyperException) as exc:
        print(usage_line(exc), file=sys.stderr)
        return USAGE_EXIT_CODE
    return result if isinstance(result, int) else 0


def usage_line(exc: BaseException) -> str:
    """A usage error as one line: what is wrong, then where the command's help is."""
    message = " ".join(str(getattr(exc, "format_message", lambda: exc)()).split())
    ctx = getattr(exc, "ctx", None)
    return f"error: {message}" + (f" (see `{ctx.command_path} --help`)" if ctx is not None else "")


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

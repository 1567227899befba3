"""What every command shares: settings, services, output consoles and the error edge."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from evwire.errors import EvwireError
from evwire.pipeline import Services, open_services
from evwire.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    """One red line on stderr."""
    text = " ".join(str(message).split())
    err.print(f"[bold red]error:[/bold red] {escape(text)}")


def echo_json(obj: Any) -> None:
    """One JSON document on one line, on stdout (never through Rich, so it is never wrapped)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def redact_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as it is
        return url


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise EvwireError(f"invalid setting EVWIRE_{field.upper()}: {first.get('msg')}") from exc
    except ValueError as exc:
        raise EvwireError(str(exc)) from exc


@contextmanager
def services(settings: Settings) -> Iterator[Services]:
    svc = open_services(settings)
    try:
        yield svc
    finally:
        svc.close()


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """The CLI edge: errors become one red line on stderr and exit code 1, never a traceback.

    EVWIRE_DEBUG=1 lets unexpected errors through with their traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except EvwireError as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            fail(f"database error: {detail}; check EVWIRE_DATABASE_URL and that the database is reachable")
        except OSError as exc:
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except KeyboardInterrupt:
            fail("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("EVWIRE_DEBUG"):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set EVWIRE_DEBUG=1 to see the traceback)")
        raise typer.Exit(1)

    return wrapper

"""TP5's CRUD script: create, list, get, update and delete rows of the course's `students` table.

    export DATABASE_URL=postgresql://week:PASSWORD@database:5432/week     # the sandbox has it set
    python crud.py list                       # the query that checks the data is there
    python crud.py create --first-name Ada --last-name Lovelace --email ada@example.org --grade 18.5
    python crud.py get 1
    python crud.py update 1 --grade 19 --cohort M2-DATA
    python crud.py delete 1

Needs psycopg 3 (`pip install "psycopg[binary]"`; the sandbox and the API's venv have it). Every
query is parameterised; the table is created by initdb/001-course.sql. Output is a plain-text
table; errors are one line on stderr: exit 1 when the database refuses or does not answer (down,
unknown id, a constraint violated), 2 for a bad command line or value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

COLUMNS = ("id", "first_name", "last_name", "email", "cohort", "birth_date", "grade")
EDITABLE = COLUMNS[1:]
SELECT = f"SELECT {', '.join(COLUMNS)} FROM students"


class CrudError(Exception):
    """A one-line error for the user; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------------------ argument types


def text_value(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value.strip()


def grade_value(value: str) -> Decimal | None:
    if value.lower() in ("", "none", "null"):
        return None
    try:
        grade = Decimal(value)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(
            f"must be a number between 0 and 20, got {value!r}"
        ) from exc
    if not grade.is_finite() or not Decimal(0) <= grade <= Decimal(20):
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 20, got {value!r}")
    return grade


def date_value(value: str) -> dt.date | None:
    if value.lower() in ("", "none", "null"):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {value!r}") from exc


def student_id(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value!r}")
    return int(value)


def add_fields(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--first-name", type=text_value, required=required)
    parser.add_argument("--last-name", type=text_value, required=required)
    parser.add_argument("--email", type=text_value, required=required)
    parser.add_argument("--cohort", type=text_value, help="default M2-IOT on create")
    parser.add_argument("--birth-date", type=date_value, help="YYYY-MM-DD (none to clear)")
    parser.add_argument("--grade", type=grade_value, help="0 to 20 (none to clear)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python crud.py",
        description="Create, list, get, update and delete students (TP5) through DATABASE_URL.",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (default: the DATABASE_URL environment variable)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="add a student")
    add_fields(create, required=True)
    listing = commands.add_parser("list", help="list students (the check that the data is there)")
    listing.add_argument("--cohort", type=text_value, help="only this cohort")
    listing.add_argument("--limit", type=student_id, default=100, help="at most N rows (100)")
    get = commands.add_parser("get", help="show one student")
    get.add_argument("id", type=student_id)
    update = commands.add_parser("update", help="change fields of one student")
    update.add_argument("id", type=student_id)
    add_fields(update, required=False)
    delete = commands.add_parser("delete", help="delete one student")
    delete.add_argument("id", type=student_id)
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    # `--grade none` / `--birth-date none` clear a field on update: remember they were given
    args.cleared = {
        column
        for column in ("grade", "birth_date")
        if getattr(args, column, None) is None
        and any(a.split("=")[0] == f"--{column.replace('_', '-')}" for a in raw)
    }
    if args.command == "update" and not changes(args):
        parser.error("update needs at least one field to change (--first-name, --grade, ...)")
    return args


def changes(args: argparse.Namespace) -> dict[str, Any]:
    """The fields given on the command line (a cleared date or grade is None but given)."""
    given = {}
    for column in EDITABLE:
        if getattr(args, column, None) is not None or column in getattr(args, "cleared", ()):
            given[column] = getattr(args, column)
    return given


# ------------------------------------------------------------------------------ database


def where(url: str) -> str:
    """host:port/dbname of a URL, never its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "the configured database"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


def connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = first.rsplit("failed: ", 1)[-1].strip().lower()  # "connection refused", ...
        if "password" in reason.lower():
            reason = "authentication failed"
        raise CrudError(f"database {where(url)} does not answer ({reason})") from exc
    except psycopg.ProgrammingError as exc:
        raise CrudError("DATABASE_URL is not a valid PostgreSQL URL", code=2) from exc


def run(args: argparse.Namespace, url: str) -> list[tuple[Any, ...]]:
    """Run the command; return the rows to print."""
    import psycopg
    from psycopg import errors, sql

    with connect(url) as conn:
        try:
            if args.command == "list":
                if args.cohort is None:
                    return conn.execute(f"{SELECT} ORDER BY id LIMIT %s", (args.limit,)).fetchall()
                return conn.execute(
                    f"{SELECT} WHERE cohort = %s ORDER BY id LIMIT %s", (args.cohort, args.limit)
                ).fetchall()
            if args.command == "create":
                values = {c: getattr(args, c) for c in EDITABLE if getattr(args, c) is not None}
                query = sql.SQL("INSERT INTO students ({}) VALUES ({}) RETURNING {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, values)),
                    sql.SQL(", ").join(sql.Placeholder() * len(values)),
                    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                )
                return conn.execute(query, tuple(values.values())).fetchall()
            if args.command == "get":
                rows = conn.execute(f"{SELECT} WHERE id = %s", (args.id,)).fetchall()
            elif args.command == "update":
                values = changes(args)
                query = sql.SQL("UPDATE students SET {} WHERE id = %s RETURNING {}").format(
                    sql.SQL(", ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values
                    ),
                    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                )
                rows = conn.execute(query, (*values.values(), args.id)).fetchall()
            else:
                rows = conn.execute(
                    f"DELETE FROM students WHERE id = %s RETURNING {', '.join(COLUMNS)}",
                    (args.id,),
                ).fetchall()
            if not rows:
                raise CrudError(f"no student with id {args.id}")
            return rows
        except errors.UniqueViolation as exc:
            raise CrudError(f"email {args.email!r} is already used by another student") from exc
        except errors.IntegrityError as exc:  # check and not-null constraints
            diag = exc.diag
            raise CrudError(
                f"refused by the table's constraint {diag.constraint_name or diag.column_name}"
                f" ({diag.message_primary})"
            ) from exc
        except errors.UndefinedTable as exc:
            raise CrudError(
                f"no students table in {where(url)} (create it with initdb/001-course.sql)"
            ) from exc
        except psycopg.OperationalError as exc:
            raise CrudError(f"database {where(url)} stopped answering ({exc})") from exc


def format_table(rows: Sequence[Sequence[Any]]) -> str:
    """Rows under the column names, aligned; None shows as an empty cell."""
    cells = [list(COLUMNS)] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url or os.environ.get("DATABASE_URL")
    if not url:
        print("error: DATABASE_URL is not set (or give --database-url)", file=sys.stderr)
        return 2
    try:
        rows = run(args, url)
    except CrudError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    print(format_table(rows))
    verb = {"create": "created", "update": "updated", "delete": "deleted"}.get(args.command)
    print(f"{len(rows)} student{'s' if len(rows) != 1 else ''}{f' {verb}' if verb else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

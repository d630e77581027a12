"""TP5 (Jour 5): a CRUD script over your table. Your code goes where the TODOs are.

    export DATABASE_URL=postgresql://week:PASSWORD@database:5432/week     # the sandbox has it set
    python crud.py list
    python crud.py create ...
    python crud.py get 1
    python crud.py update 1 ...
    python crud.py delete 1

What the course asks ("créer, lire, mettre à jour, supprimer des lignes"): connect with psycopg 3
(`import psycopg`; the sandbox has it), and write one function per operation on the table you
created in initdb/001-course.sql. Pass values as query parameters (`%s`), never by pasting them
into the SQL text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    # TODO TP5: parse args (list, create, get, update, delete), connect, run the query, print rows
    print(f"TODO TP5: crud.py {' '.join(args)} is not written yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""A small evaluator of the Terraform expressions the local stack synthesises, for machines
without Terraform (CI installs none: it is not in Debian). It knows templates (`${...}`,
`$${` escapes, nested string templates), references (local.*, var.*, path.module), `a ? b : c`,
and the functions the stack uses: try, coalesce, element, regex, trimspace, file, fileexists,
urlencode, sensitive, nonsensitive. Anything else is an error that names it, so a new expression
in the stack fails loudly rather than resolving wrongly; with Terraform on the PATH the tests
use Terraform itself and check that both agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus


class ExpressionError(ValueError):
    """An expression this evaluator cannot handle, or that Terraform would refuse."""


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Template:
    parts: tuple[Any, ...]  # str or node


@dataclass(frozen=True)
class Ref:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Cond:
    test: Any
    then: Any
    other: Any


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def error(self, what: str) -> ExpressionError:
        return ExpressionError(f"{what} at {self.i} in {self.text!r}")

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.i)

    def expect(self, s: str) -> None:
        if not self.peek(s):
            raise self.error(f"expected {s!r}")
        self.i += len(s)

    def template(self, end: str | None) -> Template:
        """Text up to END (a closing quote) or the end, with ${...} interpolations."""
        parts: list[Any] = []
        buf: list[str] = []
        t = self.text
        while self.i < len(t):
            if end is not None and t[self.i] == end:
                break
            if t.startswith("$${", self.i):
                buf.append("${")
                self.i += 3
            elif t.startswith("${", self.i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                self.i += 2
                parts.append(self.expr())
                self.expect("}")
            elif end is not None and t[self.i] == "\\":
                esc = t[self.i + 1]
                mapped = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
                if esc not in mapped:
                    raise self.error(f"escape \\{esc} is not handled")
                buf.append(mapped[esc])
                self.i += 2
            else:
                buf.append(t[self.i])
                self.i += 1
        if buf:
            parts.append("".join(buf))
        return Template(tuple(parts))

    def expr(self) -> Any:
        test = self.primary()
        if self.peek("?"):
            self.i += 1
            then = self.expr()
            self.expect(":")
            return Cond(test, then, self.expr())
        return test

    def primary(self) -> Any:
        self.ws()
        t = self.text
        if self.i >= len(t):
            raise self.error("expression expected")
        if t[self.i] == '"':
            self.i += 1
            node = self.template('"')
            self.expect('"')
            return node
        if t[self.i] == "(":
            self.i += 1
            node = self.expr()
            self.expect(")")
            return node
        m = re.compile(r"-?\d+(\.\d+)?").match(t, self.i)
        if m:
            self.i = m.end()
            return Lit(float(m.group()) if m.group(1) else int(m.group()))
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(t, self.i)
        if m is None:
            raise self.error("expression expected")
        self.i = m.end()
        name = m.group()
        if name in ("true", "false", "null"):
            return Lit({"true": True, "false": False, "null": None}[name])
        if self.peek("("):
            self.i += 1
            args: list[Any] = []
            while not self.peek(")"):
                args.append(self.expr())
                if self.peek(","):
                    self.i += 1
            self.expect(")")
            return Call(name, tuple(args))
        path = [name]
        while self.text.startswith(".", self.i):
            self.i += 1
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.text, self.i)
            if m is None:
                raise self.error("attribute name expected")
            self.i = m.end()
            path.append(m.group())
        return Ref(tuple(path))


def parse_template(text: str) -> Any:
    p = _Parser(text)
    node = p.template(None)
    if p.i != len(text):
        raise p.error("unexpected text")
    return node


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ExpressionError(f"cannot interpolate a {type(value).__name__} into a string")


class Evaluator:
    """Evaluates templates with LOCALS (raw, evaluated on demand), VARIABLES and a module folder."""

    def __init__(
        self,
        locals_: Mapping[str, Any],
        variables: Mapping[str, Any],
        module: Path,
        refs: Mapping[str, Any] | None = None,
    ):
        self.locals = dict(locals_)
        self.variables = dict(variables)
        self.module = module
        self.refs = dict(refs or {})  # other references ("docker_volume.x.name") by their text
        self._cache: dict[str, Any] = {}
        self._busy: set[str] = set()
        self.functions: dict[str, Callable[..., Any]] = {
            "trimspace": lambda s: str(s).strip(),
            "element": lambda lst, i: list(lst)[int(i) % len(lst)],
            "regex": self._regex,
            "file": lambda p: Path(p).read_text(),
            "fileexists": lambda p: Path(p).is_file(),
            "urlencode": lambda s: quote_plus(str(s), safe="-_.~"),
            "sensitive": lambda v: v,
            "nonsensitive": lambda v: v,
            "coalesce": self._coalesce,
        }

    @staticmethod
    def _regex(pattern: str, text: str) -> Any:
        m = re.search(pattern, text)
        if m is None:
            raise ExpressionError("regex: pattern did not match")
        if m.re.groups == 0:
            return m.group(0)
        return list(m.groups())

    @staticmethod
    def _coalesce(*values: Any) -> Any:
        for v in values:
            if v is not None and v != "":
                return v
        raise ExpressionError("coalesce: no non-null, non-empty argument")

    def local(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name not in self.locals:
            raise ExpressionError(f"no local {name}")
        if name in self._busy:
            raise ExpressionError(f"local {name} refers to itself")
        self._busy.add(name)
        try:
            value = self.value(self.locals[name])
        finally:
            self._busy.discard(name)
        self._cache[name] = value
        return value

    def value(self, raw: Any) -> Any:
        """A JSON value of the configuration, its strings evaluated as templates."""
        if isinstance(raw, str):
            return self.eval(parse_template(raw))
        if isinstance(raw, list):
            return [self.value(v) for v in raw]
        if isinstance(raw, dict):
            return {k: self.value(v) for k, v in raw.items()}
        return raw

    def eval(self, node: Any) -> Any:
        if isinstance(node, Template):
            if len(node.parts) == 1 and not isinstance(node.parts[0], str):
                return self.eval(node.parts[0])
            return "".join(p if isinstance(p, str) else _to_str(self.eval(p)) for p in node.parts)
        if isinstance(node, Lit):
            return node.value
        if isinstance(node, Cond):
            test = self.eval(node.test)
            if not isinstance(test, bool):
                raise ExpressionError(f"condition is not a bool: {test!r}")
            return self.eval(node.then if test else node.other)
        if isinstance(node, Ref):
            head, rest = node.path[0], node.path[1:]
            if head == "local" and len(rest) == 1:
                return self.local(rest[0])
            if head == "var" and len(rest) == 1:
                if rest[0] not in self.variables:
                    raise ExpressionError(f"no value for var.{rest[0]}")
                return self.variables[rest[0]]
            if node.path == ("path", "module"):
                return str(self.module)
            text = ".".join(node.path)
            if text in self.refs:
                return self.refs[text]
            raise ExpressionError(f"reference {text} is not handled")
        if isinstance(node, Call):
            if node.name == "try":
                for arg in node.args:
                    try:
                        return self.eval(arg)
                    except (ExpressionError, IndexError, OSError, ZeroDivisionError):
                        continue
                raise ExpressionError("try: no argument could be evaluated")
            fn = self.functions.get(node.name)
            if fn is None:
                raise ExpressionError(f"function {node.name} is not handled")
            return fn(*(self.eval(a) for a in node.args))
        raise ExpressionError(f"node {node!r} is not handled")

"""The JavaScript-subset parser: one ``{{ }}`` segment in, one Jinja expression out.

Accepted: member access (``.``, ``[]``, ``?.``), calls, literals (numbers, strings, arrays,
objects), ``|| && ! ?: ?? === !== == != < <= > >= + - * / % ** typeof``. Every operator but
the short-circuiting ones becomes a call of :mod:`.operators` (``js_op_add(a, b)``). The output
only ever names our own variables (``dollar_json``, ``js_Math``, …), and every sub-expression is
parenthesised, so Jinja's operator precedence never matters. No Python source is built from user
text.
"""

from __future__ import annotations

import difflib
from typing import Final, NoReturn

from plivo_node.expressions.coercion import to_string
from plivo_node.expressions.js_globals import GLOBAL_NAMES
from plivo_node.expressions.limits import MAX_NESTING
from plivo_node.expressions.operators import BINARY, UNARY
from plivo_node.expressions.tokens import (
    JS_KEYWORDS,
    SyntaxProblemError,
    Token,
    decode_string,
    literal_number,
    tokenize,
)
from plivo_node.expressions.variables import VARIABLES

# n8n variables that make no sense outside n8n: refused with "not available", not "unknown".
_UNAVAILABLE: Final = frozenset(
    [
        "env",
        "vars",
        "secrets",
        "workflow",
        "execution",
        "runIndex",
        "prevNode",
        "mode",
        "credentials",
        "response",
        "responseItem",
        "value",
        "jmespath",
        "evaluateExpression",
        "items",
        "item",
        "ifEmpty",
        "fromAI",
    ]
)
_LITERALS: Final = {"true": "true", "false": "false", "null": "none"}
_KNOWN_VARIABLES: Final = [name.replace("dollar_", "$") for name in VARIABLES if name != "dollar"]
_LIKELY_VARIABLES: Final = [f"${name}" for name in ("json", "binary", "parameter", "now", "today")]


def translate_segment(segment: str, offset: int) -> tuple[str, set[str]]:
    """One segment's Jinja expression and the Jinja names it uses.

    ``offset`` is where the segment starts in the template, so problems point into the template.
    """
    try:
        translator = _Translator(segment)
        return translator.translate(), translator.names
    except SyntaxProblemError as problem:
        problem.position += offset
        raise


class _Translator:
    """A recursive-descent parser writing Jinja source as it goes, one method per precedence."""

    def __init__(self, segment: str) -> None:
        self.tokens = tokenize(segment)
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()

    # token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *texts: str) -> str | None:
        token = self.current
        if token.kind == "punct" and token.text in texts:
            self.index += 1
            return token.text
        return None

    def expect(self, text: str) -> None:
        if self.accept(text) is None:
            self.fail(f"Expected '{text}'")

    def fail(self, message: str, hint: str | None = None) -> NoReturn:
        token = self.current
        if token.kind == "name" and token.text in JS_KEYWORDS:
            raise SyntaxProblemError(
                f"The JavaScript keyword '{token.text}' is not supported", token.position, hint
            )
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        raise SyntaxProblemError(f"{message} but found {found}", token.position, hint)

    def use(self, name: str) -> str:
        self.names.add(name)
        return name

    def enter(self) -> None:
        """Count one more level of nesting; Jinja and Python recursion stay bounded."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise SyntaxProblemError("The expression is nested too deeply", self.current.position)

    # grammar, lowest precedence first
    def translate(self) -> str:
        if self.current.kind == "end":
            raise SyntaxProblemError(
                "The {{ }} is empty", 0, "write an expression such as $json.name"
            )
        result = self.expression()
        if self.current.kind != "end":
            self.fail("Expected the end of the expression", "use one expression per {{ }}")
        return result

    def expression(self) -> str:
        self.enter()
        condition = self.coalesce()
        if self.accept("?"):
            when_true = self.expression()
            self.expect(":")
            when_false = self.expression()
            test = f"{self.use('js_Boolean')}({condition})"
            condition = f"(({when_true}) if {test} else ({when_false}))"
        self.depth -= 1
        return condition

    def coalesce(self) -> str:
        start = self.index
        left = self.logical_or()
        while self.accept("??"):
            self.refuse_mixed_logic(start)
            right_start = self.index
            right = self.logical_or()
            self.refuse_mixed_logic(right_start)
            # Jinja's `or` keeps the short circuit; js_present is falsy only for null/undefined.
            left = f"{self.use('js_unwrap')}(({self.use('js_present')}({left})) or ({right}))"
        return left

    def refuse_mixed_logic(self, start: int) -> None:
        """JavaScript refuses ``a || b ?? c``: '??' needs parentheses next to '||' and '&&'."""
        depth = 0
        for token in self.tokens[start : self.index]:
            if token.kind != "punct":
                continue
            if token.text in ("(", "[", "{"):
                depth += 1
            elif token.text in (")", "]", "}"):
                depth -= 1
            elif depth == 0 and token.text in ("||", "&&"):
                raise SyntaxProblemError(
                    "'??' cannot be mixed with '||' or '&&' without parentheses",
                    token.position,
                    "add parentheses, e.g. ($json.a || $json.b) ?? 'none'",
                )

    def logical_or(self) -> str:
        left = self.logical_and()
        while self.accept("||"):
            left = self.short_circuit(left, "or", self.logical_and())
        return left

    def logical_and(self) -> str:
        left = self.equality()
        while self.accept("&&"):
            left = self.short_circuit(left, "and", self.equality())
        return left

    def short_circuit(self, left: str, operator: str, right: str) -> str:
        """``||``/``&&`` with JavaScript's truthiness ([] and {} are true) and short circuit."""
        truth, unwrap = self.use("js_truth"), self.use("js_unwrap")
        return f"{unwrap}(({truth}({left})) {operator} ({right}))"

    def binary(self, operator: str, left: str, right: str) -> str:
        return f"{self.use('js_op_' + BINARY[operator][0])}({left}, {right})"

    def equality(self) -> str:
        left = self.relational()
        while operator := self.accept("===", "!==", "==", "!="):
            left = self.binary(operator, left, self.relational())
        return left

    def relational(self) -> str:
        left = self.additive()
        while operator := self.accept("<", "<=", ">", ">="):
            left = self.binary(operator, left, self.additive())
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while operator := self.accept("+", "-"):
            left = self.binary(operator, left, self.multiplicative())
        return left

    def multiplicative(self) -> str:
        left = self.exponent()
        while operator := self.accept("*", "/", "%"):
            left = self.binary(operator, left, self.exponent())
        return left

    def exponent(self) -> str:
        unary_first = self.current.text in ("!", "-", "+", "typeof")
        base = self.unary()
        if self.current.text == "**" and self.current.kind == "punct":
            if unary_first:
                self.fail(
                    "JavaScript needs parentheses around a unary operator before '**'",
                    "write (-2) ** 2 or -(2 ** 2)",
                )
            self.advance()
            self.enter()
            exponent = self.exponent()
            self.depth -= 1
            return self.binary("**", base, exponent)
        return base

    def unary(self) -> str:
        operator = self.accept("!", "-", "+")
        if operator is None and self.current.kind == "name" and self.current.text == "typeof":
            operator = self.advance().text
        if operator is None:
            return self.postfix()
        self.enter()
        operand = self.unary()
        self.depth -= 1
        if operator == "!":
            return f"(not {self.use('js_Boolean')}({operand}))"
        return f"{self.use('js_op_' + UNARY[operator][0])}({operand})"

    def postfix(self) -> str:
        value = self.primary()
        optional = False  # after ?. the rest of the chain tolerates null, as in JavaScript
        while True:
            if self.accept("?."):
                optional = True
                if self.accept("("):
                    value = f"({self.use('js_optcall')}({value}))({self.items(')')})"
                elif self.accept("["):
                    value = self.access(value, self.bracketed_key(), optional=True)
                else:
                    value = self.access(value, self.member_name(), optional=True)
            elif self.accept("."):
                value = self.access(value, self.member_name(), optional=optional)
            elif self.accept("["):
                value = self.access(value, self.bracketed_key(), optional=optional)
            elif self.accept("("):
                arguments = self.items(")")
                if optional:
                    value = f"{self.use('js_optcall')}({value})"
                value = f"({value})({arguments})"
            else:
                return value

    def access(self, value: str, key: str, *, optional: bool) -> str:
        if optional:
            return f"{self.use('js_opt')}({value}, {key})"
        return f"({value})[{key}]"

    def bracketed_key(self) -> str:
        key = self.expression()
        self.expect("]")
        return key

    def member_name(self) -> str:
        token = self.current
        if token.kind != "name":
            self.fail("Expected a property name after '.'")
        self.advance()
        self.refuse_internal(token)
        return ascii(token.text)

    @staticmethod
    def refuse_internal(token: Token) -> None:
        name = token.text if token.kind == "name" else ""
        if name.startswith("__"):
            raise SyntaxProblemError(
                f"Access to '{name}' is refused: names starting with '__' are internal",
                token.position,
            )

    def items(self, closing: str) -> str:
        """Comma-separated expressions up to ``closing`` (call arguments, array items)."""
        values: list[str] = []
        while not self.accept(closing):
            values.append(self.expression())
            if not self.accept(","):
                self.expect(closing)
                break
        return ", ".join(values)

    def primary(self) -> str:
        token = self.advance()
        if token.kind == "number":
            return repr(literal_number(token.text, token.position))
        if token.kind == "string":
            return ascii(decode_string(token.text, token.position))
        if token.kind == "name":
            return self.name(token)
        if token.kind == "punct" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return f"({inner})"
        if token.kind == "punct" and token.text == "[":
            return f"[{self.items(']')}]"
        if token.kind == "punct" and token.text == "{":
            return self.object_literal()
        if token.kind == "punct" and token.text == "/":
            raise SyntaxProblemError(
                "Regular expressions (/…/) are not supported",
                token.position,
                "use text, e.g. .replaceAll('a', 'b') or .split(',')",
            )
        self.index -= 1
        return self.fail("Expected a value")

    def object_literal(self) -> str:
        entries: list[str] = []
        while not self.accept("}"):
            token = self.advance()
            if token.kind == "name":
                key = ascii(token.text)
            elif token.kind == "string":
                key = ascii(decode_string(token.text, token.position))
            elif token.kind == "number":
                key = ascii(to_string(literal_number(token.text, token.position)))
            elif token.kind == "punct" and token.text == "[":
                key = f"{self.use('js_String')}({self.bracketed_key()})"  # keys are text in JS
            else:
                self.index -= 1
                self.fail("Expected a property name in the object")
            self.expect(":")
            entries.append(f"{key}: {self.expression()}")
            if not self.accept(","):
                self.expect("}")
                break
        # Spaces keep a closing "}}" out of the Jinja source.
        return "{ " + ", ".join(entries) + " }"

    def name(self, token: Token) -> str:
        text = token.text
        self.refuse_internal(token)
        if text.startswith("$"):
            return self.variable(token)
        if text in _LITERALS:
            return _LITERALS[text]
        if text in GLOBAL_NAMES:
            return self.use(GLOBAL_NAMES[text])
        if text in JS_KEYWORDS:
            raise SyntaxProblemError(
                f"The JavaScript keyword '{text}' is not supported", token.position
            )
        close = difflib.get_close_matches(f"${text}", _LIKELY_VARIABLES, n=1, cutoff=0.8)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        raise SyntaxProblemError(
            f"Unknown name '{text}'{suggestion}",
            token.position,
            "variables start with $ ($json, $now, …); only Math, JSON, Object, String, Number, "
            "Boolean, parseInt, parseFloat, isNaN and isFinite are available as functions",
        )

    def variable(self, token: Token) -> str:
        text = token.text
        jinja_name = "dollar" if text == "$" else f"dollar_{text[1:]}"
        if jinja_name in VARIABLES:
            return self.use(jinja_name)
        if text[1:] in _UNAVAILABLE:
            raise SyntaxProblemError(f"{text} is not available in plivo-node", token.position)
        close = difflib.get_close_matches(text, _KNOWN_VARIABLES, n=1)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        raise SyntaxProblemError(
            f"Unknown variable {text}{suggestion}",
            token.position,
            f"available: {', '.join(_KNOWN_VARIABLES)} and $('Step name')",
        )

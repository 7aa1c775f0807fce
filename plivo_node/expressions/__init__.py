"""``={{ }}`` expressions: n8n's JavaScript-flavoured templates, compiled once, evaluated per item.

Only a string that starts with ``=`` is an expression. Each ``{{ … }}`` segment is read by a
small parser (:mod:`.parser`) that accepts a JavaScript subset and rewrites it into a Jinja2
expression naming only our own variables. That expression is compiled once by a sandboxed Jinja
environment (:mod:`.sandbox`) whose attribute, item, call and operator hooks are replaced by an
allowlist: JSON objects answer with their keys, strings/arrays/numbers/dates with JavaScript
methods (:mod:`.methods`, :mod:`.dates`), and nothing else is reachable.

Variables: ``$json $binary $itemIndex $parameter $now $today $input $('Step') $node["Step"]``
(:mod:`.variables`) and the globals ``Math JSON Object String Number Boolean parseInt
parseFloat isNaN isFinite NaN Infinity undefined`` (:mod:`.js_globals`). Values convert and
compare as in JavaScript (:mod:`.coercion`); every builder of text or arrays is bounded
(:mod:`.limits`); JSON text and the parameter boundary are in :mod:`.json_text`.
"""

from plivo_node.expressions.compiled import CompiledExpression, compile_expression, is_expression
from plivo_node.expressions.context import ExpressionContext
from plivo_node.expressions.json_text import to_text
from plivo_node.expressions.limits import MAX_SOURCE_CHARS, MAX_TEXT_CHARS

__all__ = [
    "MAX_SOURCE_CHARS",
    "MAX_TEXT_CHARS",
    "CompiledExpression",
    "ExpressionContext",
    "compile_expression",
    "is_expression",
    "to_text",
]

#!/usr/bin/env node
// Writes tests/fixtures/expressions_golden.json: what Node.js (JavaScript itself) gives for each
// expression of the corpus below, evaluated in strict mode with `$json` bound to a context.
// tests/test_expressions_golden.py checks plivo-node's expressions against every entry.
//
// Development only: plivo-node never needs Node. Run after changing the corpus:
//     node scripts/expressions_golden.mjs
//
// Values that JSON cannot hold are tagged: {"$js": "undefined" | "NaN" | "Infinity" |
// "-Infinity" | "-0"}; a thrown error is {"$js": "error", "message": ...}. An entry with
// `refused` is something plivo-node deliberately does not support: it must fail with a clear
// error, and `js` keeps what JavaScript gives, for the record.

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CONTEXTS = {
  default: {
    name: " Ada Lovelace ",
    first: "Ada",
    phone: "+14155550100",
    count: 3,
    price: 2.5,
    zero: 0,
    neg: -7,
    str5: "5",
    numText: " 42 ",
    empty: "",
    space: "   ",
    nul: null,
    t: true,
    f: false,
    tags: ["math", "engines"],
    nums: [1, 2, 3],
    nested: [1, [2, [3, null]]],
    obj: { a: 1, b: { c: "deep" }, "first name": "Ada" },
    csv: "a,b,,c",
    mixed: "Hello, World",
  },
  csv_row: { phone: "14155550101", amount: "19.90", qty: "3", vip: "false", note: "" },
};

const R = (expression, refused, context) => ({ expression, refused, context });
const NAN_TEXT =
  "NaN and Infinity never become text implicitly (+, join, concat, toFixed): a message " +
  "saying NaN is a bug; String(x) still gives the word";

// Each group is a list of expressions (strings) or entries built with R(expression, why).
const CORPUS = {
  strictEquality: [
    "1 === true", "1 === 1", "1 === 1.0", "'1' === 1", "null === undefined", "null === null",
    "undefined === undefined", "NaN === NaN", "0 === -0", "'a' === 'a'", "[] === []",
    "$json.tags === $json.tags", "$json.missing === undefined", "$json.missing === null",
    "$json.nul === null", "$json.nul === undefined", "true !== 1", "'5' !== 5", "{} === {}",
    "$json.count === 3", "$json.price === 2.5", "$json.str5 === '5'",
  ],
  looseEquality: [
    "'5' == 5", "5 == '5'", "1 == true", "0 == false", "'' == 0", "'0' == false",
    "' \\t\\n' == 0", "null == undefined", "null == 0", "undefined == 0", "null == false",
    "undefined == ''", "NaN == NaN", "[] == ''", "[] == 0", "[0] == false", "[1] == 1",
    "[1,2] == '1,2'", "({}) == '[object Object]'", "'true' == true", "'1' == true",
    "2 == true", "'abc' == 'abc'", "[] == []", "$json.missing == null", "$json.nul == undefined",
    "$json.zero == ''", "$json.str5 == 5", "$json.tags == 'math,engines'", "'0x10' == 16",
    "'1e3' == 1000", "'  12  ' == 12", "1 != '1'", "null != undefined", "0 != ''",
    "$json.f == 0", "$json.t == '1'", "'' == false", "[null] == ''", "[undefined] == 0",
  ],
  relational: [
    "'10' < '9'", "10 < 9", "'10' < 9", "'a' < 'b'", "'B' < 'a'", "'abc' < 'abd'",
    "'abc' < 'ab'", "null < 1", "null >= 0", "null > 0", "undefined < 1", "undefined >= 0",
    "NaN < 1", "NaN >= NaN", "'' < 1", "true > false", "[2] > 1", "[1,2] < [1,3]",
    "'2' > '12'", "'2' > 12", "$json.count >= 3", "$json.count > '2'", "$json.price <= 2.5",
    "$json.missing > 0", "$json.nul <= 0", "'a' < 1", "'a' > 1", "1 <= '1'", "[] < 1",
    "({}) < 1", "-0 < 0", "'Z' < 'a'", "'é' > 'z'",
  ],
  arithmetic: [
    "1 + 2", "'1' + 2", "1 + '2'", "1 + 2 + '3'", "'1' + 2 + 3", "true + 1", "true + true",
    "null + 1", "undefined + 1", "null + 'x'", "undefined + 'x'", "[] + []", "[] + {}",
    "[1] + [2]", "[1,2] + 3", "({}) + 1", "'3' - 1", "'3' * '4'", "'10' / '4'", "'7' % '4'",
    "'a' - 1", "'5' - - '2'", "- '5'", "+ '5'", "+ ''", "+ ' 7 '", "+ 'x'", "+ []", "+ [5]",
    "+ [1,2]", "+ {}", "+ null", "+ undefined", "+ true", "- null", "-(-0)", "0 * -1",
    "10 % 3", "-10 % 3", "10 % -3", "5.5 % 2", "-5.5 % 2", "1 % 0", "0 % 5", "2 ** 10",
    "2 ** -1", "2 ** 0.5", "(-8) ** (1/3)", "(-2) ** 3", "0 ** 0", "NaN ** 0", "1 ** Infinity",
    "0 ** -1", "2 ** 1024", "1 / 0", "-1 / 0", "0 / 0", "7 / 2", "1 / 3", "100 / 3",
    "0.1 + 0.2", "0.1 * 3", "9007199254740992 + 1", "2 ** 53 + 2", "1e308 * 10",
    "-1e308 * 10", "5e-324 / 2", "$json.count * $json.price",
    "$json.count + $json.str5", "$json.count - $json.str5", "$json.numText * 2",
    "$json.missing + 1", "$json.nul + 1", "$json.tags + ''", "$json.obj + ''",
    "$json.empty * 5", "$json.space - 1", "$json.t + $json.t", "-$json.neg", "1 - -1",
    "1 + + 1", "2 * 3 ** 2", "(2 * 3) ** 2", "2 ** 3 ** 2", "10 - 2 - 3", "100 / 10 / 2",
  ],
  numberFormatting: [
    "String(1e21)", "String(1e20)", "String(123456789012345680000)", "String(1e-7)",
    "String(0.000001)", "String(1.5e-7)", "String(-1e-7)", "String(2 ** 64)", "String(1 / 3)",
    "String(-0)", "String(0.1 + 0.2)", "String(5e-324)", "String(1.7976931348623157e308)",
    "String(100)", "String(1e6)", "String(123.456)", "String(-123.456e10)", "'' + 1e21",
    "'' + 2 ** 70", "'' + 0.00001", "String(1e16)", "String(12345678901234567)",
    "(1e21).toString()", "(0.1).toString()", "(255).toString(16)", "(255).toString(2)",
    "(-255).toString(36)", "(255).toString()", "(3).toString(10)", "(-0).toString()",
    "String(NaN)", "String(Infinity)", "String(-Infinity)",
  ],
  toFixed: [
    "(2.5).toFixed(0)", "(1.5).toFixed(0)", "(0.5).toFixed(0)", "(-2.5).toFixed(0)",
    "(-1.5).toFixed(0)", "(1.005).toFixed(2)", "(1.45).toFixed(1)", "(1.55).toFixed(1)",
    "(8.345).toFixed(2)", "(2.345).toFixed(2)", "(123.456).toFixed(1)", "(0.000001).toFixed(7)",
    "(1e21).toFixed(2)", "(1e20).toFixed(2)", "(-0.0001).toFixed(2)", "(-0).toFixed(2)",
    "(0).toFixed(2)", "(3).toFixed()", "(10.235).toFixed(2)", "(1.23).toFixed(5)",
    "(0.1).toFixed(20)", "(19.90).toFixed(2)", "$json.price.toFixed(1)",
    "(1.255).toFixed(2)", "(5e-7).toFixed(6)", "(1).toFixed(101)", "(1).toFixed(-1)",
    "(4.35).toFixed(1)", "(99.995).toFixed(2)",
  ],
  conversions: [
    "Number('')", "Number(' ')", "Number(' 12 ')", "Number('1_000')", "Number('0x1F')",
    "Number('-0x1F')", "Number('0b101')", "Number('0o17')", "Number('1e3')", "Number('.5')",
    "Number('5.')", "Number('Infinity')", "Number('-Infinity')", "Number('infinity')",
    "Number('nan')", "Number('inf')", "Number(null)", "Number(undefined)", "Number()",
    "Number(true)", "Number([])", "Number([5])", "Number([1,2])", "Number({})",
    "Number('\\n42\\t')", "Number('１２')", "Number('1 2')", "Number('12px')", "Number('+5')",
    "Number('- 5')", "Number('9'.repeat(400))", "Number('9'.repeat(20000))",
    "Number('0x' + 'f'.repeat(20000))", "Number('0.' + '0'.repeat(20000) + '1')",
    "Number('\\u00a012\\u00a0')", "Number('\\u200b12')", "Number($json.numText)",
    "Number($json.missing)", "Number($json.nul)", "Number('00012')", "Number('-0')",
    "parseInt('42px')", "parseInt('  -17')", "parseInt('0x1F')", "parseInt('1e3')",
    "parseInt('')", "parseInt('abc')", "parseInt('12.9')", "parseInt('ff', 16)",
    "parseInt('z', 36)", "parseInt('10', 2)", "parseInt('10', 1)", "parseInt('10', 37)",
    "parseInt('0x10', 16)", "parseInt('0x10', 10)", "parseInt(null)", "parseInt(15.99)",
    "parseInt('-0')", "parseInt('1'.repeat(400))", "parseInt('9'.repeat(20000))",
    "parseInt('1'.repeat(2000), 2)", "parseInt('1'.repeat(1000), 3)", "parseInt('0'.repeat(20000) + '7')",
    "parseInt('123', 0)", "parseInt('  +42')", "parseInt('0x')", "parseInt('08')",
    "parseInt('\\u00a0 7')", "parseInt('12', 'x')", "parseInt(0.0000005)", "parseInt('-')",
    "parseFloat('3.14abc')", "parseFloat('  .5')", "parseFloat('-.5e-3x')",
    "parseFloat('Infinityx')", "parseFloat('1e')", "parseFloat('1e+')", "parseFloat('abc')",
    "parseFloat('')", "parseFloat('0x10')", "parseFloat('1_000')", "parseFloat('9'.repeat(20000))",
    "parseFloat('-0')", "parseFloat('1.2.3')", "parseFloat(null)", "parseFloat([3.5, 2])",
    "String(null)", "String(undefined)", "String()", "String(123)", "String([1,[2,[3]]])",
    "String([null])", "String([undefined, 1])", "String({})", "String(true)", "String($json.nested)",
    "String($json.obj)", "String($json.missing)", "Boolean('0')", "Boolean(' ')", "Boolean(NaN)",
    "Boolean(-0)", "Boolean([])", "Boolean('false')", "Boolean()", "Boolean(null)",
    "Boolean($json.empty)", "Boolean($json.space)", "isNaN('abc')", "isNaN('12')", "isNaN(undefined)",
    "isFinite('12')", "isFinite(1/0)", "Number.isInteger(5)", "Number.isInteger(5.5)",
    "Number.isInteger('5')", "Number.isNaN('abc')", "Number.isNaN(NaN)", "Number.isFinite('5')",
    "Number.parseFloat('1.5x')", "Number.MAX_SAFE_INTEGER", "Number.isSafeInteger(2 ** 53)",
  ],
  nullishAndOptional: [
    "$json.missing ?? 'd'", "$json.nul ?? 'd'", "$json.zero ?? 'd'", "$json.empty ?? 'd'",
    "$json.f ?? 'd'", "$json.obj?.b?.c", "$json.missing?.b", "$json.missing?.b.c",
    "$json.nul?.x", "$json.tags?.[1]", "$json.tags?.[5]", "$json.obj.missing?.()",
    "$json.obj?.['first name']", "$json.missing ?? $json.nul ?? 'third'",
    "($json.missing || $json.zero) ?? 'x'", "$json.missing || $json.zero ?? 'x'",
    "$json.missing ?? $json.zero || 'x'", "$json.missing && 1 ?? 2", "null ?? undefined",
    "undefined ?? null", "$json.missing.b", "$json.nul.b", "$json.obj.b.c.d.e",
    "$json.tags[9]", "$json.tags[-1]", "$json.tags['1']", "$json.tags[0.5]",
    "$json.obj['b']['c']", "$json['first']", "$json.missing?.b ?? 'fallback'",
  ],
  truthinessAndLogic: [
    "!!''", "!!'0'", "!!0", "!!-0", "!!NaN", "!![]", "!!{}", "!!null", "!!undefined",
    "!!'false'", "[] || 'x'", "'' || 'x'", "0 || null", "null || 0", "1 && 'y'", "0 && 'y'",
    "'' && 'y'", "[] && 'y'", "NaN || 'n'", "$json.missing || 'default'",
    "$json.zero || 'zero is falsy'", "$json.tags && $json.tags.length",
    "$json.nul && $json.nul.x", "$json.t ? 'yes' : 'no'", "$json.empty ? 'yes' : 'no'",
    "$json.space ? 'yes' : 'no'", "[] ? 'yes' : 'no'", "$json.count > 2 ? 'big' : 'small'",
    "$json.f ? 1 : $json.t ? 2 : 3", "!$json.count", "!$json.missing", "!!$json.obj",
    "$json.zero === 0 ? 'zero' : 'other'", "1 < 2 < 3", "3 > 2 > 1", "true && false || true",
    "false || !true && true", "!1 + 1",
  ],
  typeofOperator: [
    "typeof 1", "typeof 'x'", "typeof null", "typeof undefined", "typeof {}", "typeof []",
    "typeof $json.missing", "typeof $json.tags", "typeof Math.max", "typeof typeof 1",
    "typeof NaN", "typeof $json.t", "typeof $json.count === 'number'", "typeof -'5'",
  ],
  strings: [
    "$json.name.trim()", "$json.name.trimStart()", "$json.name.trimEnd()", "'\\u00a0x\\u00a0'.trim()",
    "$json.first.toUpperCase()", "$json.first.toLowerCase()", "'ß'.toUpperCase()",
    "$json.mixed.slice(0, 5)", "$json.mixed.slice(-5)", "$json.mixed.slice(-5, -1)",
    "$json.mixed.slice(5, 2)", "$json.mixed.slice()", "$json.mixed.slice(NaN)",
    "$json.mixed.slice('2', '4')", "$json.mixed.substring(5, 2)", "$json.mixed.substring(-3)",
    "$json.mixed.substring(2)", "$json.mixed.substring(NaN, 3)", "$json.mixed.substr(-5, 3)",
    "$json.mixed.substr(2)", "$json.mixed.substr(2, -1)", "$json.mixed.indexOf('o')",
    "$json.mixed.indexOf('o', 5)", "$json.mixed.indexOf('')", "$json.mixed.indexOf('', 99)",
    "$json.mixed.indexOf('zz')", "$json.mixed.lastIndexOf('o')", "$json.mixed.lastIndexOf('o', 5)",
    "$json.mixed.includes('World')", "$json.mixed.includes('world')", "$json.mixed.includes('H', 1)",
    "$json.mixed.startsWith('Hell')", "$json.mixed.startsWith('World', 7)",
    "$json.mixed.endsWith('World')", "$json.mixed.endsWith('Hello', 5)", "'7'.padStart(3, '0')",
    "'7'.padStart(5, 'ab')", "'7'.padStart(2)", "'abc'.padStart(2, '0')", "'7'.padEnd(4, '-')",
    "'7'.padEnd(3, '')", "'ab'.repeat(3)", "'ab'.repeat(0)", "'ab'.repeat(2.9)", "'ab'.repeat(-1)",
    "'ab'.repeat(Infinity)", "'a-b-a'.replace('a', 'x')", "'a-b-a'.replaceAll('a', 'x')",
    "'abc'.replace('b', '[$&]')", "'abc'.replace('b', '$$')", "'abc'.replace('b', \"$`$'\")",
    "'abc'.replace('b', '$1')", "'aaa'.replaceAll('a', '$&$&')", "'abc'.replaceAll('', '-')",
    "'abc'.replace('', '-')", "'abc'.replace('z', 'y')", "'a.b.c'.replaceAll('.', '')",
    "$json.csv.split(',')", "$json.csv.split(',', 2)", "$json.csv.split(',', 0)",
    "$json.csv.split(',', -1)", "$json.csv.split('')", "$json.csv.split()", "''.split(',')",
    "''.split('')", "'a1b1c'.split(1)", "'anullb'.split(null)", "$json.mixed.charAt(1)",
    "$json.mixed.charAt(99)", "$json.mixed.charAt(-1)", "$json.mixed.charCodeAt(0)",
    "$json.mixed.charCodeAt(99)", "$json.mixed.at(-1)", "$json.mixed.at(99)", "$json.mixed.at()",
    "$json.mixed[0]", "$json.mixed[99]", "$json.mixed.length", "''.length", "'a'.concat('b', 1, null)",
    "'a'.concat([1, 2])", "'abc'.toString()", "$json.phone.slice(-4)", "$json.phone.slice(1)",
    "'x'.repeat(3).length", "'Hi ' + $json.first + '!'", "'a' + null", "'a' + undefined",
    "'a' + [1, [2, 3]]", "'a' + {}", "'a' + true", "'abc'.indexOf()", "'undefined'.includes()",
  ],
  arrays: [
    "$json.tags.length", "$json.tags.join()", "$json.tags.join(' & ')", "$json.tags.join('')",
    "$json.nested.join('-')", "[null, undefined, 1].join()", "[].join()", "[[]].join()",
    "[{}].join()", "$json.nums.includes(2)", "$json.nums.includes('2')", "[NaN].includes(NaN)",
    "[NaN].indexOf(NaN)", "[1, true].indexOf(true)", "[1].includes(true)", "$json.nums.indexOf(3)",
    "$json.nums.indexOf(9)", "$json.nums.indexOf(1, 1)", "[1, 2, 1].lastIndexOf(1)",
    "$json.nums.slice(1)", "$json.nums.slice(-2)", "$json.nums.slice(1, -1)", "$json.nums.slice(5)",
    "$json.nums.concat(4, [5, 6])", "$json.nums.concat([[7]])", "[].concat()", "$json.nums.at(-1)",
    "$json.nums.at(9)", "[1, 2] + ''", "String([1, 2])", "$json.nums.toString()", "[].length",
    "[1, [2, 3]].length", "$json.nums[1] + $json.nums[2]", "[1, 2, 3][1]", "['a', 'b'].indexOf('b')",
    "$json.tags.includes('math')", "$json.tags.concat($json.nums).length",
  ],
  math: [
    "Math.round(2.5)", "Math.round(-2.5)", "Math.round(0.49999999999999994)", "Math.round(-0.4)",
    "Math.round(1.4999)", "Math.round('2.5')", "Math.round(null)", "Math.round()", "Math.floor(-1.5)",
    "Math.floor(1.9)", "Math.ceil(1.2)", "Math.ceil(-0.5)", "Math.trunc(-1.7)", "Math.trunc(1.7)",
    "Math.abs(-3)", "Math.abs('-3')", "Math.abs(null)", "Math.sign(-3)", "Math.sign(0)",
    "Math.sqrt(16)", "Math.sqrt(-1)", "Math.sqrt(2)", "Math.pow(2, 10)", "Math.pow(2, 0.5)",
    "Math.min()", "Math.max()", "Math.max(1, '3', 2)", "Math.min(1, NaN)", "Math.max('a')",
    "Math.max(null, -1)", "Math.min(0, -0)", "Math.max(-0, 0)", "Math.PI", "Math.E",
    "Math.floor(Infinity)", "Math.round(2 ** 60 + 0.5)",
    "Math.round(-0.5)", "Math.floor($json.price)", "Math.max($json.count, $json.str5)",
  ],
  json: [
    "JSON.stringify({a: undefined, b: 1})", "JSON.stringify([undefined, NaN, 1/0])",
    "JSON.stringify('a\"b')", "JSON.stringify(1e21)", "JSON.stringify(-0)",
    "JSON.stringify({a: [1, {b: 2}]}, null, 2)", "JSON.stringify([1, [2]], null, '--')",
    "JSON.stringify(undefined)", "JSON.stringify(null)", "JSON.stringify($json.obj)",
    "JSON.stringify($json.tags)", "JSON.stringify('\\u0001\\n')", "JSON.stringify({})",
    "JSON.stringify([])", "JSON.stringify({a: []}, null, 2)", "JSON.stringify(0.1 + 0.2)",
    "JSON.stringify(2 ** 70)", "JSON.stringify({k: Math.max})", "JSON.stringify([Math.max])",
    "JSON.stringify('é')", "JSON.parse('[1,2]')", "JSON.parse('{\"a\":1.5e3}')",
    "JSON.parse('NaN')", "JSON.parse('1'.repeat(400))", "JSON.parse('\"x\"')",
    "JSON.parse('{')", "JSON.parse('-0')", "JSON.parse(' [1, \"2\", null, true] ')",
    "JSON.parse('{\"a\": {\"b\": [1]}}').a.b[0]", "JSON.parse('12345678901234567890')",
    "Object.keys($json.obj)", "Object.values({a: 1, b: 'x'})", "Object.entries({a: 1})",
    "Object.keys({})",
  ],
  literals: [
    "0x1F", "1_000", "0b101", "0o17", "1e3", ".5", "5.", "1.5e-3", "0", "0.0", "010", "08",
    "'it\\'s'", "\"dq\"", "'\\x41\\u00e9'", "'tab\\there'", "[1, 'a', null]", "{a: 1, 'b c': 2}",
    "{1: 'one'}[1]", "true", "null", "undefined", "NaN", "Infinity", "-Infinity",
    "({a: {b: [1, 2]}}).a.b[1]", "[[1, 2], [3]][1][0]", "0xFFFFFFFFFFFFFFFFF", "1.7976931348623157e308 * 2",
  ],
  syntaxAndRefusals: [
    "1 +", "-2 ** 2", "(-2) ** 2", "1; 2", "a ?? b || c", "$json.", "'open",
    "(1", "[1, 2", "{a: 1", "$json.count.", "1 ? 2", "!", "$json[]",
    R("$json.a = 1", "assignment is refused: expressions only read the item"),
    R("(1, 2)", "the comma operator is not supported"),
    R("$json.count++", "++ and -- are refused: expressions only read the item"),
    R("new Date()", "new is not supported ($now and $today give dates)"),
    R("this", "this is not available"),
    R("void 0", "void is not supported; write undefined"),
    R("delete $json.a", "delete is refused: expressions only read the item"),
    R("'a' in $json", "the in operator is not supported; compare with !== undefined"),
    R("[] instanceof Array", "instanceof is not supported; use typeof"),
    R("$json.count | 1", "bitwise operators are not supported"),
    R("~1", "bitwise operators are not supported"),
    R("1 << 2", "bitwise operators are not supported"),
    R("Math.max(...$json.nums)", "spread (...) is not supported"),
    R("[,]", "array holes are not supported"),
    R("x => x", "arrow functions are not supported"),
    R("1e400", "a number literal beyond the double range is refused when compiled"),
    R("'abc'.foo", "unknown properties of strings are an error, not undefined (catches typos)"),
    R("$json.nums.map", "array methods that take a function are not supported"),
    R("(0.5).toString(2)", "toString(radix) of a fraction is not supported"),
    R("`a${1}b`", "template literals are not supported; join text with +"),
    R("'a'.normalize()", "String.prototype.normalize is not supported"),
    R("/a/.test('a')", "regular expressions are not supported"),
    R("Math.random() < 2", "Math.random is not available: expressions are deterministic"),
    R("Array(3).length", "the Array global is not available"),
    R("$json.count.foo", "unknown properties of numbers are an error, not undefined"),
    R("[1].reverse()", "mutating array methods are not supported"),
  ],
  nonFiniteText: [
    R("'b' + 'a' + + 'a' + 'a'", NAN_TEXT), R("(NaN).toFixed(2)", NAN_TEXT),
    R("(1 / 0).toFixed(1)", NAN_TEXT), R("'' + 1 / 0", NAN_TEXT),
    R("'Total ' + $json.missing * 2", NAN_TEXT), R("[1, NaN].join()", NAN_TEXT),
    R("'a'.concat(NaN)", NAN_TEXT), R("[0 / 0] + ''", NAN_TEXT),
    "String(NaN)", "String(-1 / 0) + '!'", "JSON.stringify({n: NaN})", "isNaN($json.missing * 2)",
    "$json.missing * 2 || 0", "Number($json.name) || 'not a number'", "(0 / 0) === (0 / 0)",
  ],
  csvRows: [
    R("$json.amount * $json.qty", null, "csv_row"), R("$json.amount + $json.qty", null, "csv_row"),
    R("Number($json.amount) + Number($json.qty)", null, "csv_row"),
    R("$json.vip == false", null, "csv_row"), R("$json.vip === 'false'", null, "csv_row"),
    R("!!$json.vip", null, "csv_row"), R("$json.note || 'none'", null, "csv_row"),
    R("$json.note ?? 'none'", null, "csv_row"), R("'+' + $json.phone", null, "csv_row"),
    R("$json.qty > 10", null, "csv_row"), R("$json.qty > '10'", null, "csv_row"),
    R("parseFloat($json.amount).toFixed(1)", null, "csv_row"),
    R("(Number($json.amount) * 1.1).toFixed(2)", null, "csv_row"),
  ],
};

const TAGS = new Map([
  [Infinity, "Infinity"],
  [-Infinity, "-Infinity"],
]);

function encode(value) {
  if (value === undefined) return { $js: "undefined" };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $js: "NaN" };
    if (TAGS.has(value)) return { $js: TAGS.get(value) };
    if (Object.is(value, -0)) return { $js: "-0" };
    return value;
  }
  if (typeof value === "function") return { $js: "function" };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

function evaluate(expression, json) {
  try {
    const run = new Function("$json", `"use strict"; return (${expression}\n);`);
    return encode(run(structuredClone(json)));
  } catch (error) {
    return { $js: "error", message: `${error.name}: ${error.message}` };
  }
}

const entries = [];
for (const [group, items] of Object.entries(CORPUS)) {
  for (const item of items) {
    const { expression, refused, context = "default" } =
      typeof item === "string" ? { expression: item } : item;
    const js = evaluate(expression, CONTEXTS[context]);
    const entry = { group, expression, context };
    if (refused) {
      Object.assign(entry, { expected: { $js: "error" }, refused, js });
    } else {
      entry.expected = js;
    }
    entries.push(entry);
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "tests", "fixtures", "expressions_golden.json");
const golden = {
  generator: "scripts/expressions_golden.mjs",
  node: process.version,
  contexts: CONTEXTS,
  entries,
};
writeFileSync(target, `${JSON.stringify(golden, null, 1)}\n`);
console.log(`${entries.length} entries -> ${target}`);

/**
 * Final-answer handling for MATH-style answers: extraction from model output,
 * normalisation, vote keys and tolerant equivalence.
 *
 * Contract in one paragraph:
 * - `answerKey` is EXACT: numbers become reduced rationals ("1/2", "-3"), so
 *   0.5, 1/2, \frac{2}{4} share a key, but 0.333 (= 333/1000) and \frac13 do not.
 *   Majority voting groups by this key.
 * - `answersEquivalent` is TOLERANT: keys equal, or numbers equal after rounding
 *   to six decimal places, or a decimal within a relative 1e-6 of a fraction with
 *   no finite decimal form (element-wise inside tuples/sets/lists).
 *   It is NOT transitive, which is why it is not used for grouping.
 *
 * Structure rules (see parseValue):
 * - "(a, b)" / "[a, b)" etc. are ordered; bracket types are part of the key,
 *   so "[1,2)" != "[1,2]" while "(1,2)" is both a point and an open interval.
 * - "\{a, b\}" is a set: order-insensitive, duplicates ignored.
 * - A bare comma list "a, b" (no brackets) is treated as an unordered
 *   multiset of solutions ("enter all solutions separated by commas").
 * - A comma is a thousands separator only when the WHOLE answer is one number
 *   with 3-digit groups and no space after the comma: "1,000" == 1000, but
 *   "(1,000)" is the tuple (1, 0) and "1, 000" is the list {1, 0}.
 *   "1{,}000" and "1,\!000" (also "1,\! 000") are always thousands separators; so are spaces when
 *   the whole answer is one number in 3-digit groups ("1 000 000").
 * - Two integers are equivalent only when equal (1234567 is not 1234568); the
 *   relative tolerance is only for decimals against fractions such as 1/3.
 * - Percent signs and degree marks are dropped: "50\%" == 50 (not 0.5).
 *
 * Everything here is pure and allocation-light; regexes are anchored or
 * linear (no nested quantifiers) so adversarial inputs cannot backtrack badly.
 */

// ---------------------------------------------------------------------------
// Shared low-level helpers
// ---------------------------------------------------------------------------

const INT_RE = /^-?\d+$/;
/** Optionally signed decimal: "12", "-0.50", ".5", "5.". Unambiguous, so linear. */
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const UNSIGNED_DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
/** Whole answer is one number with comma thousands separators. */
const THOUSANDS_RE = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
/** Whole answer is one number with space thousands separators ("1 000 000", the SI style). */
const SPACED_THOUSANDS_RE = /^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/;

/**
 * Index of the `}` matching the `{` at `open`, or -1 if unbalanced.
 * Backslash escapes are skipped, so `\{` / `\}` (literal set braces) don't count.
 */
function findClosingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

// ---------------------------------------------------------------------------
// 1. Extraction
// ---------------------------------------------------------------------------

/**
 * The final answer in a model's output: the content of the LAST `\boxed{..}`
 * (or `\fbox{..}`), else the text after the last "The answer is" /
 * "The final answer is" / "Final answer:". Returns null if nothing is found,
 * or if the last box is unbalanced (truncated generation) or empty — in that
 * case we do NOT fall back to an earlier box or to the answer phrase.
 */
export function extractAnswer(text: string): string | null {
  const boxed = lastBoxedContent(text);
  if (boxed !== undefined) return boxed;
  return lastAnswerPhrase(text);
}

/** undefined = no box at all; null = last box unbalanced or empty. */
function lastBoxedContent(text: string): string | null | undefined {
  let from = text.length;
  while (from >= 0) {
    const i = Math.max(text.lastIndexOf("\\boxed", from), text.lastIndexOf("\\fbox", from));
    if (i < 0) return undefined;
    let j = i + (text.startsWith("\\boxed", i) ? 6 : 5);
    while (isSpace(text[j])) j++;
    if (text[j] === "{") {
      const close = findClosingBrace(text, j);
      if (close < 0) return null;
      const content = text.slice(j + 1, close).trim();
      return content === "" ? null : content;
    }
    // e.g. "\boxedsomething" or "\boxed 5": not a braced box, keep looking.
    from = i - 1;
  }
  return undefined;
}

const ANSWER_PHRASE_RE = /\b(?:the\s+(?:final\s+)?answer\s+is|final\s+answer\s*(?:is\b|:))\s*:?/gi;

function lastAnswerPhrase(text: string): string | null {
  let end = -1;
  for (const m of text.matchAll(ANSWER_PHRASE_RE)) end = m.index + m[0].length;
  if (end < 0) return null;

  let s = text.slice(end).trimStart();
  const nl = s.indexOf("\n");
  if (nl >= 0) s = s.slice(0, nl);
  s = s.trim();
  s = trimChars(s, "*", "start"); // markdown bold: **8**.

  const math = leadingMathSpan(s);
  if (math !== null) {
    // The sentence's full stop written inside the math: "$\frac{1}{2}.$".
    s = trimChars(math, ".", "end");
  } else {
    // Cut at the end of the sentence ("9. I hope it is correct." -> "9"), then
    // drop a final period / closing bold: "3.5." -> "3.5", "8**." -> "8".
    const sentenceEnd = s.search(/\.\s/);
    if (sentenceEnd >= 0) s = s.slice(0, sentenceEnd);
    s = trimChars(s, ".*", "end").trim();
  }
  s = trimChars(trimChars(s, "$", "start"), "$", "end").trim();
  return s === "" ? null : s;
}

/**
 * Strip any of `chars` from one end. (A regex like /[.*]+$/ would be
 * quadratic on long runs of those characters followed by something else.)
 */
function trimChars(s: string, chars: string, side: "start" | "end"): string {
  if (side === "start") {
    let i = 0;
    while (i < s.length && chars.includes(s[i]!)) i++;
    return s.slice(i);
  }
  let j = s.length;
  while (j > 0 && chars.includes(s[j - 1]!)) j--;
  return s.slice(0, j);
}

/** Content of a math span at the very start of s ("$..$", "$$..$$", "\(..\)"), else null. */
function leadingMathSpan(s: string): string | null {
  const pairs: ReadonlyArray<readonly [string, string]> = [
    ["$$", "$$"],
    ["$", "$"],
    ["\\(", "\\)"],
    ["\\[", "\\]"],
  ];
  for (const [open, close] of pairs) {
    if (!s.startsWith(open)) continue;
    let k = s.indexOf(close, open.length);
    // Skip escaped dollars (\$ is a currency sign, not a delimiter).
    while (close === "$" && k > 0 && s[k - 1] === "\\") k = s.indexOf(close, k + 1);
    return k < 0 ? null : s.slice(open.length, k).trim();
  }
  return null;
}

// ---------------------------------------------------------------------------
// 2. Normalisation
// ---------------------------------------------------------------------------

/**
 * Canonical string form of an answer (idempotent). Numbers come out canonical
 * ("007" -> "7", "-0" -> "0", "12.50" -> "12.5", ".5" -> "0.5"); fractions are
 * NOT reduced here (that's answerKey's job). Commas are rendered as ", ".
 */
export function normalizeAnswer(raw: string): string {
  if (INT_RE.test(raw)) return canonicalDecimal(raw);
  let s = raw.trim();
  if (DECIMAL_RE.test(s)) return canonicalDecimal(s);

  s = stripOuterWrappers(s);
  if (s.includes("\u2212")) s = s.replaceAll("\u2212", "-"); // unicode minus
  if (s.includes("\\")) s = normalizeLatexCommands(s);
  if (s.includes("%")) s = s.replace(/\\?%/g, "");
  if (s.includes("°")) s = s.replaceAll("°", "");
  if (s.includes("~")) s = s.replaceAll("~", " "); // LaTeX non-breaking space
  if (s.includes("{,}")) s = s.replace(/(\d)\{,\}(?=\d)/g, "$1"); // 1{,}000
  if (s.includes("\\")) {
    s = handleTextCommands(s);
    s = braceCommandArgs(s);
    s = stripOuterWrappers(s); // e.g. "\text{$5$}" or "\left(...\right)" leftovers
  }

  s = s.replace(/\s+/g, " ").trim();
  s = stripAssignment(s);
  if (s.startsWith("+")) s = s.slice(1).trimStart();
  // Must run before tightenSpaces: "1, 234" (a list) vs "1,234" (a number).
  if (THOUSANDS_RE.test(s)) s = s.replaceAll(",", "");
  else if (SPACED_THOUSANDS_RE.test(s)) s = s.replaceAll(" ", "");
  s = tightenSpaces(s);
  if (s.includes(",")) s = s.replaceAll(",", ", ");

  if (DECIMAL_RE.test(s)) return canonicalDecimal(s);
  const mc = MULTIPLE_CHOICE_RE.exec(s);
  if (mc?.[1] !== undefined) return mc[1];
  return s;
}

const MULTIPLE_CHOICE_RE = /^\(([A-E])\)$/;

/** "+007.50" -> "7.5", "-0.0" -> "0", ".5" -> "0.5". Input must match DECIMAL_RE. */
function canonicalDecimal(s: string): string {
  let i = 0;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    i = 1;
  }
  const dot = s.indexOf(".", i);
  let intPart = dot < 0 ? s.slice(i) : s.slice(i, dot);
  let fracPart = dot < 0 ? "" : s.slice(dot + 1);

  let lead = 0;
  while (lead < intPart.length - 1 && intPart[lead] === "0") lead++;
  intPart = intPart.slice(lead);
  if (intPart === "") intPart = "0";

  let trail = fracPart.length;
  while (trail > 0 && fracPart[trail - 1] === "0") trail--;
  fracPart = fracPart.slice(0, trail);

  const body = fracPart === "" ? intPart : `${intPart}.${fracPart}`;
  return negative && body !== "0" ? `-${body}` : body;
}

/** Repeatedly strip $..$, $$..$$, \(..\), \[..\] and a whole-answer \boxed{..}. */
function stripOuterWrappers(input: string): string {
  let s = input.trim();
  for (;;) {
    if (s.length >= 4 && s.startsWith("$$") && s.endsWith("$$")) {
      s = s.slice(2, -2).trim();
    } else if (
      s.length >= 2 &&
      s.startsWith("$") &&
      s.endsWith("$") &&
      !s.endsWith("\\$") &&
      !hasUnescapedDollar(s.slice(1, -1)) // "$1$ and $2$" is not one span
    ) {
      s = s.slice(1, -1).trim();
    } else if ((s.startsWith("\\(") && s.endsWith("\\)")) || (s.startsWith("\\[") && s.endsWith("\\]"))) {
      s = s.slice(2, -2).trim();
    } else if (s.startsWith("\\boxed") || s.startsWith("\\fbox")) {
      let j = s.startsWith("\\boxed") ? 6 : 5;
      while (isSpace(s[j])) j++;
      if (s[j] !== "{" || findClosingBrace(s, j) !== s.length - 1) return s;
      s = s.slice(j + 1, -1).trim();
    } else {
      return s;
    }
  }
}

function hasUnescapedDollar(s: string): boolean {
  for (let i = s.indexOf("$"); i >= 0; i = s.indexOf("$", i + 1)) {
    if (s[i - 1] !== "\\") return true;
  }
  return false;
}

// \left( \right) \bigl[ ... ; a trailing "." is the invisible delimiter "\left.".
const SIZING_RE = /\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])\.?/g;
const DEGREE_RE = /(?:\{\})?\^\s*(?:\{\s*\\circ\s*\}|\\circ(?![a-zA-Z]))|\\degrees?(?![a-zA-Z])/g;

/**
 * Purely lexical LaTeX clean-ups that never need brace matching. ",\!" before a 3-digit group is a thousands
 * separator even with a space after it ("11,\! 111,\! 100", as peers' graders accept); "(1,\! 2)" stays a pair.
 */
function normalizeLatexCommands(s: string): string {
  return s
    .replace(/\\\$/g, "") // currency: \$5 -> 5
    .replace(/\\(?:displaystyle|mathstrut)(?![a-zA-Z])/g, "")
    .replace(/\\lbrace(?![a-zA-Z])/g, "\\{")
    .replace(/\\rbrace(?![a-zA-Z])/g, "\\}")
    .replace(SIZING_RE, "")
    .replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, "$1") // 1,\! 000 -> 1000
    .replace(/\\[,!]/g, "") // thin / negative space
    .replace(/\\[;: ]|\\q?quad(?![a-zA-Z])/g, " ")
    .replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac")
    .replace(DEGREE_RE, "");
}

const TEXT_CMD_RE =
  /\\(text|textrm|textbf|textit|textsf|texttt|textnormal|textup|mbox|mathrm|mathbf|mathit|mathsf|mathtt|operatorname)\s*\{/g;
/** Text commands that, when trailing, are treated as units and dropped. */
const UNIT_TEXT_CMDS: ReadonlySet<string> = new Set(["text", "textrm", "textnormal", "textup", "mbox"]);

interface TextGroup {
  start: number;
  end: number; // exclusive, includes a following ^power
  content: string;
  power: string;
  unit: boolean;
}

/**
 * \text{..}-style groups: if the whole answer is text, unwrap it
 * ("\text{(A)}" -> "(A)"); otherwise drop trailing unit groups
 * ("5 \text{ cm}^2" -> "5") and unwrap the rest ("2\text{ or }3" -> "2 or 3").
 */
function handleTextCommands(s: string): string {
  if (!s.includes("\\text") && !s.includes("\\m") && !s.includes("\\operatorname")) return s;
  const groups: TextGroup[] = [];
  const re = new RegExp(TEXT_CMD_RE.source, "g");
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const open = m.index + m[0].length - 1;
    const close = findClosingBrace(s, open);
    if (close < 0) return s;
    const end = readPower(s, close + 1);
    groups.push({
      start: m.index,
      end,
      content: s.slice(open + 1, close),
      power: s.slice(close + 1, end),
      unit: UNIT_TEXT_CMDS.has(m[1] ?? ""),
    });
    re.lastIndex = end;
  }
  if (groups.length === 0) return s;

  let onlyText = true;
  let prev = 0;
  for (const g of groups) {
    if (s.slice(prev, g.start).trim() !== "") onlyText = false;
    prev = g.end;
  }
  if (s.slice(prev).trim() !== "") onlyText = false;
  if (onlyText) return groups.map((g) => g.content + g.power).join("");

  let keep = groups.length;
  let tail = s.length;
  for (let g = groups[keep - 1]; g !== undefined; g = groups[keep - 1]) {
    if (!g.unit || s.slice(g.end, tail).trim() !== "") break;
    tail = g.start;
    keep--;
  }
  let out = "";
  prev = 0;
  for (let k = 0; k < keep; k++) {
    const g = groups[k]!;
    out += s.slice(prev, g.start) + g.content + g.power;
    prev = g.end;
  }
  return out + s.slice(prev, tail);
}

/** End index of an optional "^2" / "^{2}" right after i (unit powers like cm^2). */
function readPower(s: string, i: number): number {
  let j = i;
  while (isSpace(s[j])) j++;
  if (s[j] !== "^") return i;
  j++;
  while (isSpace(s[j])) j++;
  if (s[j] === "{") {
    const close = findClosingBrace(s, j);
    return close < 0 ? i : close + 1;
  }
  return isLetter(s[j]) || isDigit(s[j]) ? j + 1 : i;
}

/**
 * Give \frac and \sqrt explicit brace arguments: "\frac12" -> "\frac{1}{2}",
 * "\frac1{x}" -> "\frac{1}{x}", "\sqrt2" -> "\sqrt{2}". Recurses into arguments.
 */
function braceCommandArgs(s: string, depth = 0): string {
  if (depth > MAX_NESTING || (!s.includes("\\frac") && !s.includes("\\sqrt"))) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    let j = i + 1;
    while (isLetter(s[j])) j++;
    if (j === i + 1) {
      out += s.slice(i, i + 2); // escaped symbol such as \{ or \\
      i += 2;
      continue;
    }
    const name = s.slice(i + 1, j);
    out += s.slice(i, j);
    i = j;
    let argc = name === "frac" ? 2 : name === "sqrt" ? 1 : 0;
    if (name === "sqrt" && s[i] === "[") {
      const close = s.indexOf("]", i);
      if (close > 0) {
        out += s.slice(i, close + 1);
        i = close + 1;
      }
    }
    for (; argc > 0; argc--) {
      const arg = readArgument(s, i);
      if (arg === null) break;
      out += `{${braceCommandArgs(arg.content, depth + 1)}}`;
      i = arg.end;
    }
  }
  return out;
}

/** One TeX macro argument at i: a {group}, a \command, or a single character. */
function readArgument(s: string, i: number): { content: string; end: number } | null {
  let j = i;
  while (isSpace(s[j])) j++;
  const c = s[j];
  if (c === undefined || c === "}") return null;
  if (c === "{") {
    const close = findClosingBrace(s, j);
    return close < 0 ? null : { content: s.slice(j + 1, close), end: close + 1 };
  }
  if (c === "\\") {
    let k = j + 1;
    while (isLetter(s[k])) k++;
    if (k === j + 1) k = Math.min(j + 2, s.length);
    return { content: s.slice(j, k), end: k };
  }
  return { content: c, end: j + 1 };
}

const ASSIGN_LHS_RE = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_(?:\{[a-zA-Z0-9]+\}|[a-zA-Z0-9]))?$/;

/** "x = 5" -> "5", "\theta=30" -> "30", "a_1 = 2" -> "2"; leaves "x=1, y=2" alone. */
function stripAssignment(s: string): string {
  const eq = s.indexOf("=");
  if (eq <= 0 || s.indexOf("=", eq + 1) >= 0) return s;
  const rhs = s.slice(eq + 1).trim();
  if (rhs === "" || !ASSIGN_LHS_RE.test(s.slice(0, eq).trim())) return s;
  return rhs;
}

/**
 * Remove single spaces (input already collapsed) unless they separate two
 * letters ("\pi r", "New York") or two digits ("1 2"), where they carry meaning.
 */
function tightenSpaces(s: string): string {
  if (!s.includes(" ")) return s;
  let out = "";
  let start = 0;
  for (let i = s.indexOf(" "); i >= 0; i = s.indexOf(" ", i + 1)) {
    // Spaces are single, so s[i - 1] is never a space. (Reading back from `out`
    // instead would flatten the growing string each time: quadratic.)
    const prev = s[i - 1];
    const next = s[i + 1];
    if ((isLetter(prev) && isLetter(next)) || (isDigit(prev) && isDigit(next))) continue;
    out += s.slice(start, i);
    start = i + 1;
  }
  return out + s.slice(start);
}

// ---------------------------------------------------------------------------
// Exact rationals (BigInt, so large integers and long decimals stay exact)
// ---------------------------------------------------------------------------

/**
 * Recursion cap for nested fractions / brackets. Real answers nest a few
 * levels; deeper input is treated as an opaque atom so that adversarial
 * strings can neither blow the stack nor go quadratic.
 */
const MAX_NESTING = 16;

interface Rational {
  n: bigint;
  d: bigint; // always > 0, gcd(n, d) = 1
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

function makeRational(n: bigint, d: bigint): Rational | null {
  if (d === 0n) return null;
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

/**
 * Exact value of a normalised numeric answer: integer, decimal, "a/b",
 * "\frac{a}{b}" (arguments may themselves be signed numbers or fractions),
 * with a leading sign at any level. Anything else -> null.
 */
function parseRational(input: string, depth = 0): Rational | null {
  if (depth > MAX_NESTING) return null;
  let s = input.trim();
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    s = s.slice(1).trimStart();
  }
  let r: Rational | null;
  if (s.startsWith("{") && findClosingBrace(s, 0) === s.length - 1) {
    r = parseRational(s.slice(1, -1), depth + 1);
  } else if (s.startsWith("\\frac")) {
    r = parseFrac(s, depth + 1);
  } else if (s.includes("/")) {
    r = parseSlash(s, depth + 1);
  } else {
    r = parseUnsignedDecimal(s);
  }
  return r !== null && negative ? { n: -r.n, d: r.d } : r;
}

function parseFrac(s: string, depth: number): Rational | null {
  let i = 5; // after "\frac"
  while (isSpace(s[i])) i++;
  if (s[i] !== "{") return null;
  const close1 = findClosingBrace(s, i);
  if (close1 < 0 || s[close1 + 1] !== "{") return null;
  const close2 = findClosingBrace(s, close1 + 1);
  if (close2 !== s.length - 1) return null;
  const num = parseRational(s.slice(i + 1, close1), depth);
  const den = num === null ? null : parseRational(s.slice(close1 + 2, close2), depth);
  return num !== null && den !== null ? divide(num, den) : null;
}

function parseSlash(s: string, depth: number): Rational | null {
  const slash = s.indexOf("/");
  if (s.indexOf("/", slash + 1) >= 0) return null;
  const num = parseRational(s.slice(0, slash), depth);
  const den = num === null ? null : parseRational(s.slice(slash + 1), depth);
  return num !== null && den !== null ? divide(num, den) : null;
}

function divide(a: Rational, b: Rational): Rational | null {
  return makeRational(a.n * b.d, a.d * b.n);
}

function parseUnsignedDecimal(s: string): Rational | null {
  if (!UNSIGNED_DECIMAL_RE.test(s)) return null;
  const dot = s.indexOf(".");
  if (dot < 0) return { n: BigInt(s), d: 1n };
  const frac = s.slice(dot + 1);
  return makeRational(BigInt(s.slice(0, dot) + frac), 10n ** BigInt(frac.length));
}

function rationalKey(r: Rational): string {
  return r.d === 1n ? r.n.toString() : `${r.n}/${r.d}`;
}

function rationalToNumber(r: Rational): number {
  let { n, d } = r;
  // Both huge (e.g. a 400-digit numerator and denominator): scale down first.
  const excess = Math.min(n.toString().length, d.toString().length) - 300;
  if (excess > 0) {
    const scale = 10n ** BigInt(excess);
    n /= scale;
    d /= scale;
  }
  return Number(n) / Number(d);
}

/** Whether a reduced rational has a terminating decimal expansion (its denominator has no prime but 2 and 5). */
function terminates(r: Rational): boolean {
  let d = r.d;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d === 1n;
}

/** The rational rounded to six decimal places (half away from zero), in millionths. */
function millionths(r: Rational): bigint {
  const scaled = r.n * 1_000_000n;
  const q = scaled / r.d;
  const rem = scaled % r.d;
  const twice = (rem < 0n ? -rem : rem) * 2n;
  return twice >= r.d ? q + (scaled < 0n ? -1n : 1n) : q;
}

/**
 * Equal after rounding both to six decimal places (Math-Verify's default), so 2.0000001 is 2 but 1234567
 * is not 1234568 and 1234567.5 is not 1234567.6. A fraction with no finite decimal form, such as 1/3, also
 * matches a decimal within a relative 1e-6 (a long rounding of a large value), evaluated exactly with
 * cross-multiplication.
 */
function rationalsClose(a: Rational, b: Rational): boolean {
  if (millionths(a) === millionths(b)) return true;
  if (terminates(a) && terminates(b)) return false;
  const x = a.n * b.d;
  const y = b.n * a.d;
  const diff = x > y ? x - y : y - x;
  const ax = x < 0n ? -x : x;
  const ay = y < 0n ? -y : y;
  return diff * 1_000_000n <= (ax > ay ? ax : ay);
}

// ---------------------------------------------------------------------------
// 3-5. Structured values, keys, equivalence, numbers
// ---------------------------------------------------------------------------

type AnswerValue =
  | { kind: "number"; value: Rational }
  | { kind: "atom"; text: string }
  | { kind: "tuple"; open: string; close: string; items: AnswerValue[] } // points, intervals
  | { kind: "set"; items: AnswerValue[] } // \{..\}: unordered, deduplicated
  | { kind: "list"; items: AnswerValue[] }; // bare "a, b": unordered multiset

/** Bracket depth change of the token at i; "\{" and "\}" count as brackets. */
function bracketDelta(s: string, i: number): number {
  const c = s[i];
  if (c === "\\") {
    const next = s[i + 1];
    return next === "{" ? 1 : next === "}" ? -1 : 0;
  }
  if (c === "(" || c === "[" || c === "{") return 1;
  if (c === ")" || c === "]" || c === "}") return -1;
  return 0;
}

/** True iff the bracket opened at 0 closes exactly at the end of s. */
function enclosesWhole(s: string): boolean {
  if (bracketDelta(s, 0) <= 0) return false;
  let depth = 0;
  for (let i = 0; i < s.length;) {
    depth += bracketDelta(s, i);
    i += s[i] === "\\" ? 2 : 1;
    if (depth <= 0) return depth === 0 && i >= s.length;
  }
  return false;
}

/** Split on commas at bracket depth 0; null if brackets are unbalanced. */
function splitTopLevel(s: string): string[] | null {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length;) {
    if (depth === 0 && s[i] === ",") {
      items.push(s.slice(start, i).trim());
      start = i + 1;
    }
    depth += bracketDelta(s, i);
    if (depth < 0) return null;
    i += s[i] === "\\" ? 2 : 1;
  }
  if (depth !== 0) return null;
  items.push(s.slice(start).trim());
  return items;
}

/** Structure of an already-normalised answer. */
function parseValue(s: string, depth = 0): AnswerValue {
  if (INT_RE.test(s)) return { kind: "number", value: { n: BigInt(s), d: 1n } };
  const r = parseRational(s);
  if (r !== null) return { kind: "number", value: r };
  if (depth >= MAX_NESTING) return { kind: "atom", text: s };
  const parseItem = (item: string): AnswerValue => parseValue(item, depth + 1);

  if (s.startsWith("\\{") && s.endsWith("\\}") && enclosesWhole(s)) {
    const inner = s.slice(2, -2).trim();
    const parts = inner === "" ? [] : splitTopLevel(inner);
    if (parts !== null) return { kind: "set", items: uniqueByKey(parts.map(parseItem)) };
  }

  const first = s[0];
  const last = s[s.length - 1];
  if ((first === "(" || first === "[") && (last === ")" || last === "]") && enclosesWhole(s)) {
    const parts = splitTopLevel(s.slice(1, -1));
    if (parts !== null && parts.length >= 2) {
      return { kind: "tuple", open: first, close: last, items: parts.map(parseItem) };
    }
    // "(5)" is just grouping; "[5]" stays an atom.
    if (parts !== null && parts.length === 1 && first === "(" && last === ")") {
      return parseItem(parts[0]!);
    }
  }

  const parts = splitTopLevel(s);
  if (parts !== null && parts.length >= 2) return { kind: "list", items: parts.map(parseItem) };
  return { kind: "atom", text: s };
}

function uniqueByKey(items: AnswerValue[]): AnswerValue[] {
  const seen = new Set<string>();
  return items.filter((v) => {
    const k = valueKey(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function valueKey(v: AnswerValue): string {
  switch (v.kind) {
    case "number":
      return rationalKey(v.value);
    case "atom":
      return v.text;
    case "tuple":
      return v.open + v.items.map(valueKey).join(", ") + v.close;
    case "set":
      return `\\{${v.items.map(valueKey).sort().join(", ")}\\}`;
    case "list":
      return v.items.map(valueKey).sort().join(", ");
  }
}

/**
 * Vote key: equal keys <=> exactly equivalent answers. Numbers become reduced
 * rationals ("1/2", "-3"); tuples/intervals keep order and bracket types; sets
 * and bare lists are sorted; anything else is its normalised string.
 */
export function answerKey(raw: string): string {
  if (INT_RE.test(raw)) return canonicalDecimal(raw);
  return valueKey(parseValue(normalizeAnswer(raw)));
}

/**
 * Tolerant equivalence: keys equal, or numbers within relative tolerance 1e-6
 * (element-wise for tuples of equal length and bracket types; greedy matching
 * for sets and lists). Not transitive — use answerKey for grouping.
 */
export function answersEquivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const va = parseValue(normalizeAnswer(a));
  const vb = parseValue(normalizeAnswer(b));
  return valueKey(va) === valueKey(vb) || valuesClose(va, vb);
}

function valuesClose(a: AnswerValue, b: AnswerValue): boolean {
  if (a.kind === "number" && b.kind === "number") return rationalsClose(a.value, b.value);
  if (a.kind === "atom" && b.kind === "atom") return a.text === b.text;
  if (a.kind === "tuple" && b.kind === "tuple") {
    return (
      a.open === b.open &&
      a.close === b.close &&
      a.items.length === b.items.length &&
      a.items.every((x, i) => valuesClose(x, b.items[i]!))
    );
  }
  if ((a.kind === "set" && b.kind === "set") || (a.kind === "list" && b.kind === "list")) {
    return unorderedClose(a.items, b.items);
  }
  return false;
}

function unorderedClose(as: AnswerValue[], bs: AnswerValue[]): boolean {
  if (as.length !== bs.length) return false;
  const used = new Array<boolean>(bs.length).fill(false);
  return as.every((x) => {
    const j = bs.findIndex((y, k) => !used[k] && valuesClose(x, y));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}

/**
 * Numeric value of an answer (integers, decimals, a/b, \frac{a}{b}, signs at
 * any level), or null. The input is normalised first (idempotent), so
 * "$x = \dfrac12$" -> 0.5 and "50\%" -> 50.
 */
export function parseNumber(s: string): number | null {
  if (INT_RE.test(s)) return Number(s);
  const r = parseRational(normalizeAnswer(s));
  return r === null ? null : rationalToNumber(r);
}

// SCIM filter parser (RFC 7644 §3.4.2.2): filter text -> FilterNode tree. Recursive descent, one token of
// lookahead, linear in the input; no expansion into normal forms (scimmy's parser does that and grows
// exponentially). Inputs are bounded by FilterLimits; every problem is a 400 invalidFilter with a position.
//
// Grammar, with precedence not > and > or (both left-associative):
//   filter    = orExp
//   orExp     = andExp *("or" andExp)
//   andExp    = unary *("and" unary)
//   unary     = "not" "(" orExp ")" / "(" orExp ")" / attrPath "[" orExp "]" / attrExp
//   attrExp   = attrPath "pr" / attrPath compareOp compValue
//   attrPath  = [URN ":"] name ["." name]
//   compValue = JSON string / JSON number / true / false / null
// Lenient where identity providers are sloppy: operators, and/or/not, true/false/null in any case; any run
// of whitespace between tokens (and none where a token boundary is unambiguous, as in `not(`).
import { ScimError } from "../scim-error.js";
export const DEFAULT_FILTER_LIMITS = { maxLength: 1000, maxNodes: 64, maxDepth: 16 };
const COMPARE_OPS = new Set(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
function invalid(message, scimType = "invalidFilter") {
    return new ScimError(400, scimType, message);
}
/** Positions in messages are 1-based character offsets. */
function at(pos) {
    return `at position ${pos + 1}`;
}
function describe(token) {
    if (token.t === "end")
        return "the end of the filter";
    const text = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
    return `'${text}'`;
}
const WORD_START = /[A-Za-z$]/;
const WORD_CHAR = /[A-Za-z0-9_.:$-]/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Produces tokens on demand, so a limit hit early stops the work early, however long the input. */
class Lexer {
    input;
    i = 0;
    buffered = null;
    constructor(input) {
        this.input = input;
    }
    peek() {
        this.buffered ??= this.scan();
        return this.buffered;
    }
    next() {
        const token = this.peek();
        this.buffered = null;
        return token;
    }
    /**
     * A comparison value. Quoted JSON strings, numbers, true/false/null as the RFC says; and, because
     * Microsoft's own SCIM test suite sends them, bare words up to the next space, ')' or ']'
     * (`userName sw O`, `meta.created gt 2015-10-10T14:38:21.8617979-07:00`), read as strings.
     */
    value() {
        if (this.buffered)
            return this.next();
        const input = this.input;
        while (this.i < input.length && /\s/.test(input[this.i]))
            this.i++;
        const start = this.i;
        if (start >= input.length || input[start] === '"' || "()[]".includes(input[start]))
            return this.next();
        let end = start;
        while (end < input.length && !/[\s()[\]]/.test(input[end]))
            end++;
        const text = input.slice(start, end);
        NUMBER.lastIndex = 0;
        const whole = new RegExp(`^${NUMBER.source}$`).exec(text);
        if (whole || ["true", "false", "null"].includes(text.toLowerCase()))
            return this.next();
        this.i = end;
        return { t: "string", pos: start, text, value: text };
    }
    /** `.name` right after a ']' (Entra's `emails[type eq "work"].value eq "x"`), or null. */
    subAfterBracket() {
        if (this.buffered || this.input[this.i] !== ".")
            return null;
        const start = this.i + 1;
        let end = start;
        while (end < this.input.length && /[A-Za-z0-9_$-]/.test(this.input[end]))
            end++;
        if (end === start)
            throw invalid(`expected a sub-attribute name after '].' ${at(start)}`);
        this.i = end;
        return { name: this.input.slice(start, end), pos: start };
    }
    scan() {
        const input = this.input;
        while (this.i < input.length && /\s/.test(input[this.i]))
            this.i++;
        const start = this.i;
        if (start >= input.length)
            return { t: "end", pos: start, text: "" };
        const c = input[start];
        if (c === "(" || c === ")" || c === "[" || c === "]") {
            this.i++;
            return { t: c, pos: start, text: c };
        }
        if (c === '"') {
            let i = start + 1;
            while (i < input.length && input[i] !== '"')
                i += input[i] === "\\" ? 2 : 1;
            if (i >= input.length)
                throw invalid(`unterminated string ${at(start)}`);
            this.i = i + 1;
            const text = input.slice(start, this.i);
            let value;
            try {
                value = JSON.parse(text);
            }
            catch {
                throw invalid(`invalid string ${at(start)}: strings are JSON strings (check the backslash escapes)`);
            }
            // PostgreSQL text cannot hold NUL; reject it here rather than fail in the database.
            if (value.includes("\u0000"))
                throw invalid(`strings cannot contain \\u0000 ${at(start)}`);
            return { t: "string", pos: start, text, value };
        }
        if (c === "-" || (c >= "0" && c <= "9")) {
            NUMBER.lastIndex = start;
            const m = NUMBER.exec(input);
            const end = m ? start + m[0].length : start;
            if (!m || (end < input.length && WORD_CHAR.test(input[end]))) {
                throw invalid(`invalid number ${at(start)} (dates and other text values must be in double quotes)`);
            }
            const value = Number(m[0]);
            if (!Number.isFinite(value))
                throw invalid(`number out of range ${at(start)}`);
            this.i = end;
            return { t: "number", pos: start, text: m[0], value };
        }
        if (WORD_START.test(c)) {
            while (this.i < input.length && WORD_CHAR.test(input[this.i]))
                this.i++;
            return { t: "word", pos: start, text: input.slice(start, this.i) };
        }
        throw invalid(`unexpected character '${c}' ${at(start)}`);
    }
}
const NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
/** Splits "urn:…:User:name.sub" at the last colon (URNs contain dots, as in "2.0"), then at the dot. */
function splitAttrPath(text, pos, scimType) {
    const bad = (why) => invalid(`invalid attribute path '${text}' ${at(pos)}: ${why}`, scimType);
    const colon = text.lastIndexOf(":");
    let uri = null;
    let rest = text;
    if (colon >= 0) {
        uri = text.slice(0, colon);
        rest = text.slice(colon + 1);
        if (!/^urn:[^:]+:./i.test(uri))
            throw bad("a schema prefix must be a URN such as urn:ietf:params:scim:schemas:core:2.0:User");
        if (rest === "")
            throw bad("an attribute name must follow the schema URN");
    }
    const parts = rest.split(".");
    if (parts.length > 2)
        throw bad("at most one '.' (attribute.subAttribute)");
    for (const part of parts) {
        if (!NAME.test(part))
            throw bad(`'${part}' is not an attribute name`);
    }
    return { uri, name: parts[0], sub: parts[1] ?? null };
}
class Parser {
    lexer;
    limits;
    nodes = 0;
    depth = 0;
    constructor(lexer, limits) {
        this.lexer = lexer;
        this.limits = limits;
    }
    peek() {
        return this.lexer.peek();
    }
    next() {
        return this.lexer.next();
    }
    isKeyword(token, keyword) {
        return token.t === "word" && token.text.toLowerCase() === keyword;
    }
    node(node, pos) {
        if (++this.nodes > this.limits.maxNodes) {
            throw invalid(`filter has more than ${this.limits.maxNodes} expressions (limit reached ${at(pos)})`);
        }
        return node;
    }
    enter(token) {
        if (++this.depth > this.limits.maxDepth) {
            throw invalid(`filter nests more than ${this.limits.maxDepth} levels deep ${at(token.pos)}`);
        }
    }
    close(open, closer) {
        const token = this.next();
        if (token.t !== closer) {
            throw invalid(`expected '${closer}' ${at(token.pos)} to close '${open.text}' ${at(open.pos)}, found ${describe(token)}`);
        }
        this.depth--;
    }
    parseAll() {
        const node = this.parseOr(false);
        const token = this.peek();
        if (token.t !== "end") {
            throw invalid(`unexpected ${describe(token)} ${at(token.pos)}: expected 'and', 'or' or the end of the filter`);
        }
        return node;
    }
    parseOr(inValuePath) {
        let left = this.parseAnd(inValuePath);
        while (this.isKeyword(this.peek(), "or")) {
            const op = this.next();
            const right = this.parseAnd(inValuePath);
            left = this.node({ kind: "or", left, right }, op.pos);
        }
        return left;
    }
    parseAnd(inValuePath) {
        let left = this.parseUnary(inValuePath);
        while (this.isKeyword(this.peek(), "and")) {
            const op = this.next();
            const right = this.parseUnary(inValuePath);
            left = this.node({ kind: "and", left, right }, op.pos);
        }
        return left;
    }
    parseUnary(inValuePath) {
        const token = this.next();
        if (token.t === "(") {
            this.enter(token);
            const inner = this.parseOr(inValuePath);
            this.close(token, ")");
            return inner;
        }
        if (this.isKeyword(token, "not")) {
            const open = this.next();
            if (open.t !== "(")
                throw invalid(`expected '(' after 'not' ${at(open.pos)}, found ${describe(open)}`);
            this.enter(open);
            const expr = this.parseOr(inValuePath);
            this.close(open, ")");
            return this.node({ kind: "not", expr }, token.pos);
        }
        if (token.t !== "word") {
            throw invalid(`expected an attribute, '(' or 'not' ${at(token.pos)}, found ${describe(token)}`);
        }
        const attr = splitAttrPath(token.text, token.pos, "invalidFilter");
        if (inValuePath && (attr.uri !== null || attr.sub !== null)) {
            throw invalid(`inside '[ ]' use a bare sub-attribute name, not '${token.text}' ${at(token.pos)}`);
        }
        const after = this.next();
        if (after.t === "[") {
            if (inValuePath)
                throw invalid(`value filters cannot be nested ${at(after.pos)}`);
            if (attr.sub !== null) {
                throw invalid(`'[' must follow a multi-valued attribute, not the sub-attribute '${token.text}' ${at(after.pos)}`);
            }
            this.enter(after);
            const filter = this.parseOr(true);
            this.close(after, "]");
            const sub = this.lexer.subAfterBracket();
            if (!sub)
                return this.node({ kind: "valuePath", attr, filter }, token.pos);
            // attr[filter].sub op value: one element satisfies both, i.e. attr[filter and sub op value].
            const subAttr = { uri: null, name: sub.name, sub: null };
            const opToken = this.next();
            const subOp = opToken.t === "word" ? opToken.text.toLowerCase() : "";
            let condition;
            if (subOp === "pr")
                condition = this.node({ kind: "present", attr: subAttr }, sub.pos);
            else if (COMPARE_OPS.has(subOp))
                condition = this.node({ kind: "compare", attr: subAttr, op: subOp, value: this.parseValue(opToken) }, sub.pos);
            else
                throw invalid(`expected an operator after '${sub.name}' ${at(opToken.pos)}, found ${describe(opToken)}`);
            return this.node({ kind: "valuePath", attr, filter: this.node({ kind: "and", left: filter, right: condition }, token.pos) }, token.pos);
        }
        const op = after.t === "word" ? after.text.toLowerCase() : "";
        if (op === "pr")
            return this.node({ kind: "present", attr }, token.pos);
        if (!COMPARE_OPS.has(op)) {
            throw invalid(`expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after '${token.text}' ${at(after.pos)}, found ${describe(after)}`);
        }
        const value = this.parseValue(after);
        return this.node({ kind: "compare", attr, op: op, value }, token.pos);
    }
    parseValue(op) {
        const token = this.lexer.value();
        if (token.t === "string" || token.t === "number")
            return token.value;
        if (token.t === "word") {
            const word = token.text.toLowerCase();
            if (word === "true")
                return true;
            if (word === "false")
                return false;
            if (word === "null")
                return null;
            throw invalid(`expected a value after '${op.text}' ${at(token.pos)}, found ${describe(token)}: text values must be in double quotes`);
        }
        throw invalid(`expected a value (a quoted string, a number, true, false or null) after '${op.text}' ${at(token.pos)}, found ${describe(token)}`);
    }
}
export function parseFilter(input, limits = {}) {
    const effective = { ...DEFAULT_FILTER_LIMITS, ...limits };
    if (typeof input !== "string")
        throw invalid("filter must be a string");
    // Before any tokenizing: the cheapest possible rejection of an oversized filter.
    if (input.length > effective.maxLength) {
        throw invalid(`filter is ${input.length} characters long; the limit is ${effective.maxLength}`);
    }
    if (input.trim() === "")
        throw invalid("filter is empty");
    return new Parser(new Lexer(input), effective).parseAll();
}
/**
 * One attribute path without a filter, for sortBy and PATCH paths: [URN ":"] name ["." sub].
 * Errors are 400 with `scimType` (invalidFilter by default; pass "invalidPath" for PATCH).
 */
export function parseAttrPath(input, scimType = "invalidFilter") {
    const text = typeof input === "string" ? input.trim() : "";
    if (text === "")
        throw invalid("attribute path is empty", scimType);
    if (text.length > DEFAULT_FILTER_LIMITS.maxLength) {
        throw invalid(`attribute path is longer than ${DEFAULT_FILTER_LIMITS.maxLength} characters`, scimType);
    }
    if (!WORD_START.test(text[0]))
        throw invalid(`invalid attribute path '${text}' ${at(0)}`, scimType);
    for (let i = 1; i < text.length; i++) {
        if (!WORD_CHAR.test(text[i])) {
            throw invalid(`invalid attribute path '${text}': unexpected '${text[i]}' ${at(i)}`, scimType);
        }
    }
    return splitAttrPath(text, 0, scimType);
}
//# sourceMappingURL=parse-filter.js.map
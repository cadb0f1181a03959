// Consul's `?filter=` expression language (hashicorp/go-bexpr, grammar/grammar.peg), parsed into a
// small AST. Pure: no I/O. The grammar, in precedence order:
//
//   Input      := '(' Or ')' | Or                       (whitespace allowed around everything)
//   Or         := And ('or' Or)?                        keywords need whitespace around them
//   And        := Not ('and' And)?
//   Not        := 'not' Not | '(' Or ')' | Match
//   Match      := Selector ('==' | '!=' | 'contains' | 'not contains' | 'matches' | 'not matches') Value
//               | Selector ('is empty' | 'is not empty')
//               | Value ('in' | 'not in') Selector
//   Selector   := Identifier ('.' Identifier | '[' String ']' | '.' Digits)*
//   Identifier := [a-zA-Z][a-zA-Z0-9_/]*
//   Value      := Selector (taken as its text: a bare word) | Number | String
//   String     := "..." (Go escapes) | `...` (raw)
//
// `contains` is `in` with its operands swapped, as in go-bexpr. Errors are one line, with the
// column where parsing failed.

export type MatchOp = 'equal' | 'not-equal' | 'in' | 'not-in' | 'is-empty' | 'is-not-empty' | 'matches' | 'not-matches'

export type FilterExpr =
  | {kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr}
  | {kind: 'not'; operand: FilterExpr}
  | {kind: 'match'; selector: string[]; op: MatchOp; value?: string}

export class FilterError extends Error {
  readonly code = 'FILTER'
  constructor(what: string) {
    super(what)
    this.name = 'FilterError'
  }
}

const IDENT_START = /[a-zA-Z]/
const IDENT_REST = /[a-zA-Z0-9_/]/

/**
 * How deep groups, `not`s and and/or chains may nest. The parser and the evaluator recurse once per
 * level: without a bound, `((((...` a few thousand deep overflowed the stack (a 500, found by the
 * HTTP fuzzer); with it, such a filter is a 400 like any other bad expression.
 */
const MAX_DEPTH = 1000

class Parser {
  #pos = 0
  #depth = 0
  constructor(readonly text: string) {}

  nested<T>(parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) this.fail(`expression nested more than ${MAX_DEPTH} levels deep`)
    try {
      return parse()
    } finally {
      this.#depth--
    }
  }

  fail(what: string): never {
    throw new FilterError(`Failed to create boolean expression evaluator: ${what} at column ${this.#pos + 1}`)
  }

  ws(): boolean {
    const start = this.#pos
    while (this.#pos < this.text.length && /[ \t\r\n]/.test(this.text[this.#pos])) this.#pos++
    return this.#pos > start
  }

  atEnd(): boolean {
    return this.#pos >= this.text.length
  }

  peek(s: string): boolean {
    return this.text.startsWith(s, this.#pos)
  }

  /** A keyword followed by whitespace (or what the caller accepts next); restores on miss. */
  keyword(word: string, needSpaceAfter = true): boolean {
    if (!this.peek(word)) return false
    const after = this.text[this.#pos + word.length]
    if (after !== undefined && IDENT_REST.test(after)) return false
    if (needSpaceAfter && (after === undefined || !/[ \t\r\n]/.test(after))) return false
    this.#pos += word.length
    return true
  }

  mark(): number {
    return this.#pos
  }

  reset(pos: number): void {
    this.#pos = pos
  }

  parseInput(): FilterExpr {
    this.ws()
    if (this.atEnd()) this.fail('empty expression')
    const expr = this.parseOr()
    this.ws()
    if (!this.atEnd()) this.fail(`unexpected ${JSON.stringify(this.text.slice(this.#pos, this.#pos + 12))}`)
    return expr
  }

  parseOr(): FilterExpr {
    const left = this.parseAnd()
    const at = this.mark()
    if (this.ws() && this.keyword('or')) {
      this.ws()
      return {kind: 'or', left, right: this.nested(() => this.parseOr())}
    }
    this.reset(at)
    return left
  }

  parseAnd(): FilterExpr {
    const left = this.parseNot()
    const at = this.mark()
    if (this.ws() && this.keyword('and')) {
      this.ws()
      return {kind: 'and', left, right: this.nested(() => this.parseAnd())}
    }
    this.reset(at)
    return left
  }

  parseNot(): FilterExpr {
    const at = this.mark()
    if (this.keyword('not')) {
      this.ws()
      // `not` followed by `in`/`contains`... cannot start an expression: it is a bare word value.
      const operand = this.nested(() => this.parseNot())
      return operand.kind === 'not' ? operand.operand : {kind: 'not', operand}
    }
    this.reset(at)
    if (this.peek('(')) {
      this.#pos++
      this.ws()
      const expr = this.nested(() => this.parseOr())
      this.ws()
      if (!this.peek(')')) this.fail('unmatched parentheses')
      this.#pos++
      return expr
    }
    return this.parseMatch()
  }

  parseMatch(): FilterExpr {
    if (this.atEnd()) this.fail('expected a match expression')
    const start = this.mark()
    // Value (in | not in) Selector
    const value = this.tryValue()
    if (value !== undefined) {
      const afterValue = this.mark()
      if (this.ws()) {
        let op: MatchOp | undefined
        const negated = this.keyword('not') && this.ws()
        if (this.keyword('in')) op = negated ? 'not-in' : 'in'
        if (op !== undefined) {
          this.ws()
          const selector = this.trySelector()
          if (selector === undefined) this.fail('invalid selector')
          return {kind: 'match', selector, op, value}
        }
      }
      this.reset(afterValue)
    }
    this.reset(start)
    const selector = this.trySelector()
    if (selector === undefined) this.fail('expected a selector')
    const afterSelector = this.mark()
    this.ws()
    if (this.peek('==') || this.peek('!=')) {
      const op: MatchOp = this.peek('==') ? 'equal' : 'not-equal'
      this.#pos += 2
      this.ws()
      return {kind: 'match', selector, op, value: this.requireValue()}
    }
    this.reset(afterSelector)
    if (!this.ws()) this.fail('expected an operator')
    const opStart = this.mark()
    if (this.keyword('is')) {
      this.ws()
      if (this.keyword('empty', false)) return {kind: 'match', selector, op: 'is-empty'}
      if (this.keyword('not') && this.ws() && this.keyword('empty', false)) return {kind: 'match', selector, op: 'is-not-empty'}
      this.fail('expected "empty" or "not empty" after "is"')
    }
    this.reset(opStart)
    let negated = false
    if (this.keyword('not')) {
      negated = true
      this.ws()
    }
    let op: MatchOp | undefined
    if (this.keyword('contains')) op = negated ? 'not-in' : 'in'
    else if (this.keyword('matches')) op = negated ? 'not-matches' : 'matches'
    if (op === undefined) this.fail('expected an operator (==, !=, contains, matches, is empty, in, ...)')
    this.ws()
    return {kind: 'match', selector, op, value: this.requireValue()}
  }

  requireValue(): string {
    const value = this.tryValue()
    if (value === undefined) this.fail('expected a value')
    return value
  }

  tryValue(): string | undefined {
    if (this.peek('"') || this.peek('`')) return this.string()
    const num = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?/.exec(this.text.slice(this.#pos))
    if (num !== null) {
      const after = this.text[this.#pos + num[0].length]
      if (after !== undefined && !/[ \t\r\n)]/.test(after)) {
        if (num[0].startsWith('-') || !IDENT_START.test(after)) this.fail('invalid number literal')
      } else {
        this.#pos += num[0].length
        return num[0]
      }
    }
    const selector = this.trySelector()
    return selector === undefined ? undefined : selector.join('.')
  }

  trySelector(): string[] | undefined {
    if (this.atEnd() || !IDENT_START.test(this.text[this.#pos])) return undefined
    const path = [this.identifier()]
    for (;;) {
      if (this.peek('.') && this.#pos + 1 < this.text.length && IDENT_START.test(this.text[this.#pos + 1])) {
        this.#pos++
        path.push(this.identifier())
      } else if (this.peek('.') && /[0-9]/.test(this.text[this.#pos + 1] ?? '')) {
        this.#pos++
        const digits = /^[0-9]+/.exec(this.text.slice(this.#pos))![0]
        this.#pos += digits.length
        path.push(digits)
      } else if (this.peek('[')) {
        this.#pos++
        this.ws()
        if (!this.peek('"') && !this.peek('`')) this.fail('invalid index')
        path.push(this.string())
        this.ws()
        if (!this.peek(']')) this.fail('unclosed index expression')
        this.#pos++
      } else {
        return path
      }
    }
  }

  identifier(): string {
    const start = this.#pos
    this.#pos++
    while (this.#pos < this.text.length && IDENT_REST.test(this.text[this.#pos])) this.#pos++
    return this.text.slice(start, this.#pos)
  }

  string(): string {
    const quote = this.text[this.#pos]
    const start = this.#pos
    this.#pos++
    let out = ''
    while (this.#pos < this.text.length && this.text[this.#pos] !== quote) {
      const ch = this.text[this.#pos]
      if (quote === '"' && ch === '\\') {
        const next = this.text[this.#pos + 1]
        const escapes: Record<string, string> = {n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/'}
        if (next === undefined || escapes[next] === undefined) this.fail('invalid escape in string literal')
        out += escapes[next]
        this.#pos += 2
        continue
      }
      out += ch
      this.#pos++
    }
    if (this.atEnd()) {
      this.#pos = start
      this.fail('unterminated string literal')
    }
    this.#pos++
    return out
  }
}

/** Parse a filter expression; throws FilterError with a one-line reason. */
export function parseFilter(text: string): FilterExpr {
  return new Parser(text).parseInput()
}

import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseGoFlags, wantsHelp} from '../../../src/lib/cli/goflags.js'
import {boolFlag, durationFlag, intFlag, listFlag, stringFlag, uint64Flag} from '../../../src/lib/cli/flags.js'
import {FlagError, HelpRequested} from '../../../src/lib/cli/errors.js'

const defs = {
  recurse: boolFlag({description: 'r'}),
  detailed: boolFlag({description: 'd'}),
  separator: stringFlag({description: 's', default: '/'}),
  flags: uint64Flag({description: 'f'}),
  count: intFlag({description: 'c'}),
  wait: durationFlag({description: 'w'}),
  tag: listFlag({description: 't'}),
}

const parse = (argv: string[]) => parseGoFlags(defs, argv)

function flagError(argv: string[]): string {
  try {
    parse(argv)
  } catch (error) {
    assert.ok(error instanceof FlagError)
    assert.equal(error.code, 'CLI_FLAG')
    return error.message
  }
  assert.fail('expected a FlagError')
}

describe('Go flag parser', () => {
  it('accepts single and double dash, = and separate values', () => {
    for (const argv of [['-separator=x'], ['--separator=x'], ['-separator', 'x'], ['--separator', 'x']]) {
      const {flags, set, args} = parse(argv)
      assert.equal(flags.separator, 'x')
      assert.ok(set.has('separator'))
      assert.deepEqual(args, [])
    }
  })

  it('keeps defaults and reports which flags were set', () => {
    const {flags, set} = parse([])
    assert.equal(flags.separator, '/')
    assert.equal(flags.recurse, false)
    assert.equal(flags.flags, '0')
    assert.equal(set.size, 0)
  })

  it('reads every Go boolean form', () => {
    for (const v of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parse([`-recurse=${v}`]).flags.recurse, true)
    for (const v of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(parse([`-recurse=${v}`]).flags.recurse, false)
    assert.equal(parse(['-recurse']).flags.recurse, true)
    assert.equal(parse(['--recurse']).flags.recurse, true)
  })

  it('does not let a boolean consume the next word', () => {
    const {flags, args} = parse(['-recurse', 'false'])
    assert.equal(flags.recurse, true)
    assert.deepEqual(args, ['false'])
  })

  it('stops at the first positional: later flags are arguments', () => {
    const {flags, args} = parse(['-recurse', 'foo', '-detailed'])
    assert.equal(flags.detailed, false)
    assert.deepEqual(args, ['foo', '-detailed'])
  })

  it('stops after -- and drops it', () => {
    assert.deepEqual(parse(['-recurse', '--', '-detailed']).args, ['-detailed'])
  })

  it('treats a lone - as a positional', () => {
    assert.deepEqual(parse(['-recurse', '-', 'x']).args, ['-', 'x'])
  })

  it('lets a value flag take a dash-led value', () => {
    assert.equal(parse(['-separator', '-x']).flags.separator, '-x')
  })

  it('parses uint64 exactly, Go integer prefixes included', () => {
    assert.equal(parse(['-flags=18446744073709551615']).flags.flags, '18446744073709551615')
    assert.equal(parse(['-flags=0x10']).flags.flags, '16')
    assert.equal(parse(['-flags=010']).flags.flags, '8')
    assert.equal(flagError(['-flags=18446744073709551616']), 'invalid value "18446744073709551616" for flag -flags: value out of range')
    assert.equal(flagError(['-flags=-1']), 'invalid value "-1" for flag -flags: parse error')
  })

  it('parses int, duration (ms) and repeatable flags', () => {
    assert.equal(parse(['-count=-3']).flags.count, -3)
    assert.equal(parse(['-wait=1m30s']).flags.wait, 90_000)
    assert.equal(parse(['-wait', '500ms']).flags.wait, 500)
    assert.deepEqual(parse(['-tag=a', '-tag', 'b']).flags.tag, ['a', 'b'])
    assert.equal(flagError(['-wait=soon']), 'invalid value "soon" for flag -wait: parse error')
  })

  it('names an unknown flag the way Go does', () => {
    assert.equal(flagError(['-bogus']), 'flag provided but not defined: -bogus')
    assert.equal(flagError(['--bogus=1']), 'flag provided but not defined: -bogus')
  })

  it('reports bad values, bad booleans, missing values and bad syntax', () => {
    assert.equal(flagError(['-count=x']), 'invalid value "x" for flag -count: parse error')
    assert.equal(flagError(['-recurse=yes']), 'invalid boolean value "yes" for -recurse: parse error')
    assert.equal(flagError(['-separator']), 'flag needs an argument: -separator')
    assert.equal(flagError(['---x']), 'bad flag syntax: ---x')
    assert.equal(flagError(['-=x']), 'bad flag syntax: -=x')
  })

  it('turns -h and -help into a help request', () => {
    assert.throws(() => parse(['-h']), HelpRequested)
    assert.throws(() => parse(['--help']), HelpRequested)
    assert.equal(wantsHelp(['kv', 'get', '-help']), true)
    assert.equal(wantsHelp(['kv', 'put', '--', '-h']), false)
  })
})

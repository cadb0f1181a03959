// Shell completion (@oclif/plugin-autocomplete): `coord autocomplete` builds the bash and zsh
// completion functions from the commands' manifest; bash, given the generated script, completes
// real commands and real flags.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, tempDir} from '../helpers/agent.js'

interface ManifestFlag {name: string; hidden?: boolean}
const manifest = JSON.parse(readFileSync(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, {hidden?: boolean; flags: Record<string, ManifestFlag>}>
}

describe('coord autocomplete', {timeout: 120_000}, () => {
  const cache = tempDir('coord-complete-')
  after(() => cache.cleanup())
  const env = {XDG_CACHE_HOME: cache.path}
  const functions = join(cache.path, 'coord', 'autocomplete', 'functions')
  /** What `coord autocomplete script bash` tells a user to add to ~/.bashrc. */
  let setupLine = ''

  it('builds the bash and zsh functions and prints the setup for each shell', async () => {
    for (const shell of ['bash', 'zsh']) {
      const res = await runCli(['autocomplete', shell], {env, timeoutMs: 60_000})
      assert.equal(res.code, 0, res.stderr)
      assert.match(res.stdout, new RegExp(`coord autocomplete script ${shell}`))
    }
    assert.ok(existsSync(join(functions, 'bash', 'coord.bash')))
    assert.ok(existsSync(join(functions, 'zsh', '_coord')))
    const script = await runCli(['autocomplete', 'script', 'bash'], {env})
    assert.equal(script.code, 0, script.stderr)
    assert.match(script.stdout, /COORD_AC_BASH_SETUP_PATH=.*bash_setup && test -f .* && source /)
    setupLine = script.stdout.trim()
  })

  it('the bash script names every command of the manifest with each of its flags', () => {
    const bash = readFileSync(join(functions, 'bash', 'coord.bash'), 'utf8')
    const lines = new Map(bash.split('\n').map((line) => [line.split(' ')[0], line]))
    let commands = 0
    for (const [id, command] of Object.entries(manifest.commands)) {
      if (command.hidden) continue
      const line = lines.get(id)
      assert.ok(line, `command ${id} is in the completion script`)
      for (const flag of Object.values(command.flags)) {
        if (!flag.hidden) assert.match(line, new RegExp(` --${flag.name}( |$)`), `${id} --${flag.name}`)
      }
      commands++
    }
    assert.ok(commands > 40, `${commands} commands`)
    const zsh = readFileSync(join(functions, 'zsh', '_coord'), 'utf8')
    assert.match(zsh, /^#compdef coord/)
    assert.match(zsh, /"members\[/)
    assert.match(zsh, /--recurse/)
  })

  it('bash, set up as the instructions say, completes command words, subcommands and flags', () => {
    assert.ok(setupLine, 'the setup line from the first test')
    const complete = (words: string[]): string[] => {
      const script = [
        setupLine,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        `COMP_LINE='${words.join(' ')}'`,
        '_coord_autocomplete',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n')
      const res = spawnSync('bash', ['-c', script], {encoding: 'utf8'})
      assert.equal(res.status, 0, res.stderr)
      return res.stdout.split('\n').filter(Boolean)
    }
    assert.deepEqual(complete(['coord', 'mem']), ['members'])
    assert.deepEqual(complete(['coord', 'kv', 'ge']), ['get'])
    assert.deepEqual(complete(['coord', 'operator', 'raft', 'list']), ['list-peers'])
    assert.deepEqual(complete(['coord', 'kv', 'get', '--rec']), ['--recurse'])
    assert.deepEqual(complete(['coord', 'lock', '--lock-d']), ['--lock-delay'])
    assert.ok(complete(['coord', 'snap']).includes('snapshot'))
  })
})

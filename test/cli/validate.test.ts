// `coord validate` (and `configtest`) through the real binary: a good config directory is valid, and
// each broken file is refused with exit 1 and the exact problem, naming the file and key.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, tempDir} from '../helpers/agent.js'

describe('coord validate', () => {
  const dir = tempDir('coord-validate-')
  after(() => dir.cleanup())
  let n = 0
  /** A config directory holding a valid base (data_dir) plus the given files. */
  const configDir = (files: Record<string, string>): string => {
    const path = join(dir.path, `case-${n++}`)
    mkdirSync(path)
    writeFileSync(join(path, '00-base.json'), JSON.stringify({data_dir: dir.path}))
    for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text)
    return path
  }

  it('says a good HCL + JSON directory is valid (exit 0), and nothing with -quiet', async () => {
    const good = configDir({
      'server.hcl': 'server = true\nbootstrap_expect = 3\nretry_join = ["127.0.0.2"]\nports { http = 8500 }\nui_config { enabled = true }\n',
      'web.hcl': 'service {\n  name = "web"\n  port = 80\n  check {\n    http = "http://localhost/health"\n    interval = "10s"\n  }\n}\n',
      'db.json': JSON.stringify({services: [{name: 'db', port: 5432, checks: [{tcp: 'localhost:5432', interval: '5s'}]}]}),
    })
    const valid = await runCli(['validate', good])
    assert.deepEqual([valid.code, valid.stdout, valid.stderr], [0, 'Configuration is valid!\n', ''])
    const quiet = await runCli(['configtest', '-quiet', join(good, 'web.hcl'), join(good, '00-base.json')])
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', ''])
  })

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['HCL: unclosed block', {'a.hcl': 'ports {\n  http = 1\n'}, /a\.hcl: At \d+:\d+: /],
    ['HCL: missing value before the next key', {'a.hcl': 'server = true\nnode_name =\ndatacenter = "dc1"\n'}, /a\.hcl: At 3:\d+: /],
    ['HCL: unterminated string', {'a.hcl': 'datacenter = "dc1\n'}, /a\.hcl: At \d+:\d+: /],
    ['HCL: two ports blocks', {'a.hcl': 'ports { http = 1 }\nports { dns = 2 }\n'}, /a\.hcl: ports: only one block is allowed here, found 2/],
    ['HCL: unknown key', {'a.hcl': 'bootstrap_expected = 3\n'}, /a\.hcl: invalid config key bootstrap_expected/],
    ['HCL: unknown nested key', {'a.hcl': 'ports { htp = 1 }\n'}, /a\.hcl: invalid config key ports\.htp/],
    ['HCL: string for a number', {'a.hcl': 'bootstrap_expect = "three"\n'}, /a\.hcl: bootstrap_expect: expected a non-negative integer, got "three"/],
    ['HCL: number for a string', {'a.hcl': 'datacenter = 5\n'}, /a\.hcl: datacenter: expected a string, got 5/],
    ['HCL: bad duration', {'a.hcl': 'retry_interval = "soon"\n'}, /a\.hcl: retry_interval: expected a duration/],
    ['HCL: port out of range', {'a.hcl': 'ports { http = 70000 }\n'}, /a\.hcl: ports\.http: expected a port number/],
    ['HCL: bad log level', {'a.hcl': 'log_level = "loud"\n'}, /a\.hcl: log_level: expected one of/],
    ['HCL: ACLs with a bad default policy', {'a.hcl': 'acl {\n  enabled = true\n  default_policy = "maybe"\n}\n'}, /a\.hcl: acl\.default_policy: must be one of "allow", "deny", got "maybe"/],
    ['HCL: bad write allow-list CIDR', {'a.hcl': 'http_config { allow_write_http_from = ["10.0.0.0/99"] }\n'}, /a\.hcl: http_config\.allow_write_http_from: invalid CIDR "10\.0\.0\.0\/99"/],
    ['JSON: truncated', {'a.json': '{"server": true, "ports": {'}, /Error parsing \S+a\.json: /],
    ['JSON: empty file', {'a.json': ''}, /Error parsing \S+a\.json: /],
    ['JSON: top level an array', {'a.json': '[]'}, /a\.json: the top level must be a JSON object/],
    ['JSON: unknown key', {'a.json': '{"bootstrap_expected": 3}'}, /a\.json: invalid config key bootstrap_expected/],
    ['JSON: bind address not an IP', {'a.json': '{"bind_addr": "not-an-ip"}'}, /a\.json: bind_addr: must be an IP address, got "not-an-ip"/],
    ['JSON: negative bootstrap_expect', {'a.json': '{"bootstrap_expect": -1}'}, /a\.json: bootstrap_expect: expected a non-negative integer, got -1/],
    ['JSON: bad encrypt key', {'a.json': '{"encrypt": "short"}'}, /encrypt has invalid key/],
    ['JSON: bad node_id', {'a.json': '{"node_id": "not-a-uuid"}'}, /node_id/],
    ['JSON: bad datacenter name', {'a.json': '{"datacenter": "dc 1"}'}, /datacenter/],
    ['JSON: service without a name', {'a.json': '{"service": {"port": 80}}'}, /a\.json: .*name/i],
    ['JSON: check without a kind', {'a.json': '{"check": {"name": "c"}}'}, /a\.json: .*check/i],
    ['JSON: check interval not a duration', {'a.json': '{"check": {"name": "c", "http": "http://x/", "interval": "often"}}'}, /a\.json: checks\[0\]: Invalid check: Interval must be a duration/],
    ['JSON: watch of an unknown type', {'a.json': '{"watches": [{"type": "weather", "args": ["/bin/true"]}]}'}, /a\.json: .*watch/i],
    ['conflicting: bootstrap and bootstrap_expect', {'a.json': '{"server": true, "bootstrap": true, "bootstrap_expect": 3}'}, /mutually exclusive/],
    ['conflicting: bootstrap_expect on a client', {'a.json': '{"server": false, "bootstrap_expect": 3}'}, /bootstrap_expect/],
    ['data dir is a file', {'a.json': JSON.stringify({data_dir: '/etc/hostname'})}, /data_dir: "\/etc\/hostname" is not a directory/],
    ['retry_interval zero', {'a.json': '{"retry_interval": "0s"}'}, /retry_interval: must be greater than zero/],
    ['two problems in two files, both named', {'a.json': '{"log_level": 3}', 'b.hcl': 'ports { dns = "x" }\n'}, /2 problems in the configuration:\n {2}\S+(a\.json: log_level: [^\n]+\n {2}\S+b\.hcl: ports\.dns: |b\.hcl: ports\.dns: [^\n]+\n {2}\S+a\.json: log_level: )/],
  ]

  it(`refuses each of ${cases.length} broken configs with exit 1 and the problem named (4 at a time)`, async () => {
    const failures: string[] = []
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(cases.slice(i, i + 4).map(async ([name, files, says]) => {
        const result = await runCli(['validate', configDir(files)])
        if (result.code !== 1 || !/^Config validation failed: /.test(result.stderr) || !says.test(result.stderr) || result.stdout !== '') {
          failures.push(`${name}: exit ${result.code}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}`)
        }
      }))
    }
    assert.deepEqual(failures, [])
  })

  it('-config-format reads a file whatever its extension; without it such a file is refused, as Consul does', async () => {
    const file = join(dir.path, 'agent.conf')
    writeFileSync(file, `data_dir = "${dir.path}"\nnode_meta { rack = "r1" }\n`)
    const hcl = await runCli(['validate', '-config-format=hcl', file])
    assert.deepEqual([hcl.code, hcl.stdout], [0, 'Configuration is valid!\n'], hcl.stderr)
    const plain = await runCli(['validate', file])
    assert.equal(plain.code, 1)
    assert.match(plain.stderr, /agent\.conf has unknown extension; must be \.hcl or \.json, or config format must be set/)
    const bad = await runCli(['validate', '-config-format=toml', file])
    assert.deepEqual([bad.code, bad.stderr.trim()], [1, `-config-format must be 'hcl' or 'json', got "toml"`])
  })

  it('needs at least one path', async () => {
    const none = await runCli(['validate'])
    assert.deepEqual([none.code, none.stderr.trim()], [1, 'Must specify at least one config file or directory'])
  })
})

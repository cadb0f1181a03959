// The web UI's config keys (ui_config.enabled/dir/content_path and their flags) as Consul's builder
// reads them: content_path normalised as UIPathBuilder, -ui a spelling of ui_config.enabled, the
// UI on in -dev, and the combinations Consul (or coord, for the API's sake) refuses.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {tmpdir} from 'node:os'
import {ConfigError, buildConfig, mergeRaw, uiContentPath} from '../../../src/lib/agent/config.js'
import {rawConfigFromFlags} from '../../../src/lib/agent/flags-config.js'

describe('ui config', () => {
  it('normalises content_path as Consul: one slash each side, /ui/ when empty', () => {
    assert.equal(uiContentPath(''), '/ui/')
    assert.equal(uiContentPath('console'), '/console/')
    assert.equal(uiContentPath('//a/b//'), '/a/b/')
    assert.equal(uiContentPath('/'), '/')
  })

  it('is on in -dev, off otherwise, and -ui / -ui-dir / -ui-content-path map to ui_config', () => {
    assert.equal(buildConfig({}, {dev: true}).ui, true)
    assert.equal(buildConfig({data_dir: '/tmp/x'}, {dev: false}).ui, false)
    const flags = rawConfigFromFlags({ui: true, 'ui-content-path': 'console'}, new Set(['ui', 'ui-content-path']))
    const config = buildConfig(mergeRaw({data_dir: '/tmp/x'}, flags), {dev: false})
    assert.deepEqual([config.ui, config.uiDir, config.uiContentPath], [true, '', '/console/'])
    assert.equal(buildConfig({ui_config: {dir: tmpdir()}}, {dev: true}).uiDir, tmpdir())
  })

  it('refuses enabled with dir outside -dev, a content path over the API, and a dir that is not one', () => {
    const problems = (raw: Record<string, unknown>, dev: boolean): string => {
      try {
        buildConfig({data_dir: '/tmp/x', ...raw}, {dev})
        return ''
      } catch (error) {
        assert.ok(error instanceof ConfigError)
        return error.message
      }
    }
    assert.match(problems({ui_config: {enabled: true, dir: tmpdir()}}, false), /both ui_config\.enabled and ui_config\.dir/)
    assert.equal(problems({ui_config: {enabled: true, dir: tmpdir()}}, true), '', '-dev: the dir replaces the built-in UI')
    assert.match(problems({ui_config: {content_path: '/v1/'}}, true), /would hide the HTTP API/)
    assert.match(problems({ui_config: {content_path: 'a"b'}}, true), /only URL path characters/)
    assert.match(problems({ui_config: {dir: '/nonexistent/coord-ui'}}, true), /is not a readable directory/)
    assert.match(problems({ui_config: {dir: 5}}, true), /ui_config\.dir/)
  })
})

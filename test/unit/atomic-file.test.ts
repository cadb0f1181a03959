// renameOverSync and closeOffLoop: a file replaced by a rename is let go on the thread pool, so the
// freeing of its blocks (tens of ms for a large log or snapshot) never runs on the event loop; the
// descriptor that kept it is closed all the same, and the new file is in place at once.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {renameOverSync, syncDirOffLoop} from '../../src/lib/atomic-file.js'
import {deletedFilesOpen} from '../helpers/open-files.js'
import {waitFor} from '../helpers/wait.js'


describe('renameOverSync', () => {
  it('puts the new file in place at once and lets the old one go off the event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coord-atomic-'))
    try {
      const target = join(dir, 'snapshot.dat')
      writeFileSync(target, Buffer.alloc(4 << 20, 1))
      writeFileSync(`${target}.tmp`, 'new')
      renameOverSync(`${target}.tmp`, target)
      assert.equal(readFileSync(target, 'utf8'), 'new')
      assert.deepEqual(readdirSync(dir), ['snapshot.dat'])
      // The old file's last descriptor is closed on the thread pool, shortly after.
      await waitFor('the replaced file to be closed', () => deletedFilesOpen(dir).length === 0, 5000)
      await syncDirOffLoop(dir)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('renames when nothing was there before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coord-atomic-'))
    try {
      writeFileSync(join(dir, 'a.tmp'), 'first')
      renameOverSync(join(dir, 'a.tmp'), join(dir, 'a'))
      assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'first')
      assert.throws(() => renameOverSync(join(dir, 'missing.tmp'), join(dir, 'a')), /ENOENT/)
      assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'first', 'a failed rename leaves the old file')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

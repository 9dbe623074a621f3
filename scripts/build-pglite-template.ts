// Owns building dist/pglite-template-<version>.tar: PGlite's initdb run once at build time, so a fresh embedded
// database (first `npm start`, every in-memory test app) is unpacked instead of initialised. Skips when it exists.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { pgliteTemplatePath } from '../src/db/pglite-template.js'

const path = pgliteTemplatePath()
if (!existsSync(path)) {
  const pglite = await PGlite.create()
  const tarball = await pglite.dumpDataDir('none')
  await pglite.close()
  mkdirSync(dirname(path), { recursive: true })
  // written aside and renamed, so a build interrupted half-way never leaves a truncated template to load
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()))
  renameSync(partial, path)
}

// Owns creating the embedded PGlite instance (from the build's template, with marked statements prepared), in whichever thread runs it.
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadPgliteTemplate } from './pglite-template.js'

/** `dir` null keeps the database in memory. */
export async function createPglite (dir: string | null) {
  const [{ PGlite }, { preparePgliteMarkedStatements }] = await Promise.all([import('@electric-sql/pglite'), import('./pglite-prepared.js')])
  // A new database starts from the build's initialised template when there is one (PGlite refuses a template over an
  // existing database, so only a directory without PG_VERSION gets it).
  let pglite
  if (dir === null) {
    const loadDataDir = loadPgliteTemplate()
    pglite = await PGlite.create(loadDataDir === undefined ? {} : { loadDataDir })
  } else {
    await mkdir(dir, { recursive: true })
    const loadDataDir = existsSync(join(dir, 'PG_VERSION')) ? undefined : loadPgliteTemplate()
    pglite = await PGlite.create(dir, loadDataDir === undefined ? {} : { loadDataDir })
  }
  preparePgliteMarkedStatements(pglite)
  return pglite
}

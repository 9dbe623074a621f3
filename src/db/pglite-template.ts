// Owns the pre-initialised PGlite data directory (a tarball built once by `npm run build`): a fresh embedded database
// is unpacked from it instead of running initdb, which was most of a first start (about 2 s of 2.5-3 s).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { packageRoot } from '../paths.js'

/**
 * The tarball's path, keyed by the installed PGlite version: a data directory initialised by another PGlite (another
 * PostgreSQL build) is never loaded, the new version simply has no template until the next build.
 */
export function pgliteTemplatePath (): string {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('@electric-sql/pglite')
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  return join(packageRoot, 'dist', `pglite-template-${manifest.version}.tar`)
}

/** The template as PGlite's loadDataDir wants it, or undefined when none was built (PGlite then runs initdb). */
export function loadPgliteTemplate (): Blob | undefined {
  const path = pgliteTemplatePath()
  return existsSync(path) ? new Blob([readFileSync(path)]) : undefined
}

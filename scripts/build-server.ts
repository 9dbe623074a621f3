// Owns bundling the compiled server (dist/src/server.js and everything it imports) into dist/server/server.js, the
// file `npm start` and the image run: one ES module instead of ~700, which halved the time to the first /health.
import { build, type BuildOptions } from 'esbuild'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** The project root, from scripts/ (run with tsx in tests) or dist/scripts/ (run by npm run build). */
const root = here.endsWith(join('dist', 'scripts')) ? join(here, '..', '..') : join(here, '..')

export const serverBundle = join(root, 'dist', 'server', 'server.js')
/** The files the last bundle was made from, to skip an unchanged rebuild (npm start runs the build every time). */
const inputsFile = join(root, 'dist', 'server', 'inputs.json')

/**
 * Left as ordinary imports from node_modules:
 * - loaded only when the settings ask for them (the dynamic imports stay lazy): pg, ioredis, the AWS SDK, web-push,
 *   sharp;
 * - finding their own files next to their code (`__dirname`, `import.meta.url`), which a bundle would move: PGlite's
 *   wasm and data, pino's transport worker, swagger-ui's assets and @fastify/swagger's package.json.
 */
const external = [
  '@electric-sql/pglite', 'pg', 'pg-native', 'ioredis', '@aws-sdk/*', 'web-push', 'sharp',
  'pino', 'pino-pretty', 'thread-stream', '@fastify/swagger', '@fastify/swagger-ui'
]

export const options: BuildOptions = {
  absWorkingDir: root,
  entryPoints: ['dist/src/server.js'],
  outdir: 'dist/server',
  bundle: true,
  // the lazily imported modules of src/ (Redis broker, S3 storage, push sender) become chunks loaded on first use
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // bundled CommonJS packages call require() for Node's built-ins; an ES module has no require of its own
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning'
}

/**
 * PGLITE_WORKER's thread (src/db/pglite-worker.ts) is started from a file, which the client looks for next to its own
 * code: in server.js, so as dist/server/pglite-worker.js. A build of its own (no shared chunks) leaves server.js as it
 * was without the worker.
 */
export const workerOptions: BuildOptions = {
  ...options,
  entryPoints: ['dist/src/db/pglite-worker.js'],
  splitting: false
}

/** True when the bundle exists and no file it was made from changed since. */
function upToDate (): boolean {
  if (!existsSync(serverBundle) || !existsSync(inputsFile)) return false
  const built = statSync(serverBundle).mtimeMs
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as string[]
  return inputs.every((input) => existsSync(join(root, input)) && statSync(join(root, input)).mtimeMs <= built)
}

export async function buildServer ({ force = false } = {}): Promise<void> {
  if (!force && upToDate()) return
  // chunk names carry a content hash: without a clean folder every rebuild would leave the old ones behind
  rmSync(dirname(serverBundle), { recursive: true, force: true })
  const results = await Promise.all([build(options), build(workerOptions)])
  mkdirSync(dirname(inputsFile), { recursive: true })
  writeFileSync(inputsFile, JSON.stringify([...new Set(results.flatMap((result) => Object.keys(result.metafile?.inputs ?? {})))]))
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildServer({ force: process.argv.includes('--force') })
}

// Owns building the embeddable front-end: web/ (TypeScript modules) bundled by esbuild into static/chat.js and
// static/seller-chats.js, each self-contained (one request), ES2017, minified, with a source map, and each precompressed
// (.br at the highest quality, .gz at zlib's default level) for @fastify/static's preCompressed serving.
import { build, type BuildOptions, type Metafile } from 'esbuild'
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
/** The project root, from scripts/ (run with tsx in tests) or dist/scripts/ (run by npm run build). */
export const root = here.endsWith(join('dist', 'scripts')) ? join(here, '..', '..') : join(here, '..')

/** Public file name → entry module. */
export const bundles = {
  'chat.js': 'web/buyer/main.ts',
  'seller-chats.js': 'web/seller/main.ts',
  /** The Block/Report menu, loaded by either widget when a conversation opens. */
  'chat-safety.js': 'web/ui/safety-entry.ts',
  /** The buyer's list of chats and the notify control, loaded when the buyer's launcher first opens the list. */
  'chat-list.js': 'web/buyer/list-entry.ts'
} as const

export function options (entry: string, outfile: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'iife',
    target: 'es2017',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    // The locales are Cyrillic: as UTF-8 they cost 2 bytes a letter, escaped 6. The service sends charset=utf-8.
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning'
  }
}

/** Builds both bundles into `outdir` (static/ by default); returns each bundle's metafile. */
export async function buildWeb (outdir = join(root, 'static')): Promise<Record<string, Metafile>> {
  const metafiles: Record<string, Metafile> = {}
  for (const [file, entry] of Object.entries(bundles)) {
    const out = join(outdir, file)
    const result = await build(options(entry, out))
    if (result.metafile) metafiles[file] = result.metafile
    await precompress(out)
  }
  return metafiles
}

/** file.br and file.gz next to file: compressed once at build time, not on every request. */
export async function precompress (file: string): Promise<void> {
  const bytes = await readFile(file)
  await writeFile(file + '.gz', gzipSync(bytes))
  await writeFile(file + '.br', brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length }
  }))
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb()
}

// The embeds are built from web/ (plus linkifyjs for links) alone: no server code (TypeBox, Fastify, …) reaches a
// marketplace page, the buyer embed stays within its budget, and each file is precompressed for the static route.
import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { brotliDecompressSync, gzipSync } from 'node:zlib'
import t from 'tap'
import { buildWeb, bundles, root } from '../../scripts/build-web.js'

// esbuild on a shared 2-core machine.
t.setTimeout(120_000)

/**
 * The buyer embed's gzip budget. It was the hand-written file's 12,168 bytes until issue #19 added linkifyjs (safe
 * clickable links; its table of top-level domains is most of the ~12 KB added), drafts, states and RTL. Issue #16's
 * photos (attach/paste/upload with Retry, thumbnails, the viewer dialog, and their strings and six error texts in
 * three languages — Cyrillic compresses poorly) added about 2.2 KB: 26,000 -> 28,000. Issue #15's menu loads on
 * demand (static/chat-safety.js); only its loader stays here: 28,000 -> 29,000. Issue #13 (section 2): the buyer's list of
 * chats and the notify control load on demand (static/chat-list.js); what must run before anything is opened stays
 * here: the inbox socket's live total over all the buyer's chats, the hidden-tab title count and the opt-in beep
 * (about 1.4 KB): 29,000 -> 30,000. Then the read frames coalesced and resent when refused, the note for a masked
 * message (#15), the guest's queue following a claim (#14), and the photo composer's preview, cancel and drop (#16):
 * 30,000 -> 31,000; photos that heal an expired signed URL with the token: 31,500. Next candidates to load on demand:
 * the photo composer and viewer, and the claim, which few page views use.
 */
const BUYER_GZIP_BUDGET = 31_500

t.test('each bundle is built from the front-end folder and the shared limits only', async (t) => {
  const outdir = t.testdir()
  const metafiles = await buildWeb(outdir)
  t.same(Object.keys(metafiles).sort(), Object.keys(bundles).sort(), 'both public files are built')
  for (const [file, metafile] of Object.entries(metafiles)) {
    const inputs = Object.keys(metafile.inputs)
    t.ok(inputs.length > 5, `${file} has its modules`)
    const foreign = inputs.filter((input) => !input.startsWith('web/') && input !== 'src/protocol/limits.ts' &&
      !input.startsWith('node_modules/linkifyjs/'))
    t.same(foreign, [], `${file}: every input is under web/, is src/protocol/limits.ts or is linkifyjs`)
    const text = await readFile(join(outdir, file), 'utf8')
    t.notMatch(text, /typebox|fastify|kysely|require\(/i, `${file}: no server library in the text either`)
    t.match(text, /sourceMappingURL=/, `${file}: has a source map`)
    const map = JSON.parse(await readFile(join(outdir, `${file}.map`), 'utf8')) as { sources: string[] }
    t.ok(map.sources.every((source) => /^(web|node_modules\/linkifyjs)/.test(relative(root, join(outdir, source)))), `${file}: the map points at web/ (and linkifyjs)`)
    const raw = await readFile(join(outdir, file))
    t.same(await readFile(join(outdir, `${file}.gz`)), gzipSync(raw), `${file}.gz is the file gzipped`)
    t.same(brotliDecompressSync(await readFile(join(outdir, `${file}.br`))), raw, `${file}.br is the file in brotli`)
  }
  const buyer = gzipSync(await readFile(join(outdir, 'chat.js')))
  t.ok(buyer.length < BUYER_GZIP_BUDGET, `the one-tag buyer embed is ${buyer.length} bytes gzipped, under ${BUYER_GZIP_BUDGET}`)
})

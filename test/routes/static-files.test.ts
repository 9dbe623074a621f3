// The widgets go out compressed as the browser asks (issue #19 item 11): the build's .br and .gz files, served by
// @fastify/static's preCompressed option with Vary: Accept-Encoding, and the plain file for a client that asks for neither.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { staticDir } from '../../src/paths.js'
import { buildTestApp } from '../fixtures/app.js'

t.test('static/*.js is served as br, gzip or plain, by Accept-Encoding', async (t) => {
  const app = await buildTestApp(t)
  for (const file of ['chat.js', 'seller-chats.js']) {
    const plain = await readFile(join(staticDir, file))
    const br = await app.inject({ url: `/static/${file}`, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } })
    t.equal(br.statusCode, 200)
    t.equal(br.headers['content-encoding'], 'br', `${file}: brotli for a browser that takes it`)
    t.match(String(br.headers.vary), /accept-encoding/i, 'caches keep the encodings apart')
    t.same(br.rawPayload, await readFile(join(staticDir, `${file}.br`)), 'the prebuilt .br file')
    t.ok(br.rawPayload.length < plain.length / 2, `${file}: ${br.rawPayload.length} of ${plain.length} bytes`)
    const gz = await app.inject({ url: `/static/${file}`, headers: { 'accept-encoding': 'gzip' } })
    t.equal(gz.headers['content-encoding'], 'gzip', `${file}: gzip when that is all it takes`)
    t.same(gz.rawPayload, await readFile(join(staticDir, `${file}.gz`)))
    const raw = await app.inject({ url: `/static/${file}`, headers: { 'accept-encoding': 'identity' } })
    t.equal(raw.headers['content-encoding'], undefined, `${file}: plain otherwise`)
    t.same(raw.rawPayload, plain)
    t.match(String(raw.headers['content-type']), /javascript/)
  }
})

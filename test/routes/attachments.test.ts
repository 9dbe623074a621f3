// Photo attachments over REST: uploads and every refusal, metadata stripping, sending photos, signed delivery and its expiry, the unused-upload sweep.
import { request as httpRequest } from 'node:http'
import sharp from 'sharp'
import t from 'tap'
import { buildTestApp, listenTestApp, testConfig } from '../fixtures/app.js'
import { hasGpsIfd, hugePng, image, jpegWithGps, multipart, sendWithPhotos, upload } from '../fixtures/attachments.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser, type TestUser } from '../fixtures/users.js'
import type { App } from '../../src/app.js'

const clock = { offsetMs: 0 }
const now = (): number => Date.now() + clock.offsetMs
const env = {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000',
  RATE_LIMIT_SEND_PER_MINUTE: '100000',
  ATTACHMENT_MAX_BYTES: String(512 * 1024)
}
const app = await buildTestApp(t, testConfig(t, env), { now })
let chats = 0

async function newChat (on: App = app): Promise<{ chatId: string, buyer: TestUser, seller: TestUser }> {
  const n = ++chats
  const buyer = await anonymousBuyer(on)
  const seller = registeredUser(`photo-seller-${n}`)
  const opened = await chatApi(on, buyer).openChat(`photo-listing-${n}`, seller.id)
  if (opened.status !== 201) throw new Error(`open: ${opened.status}`)
  return { chatId: opened.body.id, buyer, seller }
}

async function get (url: string, headers: Record<string, string> = {}) {
  return await app.inject({ url, headers })
}

t.test('an uploaded JPEG is re-encoded upright with no EXIF, GPS, XMP or ICC left, and a 320 px thumbnail', async (t) => {
  const { chatId, buyer, seller } = await newChat()
  // Orientation 6: the camera was turned; stored pixels are 400×200, the photo is 200×400.
  const original = await jpegWithGps(400, 200, 6)
  const before = await sharp(original).metadata()
  t.ok(hasGpsIfd(before.exif), 'the test photo does carry a GPS position')
  t.equal(before.orientation, 6)
  t.ok(before.icc, 'an ICC profile')
  t.ok(before.xmp, 'and XMP')
  t.ok(original.includes('SecretCam'), 'and its camera name')

  const uploaded = await upload(app, buyer, chatId, original, { filename: 'x.png', contentType: 'image/png' })
  t.equal(uploaded.status, 201)
  t.match(uploaded.body, { content_type: 'image/jpeg', width: 200, height: 400 }, 'type from the bytes, not the name; orientation applied')
  t.same(Object.keys(uploaded.body).sort(), ['content_type', 'height', 'id', 'size', 'width'])

  const sent = await sendWithPhotos(app, buyer, chatId, [uploaded.body.id])
  t.equal(sent.status, 201, 'a photo needs no text')
  const [attachment] = sent.body.attachments
  const full = await get(attachment.url)
  t.equal(full.statusCode, 200)
  const served = full.rawPayload
  t.equal(served.length, uploaded.body.size)
  const meta = await sharp(served).metadata()
  t.equal(meta.exif, undefined, 'no EXIF block')
  t.equal(meta.xmp, undefined, 'no XMP block')
  t.equal(meta.icc, undefined, 'no ICC profile')
  t.equal(meta.orientation, undefined, 'no orientation tag: the pixels are upright')
  t.notOk(served.includes('SecretCam'), 'the camera name is gone')
  t.notOk(hasGpsIfd(meta.exif), 'no GPS position')
  t.notOk(served.includes('Exif'), 'no Exif marker')
  t.notOk(served.includes('xmpmeta'), 'no XMP packet')
  t.notOk(served.includes('GPSLatitude'), 'no XMP GPS either')
  t.same([meta.width, meta.height], [200, 400])

  const thumb = await get(attachment.thumb_url)
  t.equal(thumb.statusCode, 200)
  const thumbMeta = await sharp(thumb.rawPayload).metadata()
  t.same([thumbMeta.width, thumbMeta.height], [160, 320], 'thumbnail: 320 px on the long side')
  t.equal(thumbMeta.exif, undefined)

  // The seller sees it too, in history, with the headers that keep it an image.
  const history = await chatApi(app, seller).history(chatId)
  const seen = history.body.messages.at(-1)
  t.equal(seen?.message_text, '')
  t.equal(seen?.attachments?.[0]?.id, uploaded.body.id)
  t.equal(full.headers['content-type'], 'image/jpeg')
  t.equal(full.headers['content-disposition'], 'inline')
  t.equal(full.headers['x-content-type-options'], 'nosniff')
  t.match(full.headers['cache-control'], /^private, max-age=\d+$/)
  t.match(String(full.headers['content-security-policy']), /default-src 'none'/)
  t.match(String(full.headers['content-security-policy']), /sandbox/)
  t.ok(full.headers.etag)
  const again = await get(attachment.url, { 'if-none-match': String(full.headers.etag) })
  t.equal(again.statusCode, 304, 'a known ETag is not sent again')
})

t.test('large photos are scaled to 2048 px on the long side; PNG, WebP and GIF are accepted', async (t) => {
  const { chatId, buyer } = await newChat()
  const big = await upload(app, buyer, chatId, await image('png', 3000, 1500))
  t.equal(big.status, 201)
  t.match(big.body, { content_type: 'image/png', width: 2048, height: 1024 })
  t.match((await upload(app, buyer, chatId, await image('webp'))).body, { content_type: 'image/webp', width: 64, height: 48 })
  t.match((await upload(app, buyer, chatId, await image('gif'))).body, { content_type: 'image/png', width: 64, height: 48 }, 'GIF: first frame, as PNG')
})

t.test('every refused upload has its own code', async (t) => {
  const { chatId, buyer } = await newChat()
  const text = await upload(app, buyer, chatId, Buffer.from('just some text, not a photo'), { contentType: 'image/jpeg' })
  t.match(text, { status: 415, code: 'unsupported_media_type' }, 'a text file named like a JPEG')
  const svg = await upload(app, buyer, chatId, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), { contentType: 'image/svg+xml' })
  t.match(svg, { status: 415, code: 'unsupported_media_type' }, 'SVG never reaches the decoder')
  const huge = await upload(app, buyer, chatId, Buffer.alloc(600 * 1024, 0xff))
  t.match(huge, { status: 413, code: 'payload_too_large' }, 'past ATTACHMENT_MAX_BYTES')
  const bomb = await upload(app, buyer, chatId, hugePng(10_000, 10_000))
  t.match(bomb, { status: 422, code: 'image_too_large' }, 'a 100-megapixel canvas in a small file')
  const jpeg = await jpegWithGps()
  const garbage = Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(2000, 0x41)])
  t.match(await upload(app, buyer, chatId, garbage), { status: 422, code: 'invalid_image' }, 'a JPEG header over garbage')
  t.match(await upload(app, buyer, chatId, jpeg.subarray(0, Math.floor(jpeg.length / 2))), { status: 422, code: 'invalid_image' }, 'a truncated JPEG')
  t.match(await upload(app, buyer, chatId, jpeg, { field: 'photo' }), { status: 400, code: 'validation_failed' }, 'a part not named file')
  const json = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/attachments`, headers: buyer.headers, payload: { file: 'x' } })
  t.equal(json.json().error.code, 'unsupported_media_type', 'not multipart')
  const anonymous = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/attachments`, ...multipart(jpeg) })
  t.equal(anonymous.statusCode, 401)
})

t.test('someone outside the chat cannot upload to it or fetch its photos: 404', async (t) => {
  const { chatId, buyer } = await newChat()
  const outsider = registeredUser('photo-outsider')
  t.match(await upload(app, outsider, chatId, await jpegWithGps()), { status: 404, code: 'chat_not_found' })
  const uploaded = await upload(app, buyer, chatId, await jpegWithGps())
  const { id } = uploaded.body
  t.equal((await get(`/api/chat/attachments/${id}`, outsider.headers)).statusCode, 404, 'outsider token')
  t.equal((await get(`/api/chat/attachments/${id}`)).statusCode, 404, 'no token, no signature')
  t.equal((await get(`/api/chat/attachments/${id}`, buyer.headers)).statusCode, 200, 'the uploader, by token')
  const sent = await sendWithPhotos(app, buyer, chatId, [id], 'look')
  const { url } = sent.body.attachments[0]
  const forged = url.replace(/sig=[^&]+/, 'sig=' + 'A'.repeat(43))
  t.equal((await get(forged)).statusCode, 404, 'a forged signature')
  t.equal((await get(url.replace(id, '00000000-0000-4000-8000-000000000000'))).statusCode, 404, "another id with this id's signature")
  t.equal((await get(url.replace('?', '/thumb?'))).statusCode, 404, "the thumbnail with the full image's signature")
  t.equal((await get(`/api/chat/attachments/${id}`, outsider.headers)).statusCode, 404, 'still 404 for the outsider once sent')
})

t.test('signed URLs expire after ATTACHMENT_URL_TTL_SECONDS; fetching the messages again signs fresh ones', async (t) => {
  t.teardown(() => { clock.offsetMs = 0 })
  const { chatId, buyer, seller } = await newChat()
  const uploaded = await upload(app, buyer, chatId, await jpegWithGps())
  const sent = await sendWithPhotos(app, buyer, chatId, [uploaded.body.id])
  const { url } = sent.body.attachments[0]
  t.equal((await get(url)).statusCode, 200)
  clock.offsetMs = 3601 * 1000
  t.equal((await get(url)).statusCode, 404, 'an hour later the URL is dead')
  const history = await chatApi(app, seller).history(chatId)
  const fresh = history.body.messages.at(-1)?.attachments?.[0]?.url as string
  t.not(fresh, url)
  const served = await get(fresh)
  t.equal(served.statusCode, 200, 'the URL from a new fetch works')
  t.match(served.headers['cache-control'], /max-age=(3[0-5]\d\d|3600)$/)
  t.equal((await get(`/api/chat/attachments/${uploaded.body.id}`, seller.headers)).statusCode, 200, 'the header never expires with the URL')
})

t.test('an attachment is used once, by its uploader, in its chat; bad ones fail only their own send', async (t) => {
  const { chatId, buyer, seller } = await newChat()
  const other = await newChat()
  const mine = (await upload(app, buyer, chatId, await jpegWithGps())).body.id as string
  const sellers = (await upload(app, seller, chatId, await image('png'))).body.id as string
  const elsewhere = (await upload(app, other.buyer, other.chatId, await image('png'))).body.id as string

  t.match(await sendWithPhotos(app, buyer, chatId, [sellers]), { status: 404, code: 'attachment_not_found' }, "the other person's upload")
  t.match(await sendWithPhotos(app, other.buyer, chatId, [elsewhere]), { status: 404, code: 'chat_not_found' }, 'not in this chat at all')
  t.match(await sendWithPhotos(app, buyer, chatId, [elsewhere]), { status: 404, code: 'attachment_not_found' }, "another chat's upload")
  t.match(await sendWithPhotos(app, buyer, chatId, ['not-a-uuid']), { status: 404, code: 'attachment_not_found' })
  t.match(await sendWithPhotos(app, buyer, chatId, Array.from({ length: 11 }, () => mine)), { status: 400, code: 'validation_failed' }, 'more than 10')

  const [first, second] = await Promise.all([
    sendWithPhotos(app, buyer, chatId, [mine], 'one', 'c-1'),
    sendWithPhotos(app, seller, chatId, [sellers], 'two', 'c-2')
  ])
  t.equal(first.status, 201, "failures above took nothing from the buyer's photo")
  t.equal(second.status, 201, 'a concurrent send by the other side is unaffected')
  t.equal(first.body.attachments[0].id, mine)
  t.match(await sendWithPhotos(app, buyer, chatId, [mine], 'again'), { status: 409, code: 'attachment_already_used' })
  const retry = await sendWithPhotos(app, buyer, chatId, [mine], 'one', 'c-1')
  t.equal(retry.status, 200, 'a retried send returns the original')
  t.equal(retry.body.id, first.body.id)
  t.equal(retry.body.attachments[0].id, mine)
  const empty = await sendWithPhotos(app, buyer, chatId, [], '')
  t.match(empty, { status: 400, code: 'empty_message' }, 'no text and no photos is still empty')

  const photoOnly = (await upload(app, buyer, chatId, await image('webp'))).body.id as string
  t.equal((await sendWithPhotos(app, buyer, chatId, [photoOnly])).status, 201)
  t.equal((await chatApi(app, seller).chat(chatId)).body.last_message, '📷 Photo', 'the preview of a photo without text')
  const history = (await chatApi(app, seller).history(chatId)).body.messages
  t.same(history.map((m) => (m.attachments ?? []).length), [1, 1, 1])
})

t.test('ATTACHMENTS_PER_HOUR bounds uploads per person: 429 beyond', async (t) => {
  const limited = await buildTestApp(t, testConfig(t, { ...env, ATTACHMENTS_PER_HOUR: '2' }))
  const { chatId, buyer, seller } = await newChat(limited)
  const png = await image('png')
  t.equal((await upload(limited, buyer, chatId, png)).status, 201)
  t.equal((await upload(limited, buyer, chatId, png)).status, 201)
  t.match(await upload(limited, buyer, chatId, png), { status: 429, code: 'rate_limited' })
  t.equal((await upload(limited, seller, chatId, png)).status, 201, 'the other person has their own allowance')
})

t.test('uploads no message used are deleted after 24 hours; used ones stay', async (t) => {
  const { chatId, buyer } = await newChat()
  const unused = (await upload(app, buyer, chatId, await image('png'))).body.id as string
  const used = (await upload(app, buyer, chatId, await image('png'))).body.id as string
  t.equal((await sendWithPhotos(app, buyer, chatId, [used])).status, 201)
  t.equal(await app.attachments.sweepUnused(now() + 23 * 3600_000), 0, 'nothing is old enough after 23 hours')
  t.ok(await app.attachments.sweepUnused(now() + 25 * 3600_000) >= 1)
  t.equal((await get(`/api/chat/attachments/${unused}`, buyer.headers)).statusCode, 404, 'the unused upload is gone')
  t.match(await sendWithPhotos(app, buyer, chatId, [unused]), { status: 404, code: 'attachment_not_found' })
  t.equal((await get(`/api/chat/attachments/${used}`, buyer.headers)).statusCode, 200, 'the sent one stays')
})

t.test('an oversized upload without a Content-Length is refused with 413 before the client has finished sending', async (t) => {
  const { url, app: listening } = await listenTestApp(t, testConfig(t, env))
  const { chatId, buyer } = await newChat(listening)
  const { payload, headers } = multipart(Buffer.alloc(600 * 1024, 0xff))
  const head = payload.subarray(0, 200)
  const body = payload.subarray(200, payload.length - 100)
  const answer = await new Promise<{ status: number, code: string }>((resolve, reject) => {
    const req = httpRequest(`${url}/api/chat/chats/${chatId}/attachments`, {
      method: 'POST',
      headers: { ...buyer.headers, ...headers, 'transfer-encoding': 'chunked' }
    }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).error.code })
        req.destroy()
      })
    })
    req.on('error', (error) => { if (!req.destroyed) reject(error) })
    req.write(head)
    req.write(body)
    // The body is never ended: only an answer given before the end resolves this.
  })
  t.same(answer, { status: 413, code: 'payload_too_large' })
})

// Photo attachments on ATTACHMENT_STORAGE=s3, against a real S3-compatible server (s3rver) started by the test: upload, send, serve, sweep.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import t from 'tap'
import { S3Storage } from '../../src/attachments/s3-storage.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { hasGpsIfd, jpegWithGps, sendWithPhotos, upload } from '../fixtures/attachments.js'
import { chatApi } from '../fixtures/chat-api.js'
import { S3_TEST_BUCKET, startS3 } from '../fixtures/s3-server.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

const s3 = await startS3(t)

/** Object keys s3rver holds for the bucket (it keeps each object as files under <directory>/<bucket>/<key>). */
async function storedKeys (): Promise<string[]> {
  const root = join(s3.directory, S3_TEST_BUCKET)
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isFile() && e.name.endsWith('._S3rver_object'))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1).replace(/\._S3rver_object$/, ''))
}

t.test('the storage puts, gets and deletes objects in the bucket', async (t) => {
  const storage = new S3Storage({
    bucket: S3_TEST_BUCKET,
    endpoint: s3.env.S3_ENDPOINT as string,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true
  })
  t.teardown(async () => { await storage.close() })
  await storage.put('k1', Buffer.from('hello'), 'image/png')
  t.same(await storage.get('k1'), Buffer.from('hello'))
  t.equal(await storage.get('missing'), null, 'a missing key is null, not an error')
  await storage.delete(['k1'])
  t.equal(await storage.get('k1'), null)
})

t.test('photos uploaded with ATTACHMENT_STORAGE=s3 land in the bucket, are served stripped, and the sweep removes unused ones', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { ...s3.env, RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000' }))
  const buyer = await anonymousBuyer(app)
  const seller = registeredUser('s3-seller')
  const chatId = (await chatApi(app, buyer).openChat('s3-listing', seller.id)).body.id
  const uploaded = await upload(app, buyer, chatId, await jpegWithGps())
  t.equal(uploaded.status, 201)
  const id = uploaded.body.id as string
  t.same((await storedKeys()).filter((k) => k.includes(id)).sort(), [`attachments/${id}`, `attachments/${id}/thumb`], 'both objects are in the bucket')
  const database = await app.db.selectFrom('attachment_blobs').select('key').execute()
  t.same(database, [], 'and none in the database')

  const sent = await sendWithPhotos(app, buyer, chatId, [id], 'from S3')
  t.equal(sent.status, 201)
  const served = await app.inject({ url: sent.body.attachments[0].url })
  t.equal(served.statusCode, 200)
  t.equal(served.headers['content-type'], 'image/jpeg')
  const meta = await sharp(served.rawPayload).metadata()
  t.equal(meta.exif, undefined)
  t.notOk(hasGpsIfd(meta.exif))
  t.equal((await app.inject({ url: sent.body.attachments[0].thumb_url })).statusCode, 200)

  const unused = (await upload(app, buyer, chatId, await jpegWithGps())).body.id as string
  t.equal(await app.attachments.sweepUnused(Date.now() + 25 * 3600_000), 1)
  t.same((await storedKeys()).filter((k) => k.includes(unused)), [], 'the unused upload left the bucket')
  t.equal((await storedKeys()).filter((k) => k.includes(id)).length, 2, 'the sent one stayed')
})

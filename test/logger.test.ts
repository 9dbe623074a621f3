// Log redaction: no bearer token, cookie or token in a URL (however spelled) ever reaches a log line.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { buildTestApp, testConfig } from './fixtures/app.js'
import { redactUrl } from '../src/logger.js'
import { registeredUser, tamperedToken } from './fixtures/users.js'

t.test('authorization headers and token query parameters are redacted', async (t) => {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  const config = { ...testConfig(t), logLevel: 'trace' as const }
  const app = await buildTestApp(t, config, { logStream: stream })
  const user = registeredUser('u-logged')

  await app.inject({ url: '/api/chat/unread-count', headers: user.headers })
  await app.inject({ url: `/api/chat/ws/inbox?token=${user.token}&x=1`, headers: { cookie: 'session=secret-cookie' } })
  await app.inject({ url: `/api/chat/unread-count?access_token=${user.token}` })

  const log = lines.join('\n')
  t.ok(lines.length > 0, 'requests were logged')
  t.notOk(log.includes(user.token), 'the token appears nowhere in the logs')
  t.notOk(log.includes('secret-cookie'), 'cookies are not logged')
  t.match(log, /token=\[REDACTED\]&x=1/, 'the URL is kept, minus the token')
  t.ok(lines.every((line) => JSON.parse(line).reqId !== undefined || !line.includes('"req"')), 'request lines carry the request id')
})

t.test('a token is redacted however the URL spells it, and whether or not it verifies', async (t) => {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  const config = { ...testConfig(t), logLevel: 'trace' as const }
  const app = await buildTestApp(t, config, { logStream: stream })
  const user = registeredUser('u-logged-encoded')
  const forged = tamperedToken(user, { sub: 'someone-else', exp: Math.floor(Date.now() / 1000) + 60 })

  const encodedKey = await app.inject({ url: `/api/chat/ws/inbox?%74oken=${user.token}` })
  t.equal(encodedKey.statusCode, 426, 'the percent-encoded key authenticates (only the upgrade is missing)')
  await app.inject({ url: `/api/chat/ws/inbox?%74%4F%6B%65%6E=${user.token}&after=1` })
  await app.inject({ url: `/api/chat/ws/inbox?token=${user.token.replace(/\./g, '%2E')}` })
  const refused = await app.inject({ url: `/api/chat/ws/inbox?t=${forged.token}` })
  t.equal(refused.statusCode, 401)
  await app.inject({ url: `/api/chat/ws/inbox?%74oken=${forged.token}` })
  await app.inject({ url: `/api/chat/ws/${forged.token}` })
  await app.inject({ url: `/api/chat/ws/inbox?${user.token}` })

  const log = lines.join('\n')
  const [, payload, signature] = user.token.split('.')
  const [, forgedPayload] = forged.token.split('.')
  for (const [what, secret] of [['payload', payload], ['signature', signature], ['forged payload', forgedPayload]] as const) {
    t.notOk(log.includes(String(secret)), `no ${what} of a token in the logs`)
  }
  t.match(log, /\?%74oken=\[REDACTED\]"/, 'the URL is kept, minus the token')
  t.match(log, /\?%74%4F%6B%65%6E=\[REDACTED\]&after=1"/)
  t.match(log, /\/api\/chat\/ws\/\[REDACTED\]/)
})

t.test('redactUrl leaves ordinary URLs alone', async (t) => {
  for (const url of ['/api/chat/chats?listing_id=1.2.3&host=shop.example.com', '/static/chat.js?v=1.10.0', '/api/chat/chats/%E0%A4%A', '/?a&b=&=c']) {
    t.equal(redactUrl(url), url)
  }
  t.equal(redactUrl('/x?Access_Token=abc&b=2'), '/x?Access_Token=[REDACTED]&b=2')
})

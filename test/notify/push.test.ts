// Tests Web Push: the public key, subscribing within the SSRF rules and the per-person limit, and delivery to a loopback push service that checks VAPID and decrypts.
import t from 'tap'
import webpush from 'web-push'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { pushReceiver } from '../fixtures/push-receiver.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { checkPushEndpoint, isPublicAddress } from '../../src/notify/endpoint-check.js'

const keys = webpush.generateVAPIDKeys()
const pushEnv = (env: Record<string, string> = {}): Record<string, string> => ({
  WEB_PUSH_PUBLIC_KEY: keys.publicKey,
  WEB_PUSH_PRIVATE_KEY: keys.privateKey,
  WEB_PUSH_SUBJECT: 'mailto:ops@example.com',
  NOTIFY_DELAY_SECONDS: '0',
  NOTIFY_POLL_INTERVAL_MS: '20',
  ...env
})
const validKeys = { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: Buffer.alloc(16, 1).toString('base64url') }

t.test('the public key is served when VAPID keys are set, and 404 push_not_configured otherwise', async (t) => {
  const off = await buildTestApp(t)
  const reply = await off.inject({ url: '/api/chat/push/public-key' })
  t.equal(reply.statusCode, 404)
  t.equal(reply.json().error.code, 'push_not_configured')
  const user = registeredUser('u-off')
  const subscribe = await off.inject({ method: 'POST', url: '/api/chat/push/subscriptions', headers: user.headers, payload: { endpoint: 'https://push.example.com/x', keys: validKeys } })
  t.equal(subscribe.json().error.code, 'push_not_configured')

  const on = await buildTestApp(t, testConfig(t, pushEnv()))
  t.same((await on.inject({ url: '/api/chat/push/public-key' })).json(), { public_key: keys.publicKey })
})

t.test('push endpoints must be https host names resolving to public addresses', async (t) => {
  const app = await buildTestApp(t, testConfig(t, pushEnv()))
  const user = registeredUser('u-ssrf')
  for (const endpoint of ['http://push.example.com/x', 'https://127.0.0.1/x', 'https://[::1]/x', 'https://10.0.0.1/x',
    'https://localhost/x', 'https://user:pw@push.example.com/x', 'https://push.example.com:8443/x', 'not a url']) {
    const reply = await app.inject({ method: 'POST', url: '/api/chat/push/subscriptions', headers: user.headers, payload: { endpoint, keys: validKeys } })
    t.equal(reply.statusCode, 400, endpoint)
    t.equal(reply.json().error.code, 'push_endpoint_refused', endpoint)
  }
  t.equal((await app.inject({ method: 'POST', url: '/api/chat/push/subscriptions', payload: { endpoint: 'https://x.example/', keys: validKeys } })).statusCode, 401, 'needs a token')
  for (const endpoint of ['https://push.example.com/a\\u0000b', 'https://push.example.com/\\ud800']) {
    const reply = await app.inject({ method: 'POST', url: '/api/chat/push/subscriptions', headers: { ...user.headers, 'content-type': 'application/json' }, payload: `{"endpoint":"${endpoint}","keys":${JSON.stringify(validKeys)}}` })
    t.equal(reply.json().error?.code, 'validation_failed', 'text the database cannot store is refused by the schema, before any DNS lookup or insert')
  }

  // DNS answers, checked one by one: any private answer refuses the name; the address checked is the one pinned.
  const resolveTo = (...addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1']) {
    await t.rejects(checkPushEndpoint('https://push.example.com/x', { allowInsecure: false, resolve: resolveTo('203.0.114.1', address) }), address)
    t.notOk(isPublicAddress(address), address)
  }
  const checked = await checkPushEndpoint('https://push.example.com/x', { allowInsecure: false, resolve: resolveTo('142.250.74.10') })
  t.equal(checked.address, '142.250.74.10')
  t.ok(isPublicAddress('2a00:1450:4001:80b::200a'))
})

t.test('201 then 200 for the same endpoint, at most 10 per person, DELETE removes', async (t) => {
  const app = await buildTestApp(t, testConfig(t, pushEnv({ WEB_PUSH_ALLOW_INSECURE_ENDPOINTS: 'true' })))
  const user = registeredUser('u-limit')
  const post = async (endpoint: string, who = user) => await app.inject({ method: 'POST', url: '/api/chat/push/subscriptions', headers: who.headers, payload: { endpoint, keys: validKeys } })
  t.equal((await post('http://127.0.0.1:9/p/0')).statusCode, 201)
  t.equal((await post('http://127.0.0.1:9/p/0')).statusCode, 200, 'already known')
  for (let i = 1; i < 10; i++) t.equal((await post(`http://127.0.0.1:9/p/${i}`)).statusCode, 201)
  const eleventh = await post('http://127.0.0.1:9/p/10')
  t.equal(eleventh.statusCode, 409)
  t.equal(eleventh.json().error.code, 'too_many_push_subscriptions')
  t.equal((await post('http://127.0.0.1:9/p/10', registeredUser('someone-else'))).statusCode, 201, 'the limit is per person')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/chat/push/subscriptions', headers: user.headers, payload: { endpoint: 'http://127.0.0.1:9/p/0' } })).statusCode, 204)
  t.equal((await post('http://127.0.0.1:9/p/10')).statusCode, 201, 'room again after a DELETE')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/chat/push/subscriptions', headers: user.headers, payload: { endpoint: 'http://127.0.0.1:9/nothing' } })).statusCode, 204, 'idempotent')
})

t.test('a due message.unread is pushed, encrypted, to every subscription of the recipient; 410 removes one', async (t) => {
  const receiver = await pushReceiver(t, keys.publicKey, (path) => path === '/push/gone' ? 410 : 201)
  const app = await buildTestApp(t, testConfig(t, pushEnv({ WEB_PUSH_ALLOW_INSECURE_ENDPOINTS: 'true' })))
  const seller = registeredUser('seller-push')
  for (const path of ['/push/laptop', '/push/gone']) {
    const reply = await app.inject({ method: 'POST', url: '/api/chat/push/subscriptions', headers: seller.headers, payload: receiver.subscription(path) })
    t.equal(reply.statusCode, 201)
  }
  const buyer = await anonymousBuyer(app)
  const api = chatApi(app, buyer)
  const chat = (await api.openChat('bike-7', seller.id)).body
  // Flagged by the contact filter (CONTACT_FILTER=flag by default, for guests): the flag goes to webhooks, never to a browser.
  await api.send(chat.id, 'Is the bike still for sale? Call +1 415 555 0134. '.repeat(5))

  await receiver.waitFor(() => receiver.received.length === 2)
  for (const push of receiver.received) {
    t.same(push.problems, [], `${push.path}: VAPID, aes128gcm, decrypts`)
    t.match(push.payload, { type: 'message.unread', chat_id: chat.id, listing_id: 'bike-7', role: 'seller', unread_count: 1 })
    t.same(Object.keys(push.payload).sort(), ['chat_id', 'listing_id', 'preview', 'role', 'type', 'unread_count'],
      'nothing else reaches the browser (no sender, no contact-filter flags)')
    t.ok(push.payload.preview.length <= 120 && push.payload.preview.startsWith('Is the bike still'), 'a short preview')
  }
  await app.notifications.runOnce()
  const left = await app.db.selectFrom('push_subscriptions').select('endpoint').execute()
  t.same(left.map((r) => new URL(r.endpoint).pathname), ['/push/laptop'], 'the 410 subscription is gone')
})

// Tests unread notifications over Standard Webhooks against a real loopback receiver: format, signatures, folding, retries, 410, dead letters, re-drive, restart and two instances.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Config } from '../../src/config.js'
import { buildTestApp, listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { newWebhookSecret, webhookReceiver, type ReceivedWebhook } from '../fixtures/webhook-receiver.js'
import { connect } from '../fixtures/ws-client.js'

interface Teardown { teardown: (fn: () => unknown) => void }

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789'

function notifyEnv (url: string, secret: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NOTIFY_WEBHOOK_URL: url,
    NOTIFY_WEBHOOK_SECRET: secret,
    NOTIFY_DELAY_SECONDS: '0',
    NOTIFY_POLL_INTERVAL_MS: '20',
    NOTIFY_WEBHOOK_RETRY_BASE_SECONDS: '0',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
    ADMIN_TOKEN, LOG_LEVEL: process.env.NOTIFY_TEST_LOG ?? 'silent',
    ...env
  }
}

const ofType = (attempts: ReceivedWebhook[], type: string, chatId?: string): ReceivedWebhook[] =>
  attempts.filter((a) => a.body.type === type && (chatId === undefined || a.body.data.chat_id === chatId))

async function buyerAsks (app: Parameters<typeof anonymousBuyer>[0], sellerId: string, listing: string, text: string) {
  const buyer = await anonymousBuyer(app)
  const api = chatApi(app, buyer)
  const chat = (await api.openChat(listing, sellerId)).body
  const sent = await api.send(chat.id, text)
  return { buyer, api, chat, message: sent.body }
}

t.test('an unread message raises a signed message.unread (and chat.created), retried with the same webhook-id until accepted', async (t) => {
  const secret = newWebhookSecret()
  // The first two attempts of every event fail: the service must retry each with the same id and bytes.
  const seen = new Map<string, number>()
  const receiver = await webhookReceiver(t, secret, (attempt) => {
    const n = (seen.get(attempt.id) ?? 0) + 1
    seen.set(attempt.id, n)
    return n <= 2 ? 500 : 204
  })
  const app = await buildTestApp(t, testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_WEBHOOK_RETRY_BASE_SECONDS: '1' })))
  const seller = registeredUser('seller-bike')
  const { buyer, chat, message } = await buyerAsks(app, seller.id, 'bike-1', 'Is the bike still for sale?')

  const t0 = Date.now()
  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread').length === 1 && ofType(receiver.delivered(), 'chat.created').length === 1)
  t.comment(receiver.attempts.map((a) => `${a.body.type} ${a.status} ${a.at - t0}`).join('; '))
  // Passes never overlap: this one starts after the pass that got the 204s has written them back.
  await app.notifications.runOnce()
  t.same(receiver.rejected, [], 'every attempt verified with standardwebhooks')
  const unread = ofType(receiver.attempts, 'message.unread')
  t.equal(unread.length, 3, 'two failures, then accepted')
  t.equal(new Set(unread.map((a) => a.id)).size, 1, 'the same webhook-id on every attempt')
  t.same(new Set(unread.map((a) => JSON.stringify(a.body))).size, 1, 'the same body on every attempt')
  const body = unread[0]?.body
  t.match(body, {
    type: 'message.unread',
    timestamp: String,
    data: {
      chat_id: chat.id,
      listing_id: 'bike-1',
      seller_id: seller.id,
      buyer_id: buyer.id,
      buyer_is_registered: false,
      recipient_id: seller.id,
      recipient_role: 'seller',
      recipient_is_registered: true,
      unread_count: 1
    }
  })
  t.same(Object.keys(body?.data ?? {}).sort(), ['buyer_id', 'buyer_is_registered', 'chat_id', 'last_message', 'listing_id',
    'recipient_id', 'recipient_is_registered', 'recipient_role', 'seller_id', 'unread_count'])
  const asked = { seq: 1, sender_id: buyer.id, text: 'Is the bike still for sale?', flags: [], created_at: message.created_at }
  t.same(body?.data.last_message, asked, 'the message, with no flags when the contact filter found nothing')
  const created = ofType(receiver.delivered(), 'chat.created')[0]?.body.data
  t.match(created, { chat_id: chat.id, listing_id: 'bike-1', seller_id: seller.id, buyer_id: buyer.id, buyer_is_registered: false })
  t.same(created?.first_message, asked)
  t.match(unread[0]?.headers, { 'webhook-id': /^msg_/, 'webhook-timestamp': /^\d+$/, 'webhook-signature': /^v1,/ })

  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /chat_notifications_delivered_total\{channel="webhook"\} 2/)
  t.match(metrics.body, /chat_notification_attempts_failed_total\{channel="webhook"\} 4/)
})

t.test('a message the contact filter flagged (CONTACT_FILTER=flag, the default) carries flags: ["contact_info"] in message.unread and chat.created', async (t) => {
  const secret = newWebhookSecret()
  const receiver = await webhookReceiver(t, secret)
  const app = await buildTestApp(t, testConfig(t, notifyEnv(receiver.url, secret)))
  const seller = registeredUser('seller-flagged')
  const { buyer, chat, message } = await buyerAsks(app, seller.id, 'sofa-1', 'call me +1 415 555 0134')
  t.equal(message.message_text, 'call me +1 415 555 0134', 'flag mode stores and delivers the text as sent')
  t.notOk('flags' in message, 'the sender never sees flags')

  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', chat.id).length === 1 && ofType(receiver.delivered(), 'chat.created', chat.id).length === 1)
  t.same(receiver.rejected, [], 'every attempt verified with standardwebhooks')
  const flagged = { seq: 1, sender_id: buyer.id, text: 'call me +1 415 555 0134', flags: ['contact_info'], created_at: message.created_at }
  t.same(ofType(receiver.delivered(), 'message.unread', chat.id)[0]?.body.data.last_message, flagged)
  t.same(ofType(receiver.delivered(), 'chat.created', chat.id)[0]?.body.data.first_message, flagged)

  // The flag belongs to that message: the seller's clean answer, unread by the buyer, carries none.
  t.equal((await chatApi(app, seller).send(chat.id, 'Sure, after six')).status, 201)
  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', chat.id).length === 2)
  t.match(ofType(receiver.delivered(), 'message.unread', chat.id)[1]?.body.data, { recipient_role: 'buyer', last_message: { seq: 2, text: 'Sure, after six' } })
  t.same(ofType(receiver.delivered(), 'message.unread', chat.id)[1]?.body.data.last_message.flags, [])
})

t.test('messages within the quiet period fold into one notification with the latest count; reading or being online before it is due sends nothing', async (t) => {
  const secret = newWebhookSecret()
  const receiver = await webhookReceiver(t, secret)
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_DELAY_SECONDS: '1' })))
  const seller = registeredUser('seller-folding')
  const onlineSeller = registeredUser('seller-online')
  const inbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${onlineSeller.token}`)
  await inbox.barrier()

  // Two messages in one chat: one notification, carrying 2.
  const folded = await buyerAsks(app, seller.id, 'lamp-1', 'Hello?')
  await folded.api.send(folded.chat.id, 'Still there?')
  // Read by the seller before it is due.
  const read = await buyerAsks(app, seller.id, 'lamp-2', 'Does it work?')
  t.equal((await chatApi(app, seller).read(read.chat.id)).status, 200)
  // The recipient is online (an inbox socket) when it is due.
  const online = await buyerAsks(app, onlineSeller.id, 'lamp-3', 'Can I pick it up today?')
  // Asked after all the others, so due after them: once it is notified, the others have been decided.
  const sentinel = await buyerAsks(app, seller.id, 'lamp-4', 'Last one')

  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', sentinel.chat.id).length === 1)
  const unread = ofType(receiver.delivered(), 'message.unread')
  t.same(ofType(unread, 'message.unread', folded.chat.id).map((a) => a.body.data.unread_count), [2], 'one notification for the folded chat, with the latest count')
  t.equal(ofType(unread, 'message.unread', folded.chat.id)[0]?.body.data.last_message.text, 'Still there?')
  t.same(ofType(unread, 'message.unread', read.chat.id), [], 'nothing for a chat read before it was due')
  t.same(ofType(unread, 'message.unread', online.chat.id), [], 'nothing for a recipient online when it was due')
  t.equal(ofType(receiver.delivered(), 'chat.created').length, 4, 'chat.created once per chat')

  // After the notification, the next unread message in that chat is a new notification (one per quiet period).
  await folded.api.send(folded.chat.id, 'Third try')
  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', folded.chat.id).length === 2)
  t.equal(ofType(receiver.delivered(), 'message.unread', folded.chat.id)[1]?.body.data.unread_count, 3)
})

t.test('a 410 stops the retries of that event', async (t) => {
  const secret = newWebhookSecret()
  const receiver = await webhookReceiver(t, secret, (attempt) => attempt.body.type === 'chat.created' && attempt.body.data.listing_id === 'gone-1' ? 410 : 204)
  const app = await buildTestApp(t, testConfig(t, notifyEnv(receiver.url, secret)))
  const seller = registeredUser('seller-410')
  const first = await buyerAsks(app, seller.id, 'gone-1', 'one')
  await receiver.waitFor(() => ofType(receiver.attempts, 'chat.created', first.chat.id).length === 1)
  // Retries would be due at once (base 0 s); a later event's delivery means several passes went by.
  const later = await buyerAsks(app, seller.id, 'gone-2', 'two')
  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', later.chat.id).length === 1)
  t.equal(ofType(receiver.attempts, 'chat.created', first.chat.id).length, 1, 'attempted once')
  const dead = await app.inject({ url: '/admin/notifications/dead-letters', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.same(dead.json().dead_letters, [], 'a 410 is not a dead letter')
})

t.test('what fails for the whole retry window is dead-lettered, counted on /metrics, listed and re-driven by the admin endpoint', async (t) => {
  const secret = newWebhookSecret()
  let accept = false
  const receiver = await webhookReceiver(t, secret, () => accept ? 204 : 503)
  // A zero-hour window: the first failure is final.
  const app = await buildTestApp(t, testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_WEBHOOK_RETRY_HOURS: '0' })))
  const seller = registeredUser('seller-dead')
  const { chat } = await buyerAsks(app, seller.id, 'dead-1', 'anyone?')
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const listDead = async (): Promise<any[]> => (await app.inject({ url: '/admin/notifications/dead-letters', headers: admin })).json().dead_letters
  let dead: any[] = []
  while (dead.length < 2) {
    await receiver.waitFor(() => receiver.attempts.length >= 2)
    dead = await listDead()
    if (dead.length < 2) await app.notifications.runOnce()
  }
  t.same(dead.map((d) => d.event_type).sort(), ['chat.created', 'message.unread'])
  t.match(dead[0], { channel: 'webhook', attempts: 1, last_error: 'HTTP 503' })
  await app.notifications.runOnce()
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /chat_notification_dead_letters 2/)
  t.match(metrics, /chat_notifications_dead_lettered_total\{channel="webhook"\} 2/)

  t.equal((await app.inject({ url: '/admin/notifications/dead-letters' })).statusCode, 401, 'no token, no list')
  t.equal((await app.inject({ method: 'POST', url: '/admin/notifications/dead-letters/retry', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)

  accept = true
  const unreadId = dead.find((d) => d.event_type === 'message.unread').event_id
  const retry = await app.inject({ method: 'POST', url: '/admin/notifications/dead-letters/retry', headers: admin, payload: {} })
  t.same(retry.json(), { requeued: 2 })
  await receiver.waitFor(() => receiver.delivered().length === 2)
  t.equal(ofType(receiver.delivered(), 'message.unread', chat.id)[0]?.id, unreadId, 'the re-driven event keeps its webhook-id')
  t.same(await listDead(), [])
})

t.test('queued deliveries survive a restart', async (t) => {
  const secret = newWebhookSecret()
  let phase = 1
  const receiver = await webhookReceiver(t, secret, () => phase === 1 ? 503 : 204)
  let first: Config
  let dataDir: string | null = null
  if (postgresUrl === null) {
    dataDir = await mkdtemp(join(tmpdir(), 'notify-restart-'))
    t.teardown(async () => { await rm(dataDir as string, { recursive: true, force: true }) })
    first = testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_WEBHOOK_RETRY_BASE_SECONDS: '1' }))
    first.database = { kind: 'pglite', dataDir }
  } else {
    first = testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_WEBHOOK_RETRY_BASE_SECONDS: '1' }))
  }
  const app1 = await buildTestApp(t, first)
  const seller = registeredUser('seller-restart')
  const { chat } = await buyerAsks(app1, seller.id, 'restart-1', 'hello?')
  await receiver.waitFor(() => ofType(receiver.attempts, 'message.unread', chat.id).length >= 1)
  const id = ofType(receiver.attempts, 'message.unread', chat.id)[0]?.id
  await app1.close()

  phase = 2
  const app2 = await buildTestApp(t, { ...sameDatabase(first, notifyEnv(receiver.url, secret, { NOTIFY_WEBHOOK_RETRY_BASE_SECONDS: '1' })), database: first.database })
  t.ok(app2)
  await receiver.waitFor(() => ofType(receiver.delivered(), 'message.unread', chat.id).length === 1)
  t.equal(ofType(receiver.delivered(), 'message.unread', chat.id)[0]?.id, id, 'the restarted service delivers the same event')
})

t.test('two instances share the work without sending anything twice', { skip: postgresUrl === null ? 'needs DATABASE_URL (two apps cannot share an in-memory PGlite)' : false }, async (t) => {
  const secret = newWebhookSecret()
  const receiver = await webhookReceiver(t, secret)
  const config = testConfig(t, notifyEnv(receiver.url, secret, { NOTIFY_POLL_INTERVAL_MS: '10' }))
  const a = await buildTestApp(t, config)
  const b = await buildTestApp(t as Teardown & typeof t, sameDatabase(config, notifyEnv(receiver.url, secret, { NOTIFY_POLL_INTERVAL_MS: '10' })))
  const seller = registeredUser('seller-two')
  const chats: string[] = []
  for (let i = 0; i < 30; i++) chats.push((await buyerAsks(i % 2 === 0 ? a : b, seller.id, `two-${i}`, `question ${i}`)).chat.id)
  await receiver.waitFor(() => receiver.attempts.length >= 60)
  // Let any duplicate in flight arrive: one more full pass on each instance.
  await a.notifications.runOnce()
  await b.notifications.runOnce()
  t.equal(receiver.attempts.length, 60, 'exactly one chat.created and one message.unread per chat')
  t.equal(new Set(receiver.attempts.map((r) => r.id)).size, 60, 'no webhook-id twice')
  for (const chatId of chats) t.equal(ofType(receiver.attempts, 'message.unread', chatId).length, 1)
})

t.test('a report and a spam hold reach the marketplace as signed chat.reported / spam.suspected webhooks', async (t) => {
  const secret = newWebhookSecret()
  const receiver = await webhookReceiver(t, secret, () => 204)
  const app = await buildTestApp(t, testConfig(t, notifyEnv(receiver.url, secret, { SPAM_SAME_TEXT_CHATS: '2' })))
  const seller = registeredUser('seller-reported')
  const { buyer, chat } = await buyerAsks(app, seller.id, 'lamp-1', 'Pay me outside the site')
  const report = await chatApi(app, seller).report(chat.id, { reason: 'scam', seq: 1, comment: 'asks for a prepayment' })
  t.equal(report.status, 201)

  // The same buyer pastes the same text into a second seller's chat, then a third: the third is held.
  const api = chatApi(app, buyer)
  const second = (await api.openChat('lamp-2', 'seller-two')).body
  t.equal((await api.send(second.id, 'pay me OUTSIDE the site!')).status, 201)
  const third = (await api.openChat('lamp-3', 'seller-three')).body
  t.equal((await api.send(third.id, 'Pay me outside the site')).status, 429)

  await receiver.waitFor(() => ofType(receiver.delivered(), 'chat.reported').length === 1 && ofType(receiver.delivered(), 'spam.suspected').length === 1)
  t.same(receiver.rejected, [], 'every attempt verified with standardwebhooks')
  t.match(ofType(receiver.delivered(), 'chat.reported')[0]?.body.data, {
    report_id: report.body.id,
    chat_id: chat.id,
    reason: 'scam',
    seq: 1,
    comment: 'asks for a prepayment',
    reporter_id: seller.id,
    reporter_is_registered: true,
    reported_id: buyer.id,
    reported_is_registered: false
  })
  t.match(ofType(receiver.delivered(), 'spam.suspected')[0]?.body.data, { chat_id: third.id, sender_id: buyer.id, sender_is_registered: false })
})

// Tests reports and moderation: reports per reporter, moderator-only routes (404 to anyone else), logged reads, resolving, bans on REST and sockets, across two instances.
import t from 'tap'
import type { App } from '../../src/app.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import type { TapTest } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl } from '../fixtures/redis.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { connect, refusal } from '../fixtures/ws-client.js'
import type { ChatReportedEvent } from '../../src/safety/safety-events.js'
import { CLOSE_BANNED } from '../../src/protocol/limits.js'

const moderator = registeredUser('mod-1', { roles: ['chat_moderator', 'other'] })
const asModerator = async (app: App, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  await app.inject({ method, url: `/api/chat/moderation${url}`, headers: moderator.headers, ...(payload === undefined ? {} : { payload }) })

t.test('reports: one open report per reporter per chat, the port hears each, moderators list and resolve them', async (t) => {
  const { app } = await listenTestApp(t)
  const reported: ChatReportedEvent[] = []
  app.safetyEvents = { chatReported: (event) => { reported.push(event) }, spamSuspected: () => {} }
  const guest = await anonymousBuyer(app)
  const seller = registeredUser('rep-seller')
  const chatId = (await chatApi(app, guest).openChat('L1', seller.id)).body.id
  await chatApi(app, guest).send(chatId, 'pay me outside')
  const first = await chatApi(app, seller).report(chatId, { reason: 'spam' })
  t.equal(first.status, 201)
  const again = await chatApi(app, seller).report(chatId, { reason: 'scam', seq: 1, comment: 'asks for a prepayment' })
  t.equal(again.body.id, first.body.id, 'a repeat updates the open report')
  t.equal((await chatApi(app, seller).report(chatId, { reason: 'nonsense' })).status, 400)
  t.equal((await chatApi(app, seller).report(chatId, { reason: 'spam', seq: 9 })).status, 400, 'seq must name a message')
  t.equal((await chatApi(app, registeredUser('outsider')).report(chatId, { reason: 'spam' })).status, 404)
  t.equal(reported.length, 2)
  t.match(reported[1], { report_id: first.body.id, chat_id: chatId, reason: 'scam', reporter: { userId: seller.id }, reported: { userId: guest.id, registered: false } })

  const list = await asModerator(app, 'GET', '/reports?status=open')
  t.equal(list.statusCode, 200)
  t.match(list.json().reports, [{ id: first.body.id, reason: 'scam', seq: 1, comment: 'asks for a prepayment', reported: { user_id: guest.id, registered: false } }])
  t.equal((await asModerator(app, 'GET', `/chats/${chatId}`)).json().id, chatId)
  t.equal((await asModerator(app, 'GET', `/chats/${chatId}/messages`)).json().messages[0].message_text, 'pay me outside')
  const reads = await app.db.selectFrom('moderation_reads').select(['moderator_id', 'what']).where('chat_id', '=', chatId).orderBy('id').execute()
  t.same(reads, [{ moderator_id: 'mod-1', what: 'chat' }, { moderator_id: 'mod-1', what: 'messages' }], 'each read is logged with the moderator')

  const dismissed = await asModerator(app, 'POST', `/reports/${first.body.id}/resolve`, { action: 'dismiss' })
  t.match(dismissed.json(), { status: 'resolved', resolution: 'dismiss', resolved_by: 'mod-1' })
  t.same((await asModerator(app, 'GET', '/reports')).json().reports, [])
  t.equal((await asModerator(app, 'GET', '/reports?status=resolved')).json().reports.length, 1)
  t.not((await chatApi(app, seller).report(chatId, { reason: 'abuse' })).body.id, first.body.id, 'after resolution a new report opens')
})

t.test('paging reports with a cursor', async (t) => {
  const { app } = await listenTestApp(t)
  const seller = registeredUser('page-seller')
  for (let i = 0; i < 5; i++) {
    const guest = await anonymousBuyer(app)
    const chatId = (await chatApi(app, guest).openChat('L1', seller.id)).body.id
    await chatApi(app, guest).report(chatId, { reason: 'other' })
  }
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { reports: Array<{ id: string }>, next_cursor: string | null } = (await asModerator(app, 'GET', `/reports?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)).json()
    seen.push(...page.reports.map((r: { id: string }) => r.id))
    cursor = page.next_cursor
  } while (cursor !== null)
  t.equal(new Set(seen).size, 5)
  t.equal((await asModerator(app, 'GET', '/reports?cursor=bogus')).statusCode, 400)
})

t.test('moderation routes do not exist for anyone else', async (t) => {
  const { app } = await listenTestApp(t)
  const guest = await anonymousBuyer(app)
  const chatId = (await chatApi(app, guest).openChat('L1', 's')).body.id
  const unknown = await app.inject({ url: '/api/chat/moderation/nothing-here' })
  for (const headers of [{}, registeredUser('plain').headers, guest.headers, { authorization: 'Bearer junk' }, registeredUser('wrong-role', { roles: ['admin'] }).headers]) {
    for (const [method, url] of [['GET', '/reports'], ['GET', `/chats/${chatId}`], ['GET', `/chats/${chatId}/messages`], ['POST', '/bans'], ['DELETE', '/bans/guest/x'], ['POST', `/reports/${chatId}/resolve`]] as const) {
      const response = await app.inject({ method, url: `/api/chat/moderation${url}`, headers })
      t.equal(response.statusCode, 404, `${method} ${url}`)
      t.equal(response.json().error.code, unknown.json().error.code)
    }
  }
})

async function banScenario (t: TapTest, a: { app: App, wsUrl: string }, b: { app: App, wsUrl: string }): Promise<void> {
  const guest = await anonymousBuyer(a.app)
  const seller = registeredUser(`ban-seller-${Math.random().toString(36).slice(2)}`)
  const chatId = (await chatApi(a.app, guest).openChat('L1', seller.id)).body.id
  await chatApi(a.app, guest).send(chatId, 'spam spam')
  const reportId = (await chatApi(b.app, seller).report(chatId, { reason: 'spam' })).body.id
  const onA = await connect(t, `${a.wsUrl}/api/chat/ws/${chatId}?token=${guest.token}`)
  const onB = await connect(t, `${b.wsUrl}/api/chat/ws/inbox?token=${guest.token}`)
  await onA.next('history')
  await onB.barrier()
  const sellerSocket = await connect(t, `${a.wsUrl}/api/chat/ws/${chatId}?token=${seller.token}`)
  await sellerSocket.next('history')

  const resolved = await asModerator(b.app, 'POST', `/reports/${reportId}/resolve`, { action: 'ban' })
  t.match(resolved.json(), { resolution: 'ban' })
  t.equal((await onA.closed).code, CLOSE_BANNED, 'the socket on the other instance closes at once')
  t.equal((await onB.closed).code, CLOSE_BANNED)
  for (const app of [a.app, b.app]) {
    const refused = await chatApi(app, guest).send(chatId, 'still here?')
    t.equal(refused.status, 403)
    t.equal(refused.error?.code, 'banned')
    t.equal((await chatApi(app, guest).history(chatId)).error?.code, 'banned')
  }
  const upgrade = await refusal(`${a.wsUrl}/api/chat/ws/inbox?token=${guest.token}`)
  t.equal(upgrade.status, 403)
  t.equal(upgrade.body?.error?.code, 'banned')
  sellerSocket.send({ type: 'ping' })
  await sellerSocket.next('pong')
  t.equal(sellerSocket.ws.readyState, sellerSocket.ws.OPEN, 'the other person stays connected')

  t.equal((await asModerator(a.app, 'DELETE', `/bans/guest/${guest.id}`)).statusCode, 204)
  t.equal((await asModerator(a.app, 'DELETE', `/bans/guest/${guest.id}`)).statusCode, 404)
  t.equal((await chatApi(b.app, guest).send(chatId, 'sorry')).status, 201, 'lifted everywhere')
  t.equal((await asModerator(a.app, 'POST', '/bans', { user_id: seller.id, registered: true, reason: 'scam shop' })).statusCode, 204)
  t.equal((await chatApi(b.app, seller).myChats()).error?.code, 'banned')
  t.equal((await sellerSocket.closed).code, CLOSE_BANNED)
}

t.test('bans on one instance', async (t) => {
  const instance = await listenTestApp(t)
  await banScenario(t, instance, instance)
})

const skip = redisUrl === null
  ? 'REDIS_URL is not set: bans across instances need a Redis'
  : postgresUrl === null ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database' : false

t.test('bans across two instances', { skip }, async (t) => {
  const env = redisEnv(t)
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  await banScenario(t, a, b)
})

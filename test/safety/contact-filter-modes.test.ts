// Tests CONTACT_FILTER end to end: flag stores as sent with a flag moderators see, mask stores and delivers "•••", block refuses alone; scope guests|all.
import t from 'tap'
import type { App } from '../../src/app.js'
import { listenTestApp, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser, type TestUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'
import type { TapTest } from '../fixtures/protocol-suite.js'

const moderator = registeredUser('mod-1', { roles: ['chat_moderator'] })

async function setup (t: TapTest, env: Record<string, string>): Promise<{ app: App, wsUrl: string, guest: TestUser, seller: TestUser, chatId: string }> {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, env))
  const guest = await anonymousBuyer(app)
  const seller = registeredUser('filter-seller')
  const chatId = (await chatApi(app, guest).openChat('L1', seller.id)).body.id
  return { app, wsUrl, guest, seller, chatId }
}

const moderated = async (app: App, chatId: string) =>
  (await app.inject({ url: `/api/chat/moderation/chats/${chatId}/messages`, headers: moderator.headers })).json().messages as Array<{ message_text: string, flags: string[] }>

t.test('flag (the default): stored as sent, flagged for moderators only; registered senders are not checked', async (t) => {
  const { app, seller, guest, chatId } = await setup(t, {})
  const sent = await chatApi(app, guest).send(chatId, 'call me +7 999 123-45-67')
  t.equal(sent.status, 201)
  t.equal(sent.body.message_text, 'call me +7 999 123-45-67')
  t.notOk('flags' in sent.body, 'participants do not see flags')
  await chatApi(app, seller).send(chatId, 'or write to shop@example.com')
  t.same((await moderated(app, chatId)).map((m) => m.flags), [['contact_info'], []])
})

t.test('CONTACT_FILTER_SCOPE=all checks registered senders too', async (t) => {
  const { app, seller, chatId } = await setup(t, { CONTACT_FILTER_SCOPE: 'all' })
  await chatApi(app, seller).send(chatId, 'see t.me/my_shop')
  t.same((await moderated(app, chatId)).map((m) => m.flags), [['contact_info']])
})

t.test('mask: what is stored, delivered and acked has "•••" for each match', async (t) => {
  const { app, wsUrl, guest, seller, chatId } = await setup(t, { CONTACT_FILTER: 'mask' })
  const sellerSocket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${seller.token}`)
  await sellerSocket.next('history')
  const guestSocket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${guest.token}`)
  await guestSocket.next('history')
  guestSocket.send({ type: 'message', message_text: 'my whatsapp +380 67 123 4567, or mail a@b.co', client_message_id: 'm-1' })
  const ack = await guestSocket.next('ack')
  t.equal(ack.message.message_text, 'my whatsapp •••, or mail •••')
  t.equal((await sellerSocket.next('message')).message.message_text, 'my whatsapp •••, or mail •••')
  t.equal((await chatApi(app, seller).history(chatId)).body.messages[0]?.message_text, 'my whatsapp •••, or mail •••')
  t.same((await moderated(app, chatId))[0]?.flags, ['contact_info'])
})

t.test('block: 422 contact_info_blocked, nothing stored, and only the culprit of a batch fails', async (t) => {
  const { app, wsUrl, guest, seller, chatId } = await setup(t, { CONTACT_FILTER: 'block' })
  const refused = await chatApi(app, guest).send(chatId, 'pay at fake-delivery.top')
  t.equal(refused.status, 422)
  t.equal(refused.error?.code, 'contact_info_blocked')
  t.same((await chatApi(app, guest).history(chatId)).body.messages, [])
  // Sends from several people in one event-loop turn ride one batch; the refused one never joins it.
  const others = await Promise.all([1, 2, 3].map(async () => {
    const buyer = await anonymousBuyer(app)
    return { buyer, chatId: (await chatApi(app, buyer).openChat('L1', seller.id)).body.id }
  }))
  const socket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${guest.token}`)
  await socket.next('history')
  socket.send({ type: 'message', message_text: 'phone 8 (999) 123 45 67', client_message_id: 'b-1' })
  const results = await Promise.all(others.map(async (o) => (await chatApi(app, o.buyer).send(o.chatId, 'is it new?')).status))
  t.same(results, [201, 201, 201])
  t.equal((await socket.next('error')).code, 'contact_info_blocked')
  socket.send({ type: 'message', message_text: 'is it new?', client_message_id: 'b-2' })
  t.equal((await socket.next('ack')).message.seq, 1, 'the next clean message is the first stored')
})

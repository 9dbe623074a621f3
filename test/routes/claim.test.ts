// Claiming a guest's chats on login: moves, merges with renumbering, idempotency, refusals, races with sends and claims, and the sockets it closes.
import t from 'tap'
import type { App } from '../../src/app.js'
import { CLOSE_CHAT_CHANGED, CLOSE_IDENTITY_CLAIMED } from '../../src/protocol/limits.js'
import { buildTestApp, listenTestApp } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, refusal } from '../fixtures/ws-client.js'

let unique = 0
const name = (what: string): string => `${what}-${process.pid}-${++unique}`

async function claim (app: App, user: TestUser, guest: TestUser) {
  const response = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', headers: user.headers, payload: { anonymous_token: guest.token } })
  return { status: response.statusCode, body: response.json() }
}

t.test('a guest chat with no counterpart in the account moves as it is', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  const seller = registeredUser(name('seller'))
  const user = registeredUser(name('user'))
  const chat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
  await chatApi(app, guest).send(chat.id, 'hello', 'g-1')
  await chatApi(app, seller).send(chat.id, 'hi there')
  await chatApi(app, guest).send(chat.id, 'is it available?', 'g-2')

  const claimed = await claim(app, user, guest)
  t.equal(claimed.status, 200)
  t.match(claimed.body, { buyer_id: user.id, claimed: 1, merged: 0, merges: [] })
  t.equal(claimed.body.chats[0].id, chat.id, 'a moved chat keeps its id')
  t.equal(claimed.body.chats[0].buyer_is_registered, true)

  const history = (await chatApi(app, user).history(chat.id)).body.messages
  t.same(history.map((m) => [m.seq, m.sender_id, m.sender_is_registered, m.message_text]), [
    [1, user.id, true, 'hello'], [2, seller.id, true, 'hi there'], [3, user.id, true, 'is it available?']
  ], "the guest's messages are the user's now, seqs unchanged")
  const resent = await chatApi(app, user).send(chat.id, 'hello', 'g-1')
  t.equal(resent.status, 200, "the guest's client_message_id is the user's now: a resend finds the original")
  t.equal(resent.body.seq, 1)
  t.equal((await chatApi(app, seller).chat(chat.id)).body.buyer_id, user.id, 'the seller sees the account as the buyer')
  t.equal((await chatApi(app, user).myChats()).body.total, 1)

  for (const call of [chatApi(app, guest).myChats(), chatApi(app, guest).chat(chat.id), chatApi(app, guest).send(chat.id, 'late')]) {
    const refused = await call
    t.equal(refused.status, 401)
    t.equal(refused.error?.code, 'token_claimed', 'the guest token is refused everywhere')
  }
})

t.test('claiming again: 200 with nothing changed for the same user, 409 already_claimed for another', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  const seller = registeredUser(name('seller'))
  const user = registeredUser(name('user'))
  await chatApi(app, guest).openChat('l-1', seller.id)
  t.equal((await claim(app, user, guest)).body.claimed, 1)
  const again = await claim(app, user, guest)
  t.equal(again.status, 200)
  t.match(again.body, { buyer_id: user.id, claimed: 0, merged: 0 })
  const other = await claim(app, registeredUser(name('other')), guest)
  t.equal(other.status, 409)
  t.equal(other.body.error.code, 'already_claimed')
  t.equal((await chatApi(app, user).myChats()).body.total, 1)
})

t.test('a seller cannot claim a guest who wrote to their listing: 409, nothing changed', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  const seller = registeredUser(name('seller'))
  const chat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
  await chatApi(app, guest).openChat('l-2', registeredUser(name('other-seller')).id)
  const refused = await claim(app, seller, guest)
  t.equal(refused.status, 409)
  t.equal(refused.body.error.code, 'cannot_claim_own_listing_chat')
  t.equal((await chatApi(app, guest).chat(chat.id)).status, 200, 'the guest token still works')
  t.equal((await chatApi(app, guest).myChats()).body.total, 2, 'no chat moved')
  t.equal((await claim(app, registeredUser(name('user')), guest)).body.claimed, 2, 'and someone else can still claim it')
})

t.test('the claim needs an account token as Bearer and a valid guest token in the body', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  const user = registeredUser(name('user'))
  const asGuest = await claim(app, guest, guest)
  t.equal(asGuest.status, 403)
  const bogus = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', headers: user.headers, payload: { anonymous_token: 'not-a-token' } })
  t.equal(bogus.statusCode, 401)
  const registeredBody = await claim(app, user, registeredUser(name('someone')))
  t.equal(registeredBody.status, 400)
  const noBearer = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', payload: { anonymous_token: guest.token } })
  t.equal(noBearer.statusCode, 401)
})

for (const order of ['guest first', 'account first'] as const) {
  t.test(`a guest chat merges into the account's chat about the same listing (${order})`, async (t) => {
    const app = await buildTestApp(t)
    const guest = await anonymousBuyer(app)
    const seller = registeredUser(name('seller'))
    const user = registeredUser(name('user'))
    const guestChat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
    const userChat = (await chatApi(app, user).openChat('l-1', seller.id)).body
    const [first, second] = order === 'guest first' ? [guest, user] : [user, guest]
    const chatOf = (who: TestUser): string => who === guest ? guestChat.id : userChat.id
    // Times interleave: first, second, seller in the first's chat, first again; both use client_message_id "same".
    await chatApi(app, first).send(chatOf(first), `${order}: a`, 'same')
    await chatApi(app, second).send(chatOf(second), `${order}: b`, 'same')
    await chatApi(app, seller).send(chatOf(first), `${order}: c`)
    await chatApi(app, first).send(chatOf(first), `${order}: d`, 'other')
    // The seller has read the first message of each chat, and nothing more.
    await chatApi(app, seller).read(chatOf(first), 1)
    await chatApi(app, seller).read(chatOf(second), 1)

    const claimed = await claim(app, user, guest)
    t.equal(claimed.status, 200)
    t.match(claimed.body, { claimed: 1, merged: 1, merges: [{ from_chat_id: guestChat.id, to_chat_id: userChat.id }] })
    t.equal(claimed.body.chats[0].id, userChat.id)

    const history = (await chatApi(app, user).history(userChat.id)).body.messages
    t.same(history.map((m) => [m.seq, m.message_text]), [[1, `${order}: a`], [2, `${order}: b`], [3, `${order}: c`], [4, `${order}: d`]],
      'ordered by time and numbered 1..n without a gap')
    t.ok(history.filter((m) => m.sender_id !== seller.id).every((m) => m.sender_id === user.id && m.sender_is_registered), 'every buyer message is the account\'s')
    t.equal(history.filter((m) => m.client_message_id === 'same').length, 1, 'a colliding client_message_id is kept once, never a constraint failure')
    t.equal((await chatApi(app, user).send(userChat.id, 'again', 'other')).status, 200, 'a moved client_message_id still finds its original')

    const sellerView = (await chatApi(app, seller).chat(userChat.id)).body
    t.equal(sellerView.last_seq, 4)
    // The seller had read up to their own reply "c" in the first chat (sending reads), and only "a"/"b" in the other.
    t.equal(sellerView.my_last_read_seq, 3, "the seller's pointer is the highest message they had read in either chat, renumbered")
    t.equal(sellerView.last_message, `${order}: d`)
    t.equal((await chatApi(app, seller).chat(guestChat.id)).error?.code, 'chat_not_found', 'the guest chat no longer exists')
    t.equal((await chatApi(app, user).chat(guestChat.id)).status, 404)
    t.equal((await chatApi(app, seller).myChats()).body.total, 1)
    const next = await chatApi(app, seller).send(userChat.id, 'after the merge')
    t.equal(next.body.seq, 5, 'sends continue after the last renumbered seq')
  })
}

t.test('client_message_id is per sender kind: a guest uuid equal to a registered id is someone else', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  // The seller's marketplace id happens to be the guest's uuid.
  const twin = registeredUser(guest.id)
  const chat = (await chatApi(app, guest).openChat('l-1', twin.id)).body
  const fromGuest = await chatApi(app, guest).send(chat.id, 'from the guest', 'c-1')
  const fromTwin = await chatApi(app, twin).send(chat.id, 'from the seller', 'c-1')
  t.equal(fromGuest.status, 201)
  t.equal(fromTwin.status, 201, 'stored, not taken for a retry of the guest\'s message')
  t.equal(fromTwin.body.message_text, 'from the seller')
  t.equal((await chatApi(app, twin).send(chat.id, 'x', 'c-1')).body.message_text, 'from the seller', 'each retry finds its own sender\'s original')
})

t.test('two accounts claiming one guest at once: exactly one wins', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  const seller = registeredUser(name('seller'))
  await chatApi(app, guest).openChat('l-1', seller.id)
  await chatApi(app, guest).openChat('l-2', seller.id)
  const users = [registeredUser(name('a')), registeredUser(name('b'))]
  const results = await Promise.all(users.map(async (user) => await claim(app, user, guest)))
  t.same(results.map((r) => r.status).sort(), [200, 409])
  const winner = users[results.findIndex((r) => r.status === 200)] as TestUser
  const loser = users[results.findIndex((r) => r.status === 409)] as TestUser
  t.equal(results.find((r) => r.status === 200)?.body.claimed, 2)
  t.equal((await chatApi(app, winner).myChats()).body.total, 2)
  t.equal((await chatApi(app, loser).myChats()).body.total, 0)
})

for (const kind of ['moved', 'merged'] as const) {
  t.test(`sends racing a claim (${kind}): every acked message is in the final chat exactly once`, async (t) => {
    const app = await buildTestApp(t)
    const guest = await anonymousBuyer(app)
    const seller = registeredUser(name('seller'))
    const user = registeredUser(name('user'))
    const guestChat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
    const finalChat = kind === 'merged' ? (await chatApi(app, user).openChat('l-1', seller.id)).body.id : guestChat.id
    if (kind === 'merged') await chatApi(app, user).send(finalChat, 'before', 'u-0')
    const sends: Array<Promise<{ status: number, id?: string }>> = []
    const send = (who: TestUser, i: number): void => {
      sends.push(chatApi(app, who).send(guestChat.id, `${who === guest ? 'g' : 's'}-${i}`, `${who === guest ? 'g' : 's'}-${i}`)
        .then((r) => ({ status: r.status, id: r.body?.id })))
    }
    for (let i = 0; i < 5; i++) { send(guest, i); send(seller, i) }
    await Promise.all(sends)
    for (let i = 5; i < 15; i++) { send(guest, i); send(seller, i) }
    const claimed = claim(app, user, guest)
    for (let i = 15; i < 30; i++) { send(guest, i); send(seller, i) }
    t.equal((await claimed).status, 200)
    const results = await Promise.all(sends)
    const acked = results.filter((r) => r.status === 200 || r.status === 201).map((r) => r.id as string)
    t.ok(results.every((r) => [200, 201, 401, 404].includes(r.status)), 'every send is acked or refused, never a 5xx')
    const history = (await chatApi(app, user).history(finalChat, '?limit=100')).body.messages
    const ids = history.map((m) => m.id)
    t.equal(new Set(ids).size, ids.length, 'no message twice')
    t.same(history.map((m) => m.seq), history.map((_, i) => i + 1), 'seqs 1..n without a gap')
    t.ok(acked.length >= 10, 'the messages sent before the claim were acked')
    t.ok(acked.every((id) => ids.includes(id)), `all ${acked.length} acked messages are in the final chat`)
    t.ok(history.every((m) => m.sender_is_registered), 'no guest message landed after the claim')
  })
}

t.test('sockets: the guest is closed with 4002, the seller hears chat_merged and chat_updated', async (t) => {
  const { app, wsUrl } = await listenTestApp(t)
  const guest = await anonymousBuyer(app)
  const seller = registeredUser(name('seller'))
  const user = registeredUser(name('user'))
  const guestChat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
  const movedChat = (await chatApi(app, guest).openChat('l-2', seller.id)).body
  const userChat = (await chatApi(app, user).openChat('l-1', seller.id)).body
  await chatApi(app, guest).send(guestChat.id, 'hello', 'g-1')

  const guestSocket = await connect(t, `${wsUrl}/api/chat/ws/${guestChat.id}?token=${guest.token}`)
  await guestSocket.next('history')
  const sellerOnMerged = await connect(t, `${wsUrl}/api/chat/ws/${guestChat.id}?token=${seller.token}`)
  await sellerOnMerged.next('history')
  const sellerOnMoved = await connect(t, `${wsUrl}/api/chat/ws/${movedChat.id}?token=${seller.token}`)
  await sellerOnMoved.next('history')
  const sellerInbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`)
  await sellerInbox.barrier()

  t.equal((await claim(app, user, guest)).status, 200)
  t.equal((await guestSocket.closed).code, CLOSE_IDENTITY_CLAIMED, "the guest's socket is closed with 4002")
  t.match(await sellerOnMerged.next('chat_merged'), { from_chat_id: guestChat.id, to_chat_id: userChat.id })
  t.equal((await sellerOnMerged.closed).code, CLOSE_CHAT_CHANGED)
  const moved = await sellerOnMoved.next('chat_updated')
  t.match(moved.chat, { id: movedChat.id, buyer_id: user.id, role: 'seller' })
  t.equal((await sellerOnMoved.closed).code, CLOSE_CHAT_CHANGED, 'the moved chat reconnects through the access check')
  t.match(await sellerInbox.next('chat_merged'), { from_chat_id: guestChat.id, to_chat_id: userChat.id })
  t.match((await sellerInbox.next('chat_updated', (f) => f.chat.id === userChat.id)).chat, { buyer_id: user.id, last_seq: 1 })

  const again = await connect(t, `${wsUrl}/api/chat/ws/${movedChat.id}?token=${seller.token}`)
  t.equal((await again.next('history')).messages.length, 0, 'the seller reopens the moved chat')
  const refused = await refusal(`${wsUrl}/api/chat/ws/${movedChat.id}?token=${guest.token}`)
  t.equal(refused.status, 401)
  t.equal(refused.body?.error?.code ?? refused.body?.code, 'token_claimed', 'the guest cannot open a socket any more')
})

t.test('a guest opening a chat while being claimed: the chat is claimed too, or refused, never left behind', async (t) => {
  const app = await buildTestApp(t)
  const seller = registeredUser(name('seller'))
  for (let i = 0; i < 5; i++) {
    const guest = await anonymousBuyer(app)
    const user = registeredUser(name('user'))
    await chatApi(app, guest).openChat('l-0', seller.id)
    const [opened, claimed] = await Promise.all([chatApi(app, guest).openChat(`l-new-${i}`, seller.id), claim(app, user, guest)])
    t.equal(claimed.status, 200)
    t.ok(opened.status === 201 ? claimed.body.claimed === 2 : opened.error?.code === 'token_claimed', `round ${i}: ${opened.status}`)
    const left = await app.db.selectFrom('chats').select('id').where('buyer_id', '=', guest.id).execute()
    t.same(left, [], 'no chat of the guest is left unclaimed')
  }
})

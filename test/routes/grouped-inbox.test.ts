// The seller's inbox grouped by listing and the unread badge, across listings and buyers, through reads, hides and unhides.
import t from 'tap'
import type { ListingGroup } from '../../src/chat/schemas.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi, type ChatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' }))

/** The inbox as [listing, group unread, [[chat name, chat unread, label], ...]], in the order the API returns. */
function shape (groups: ListingGroup[], names: Map<string, string>) {
  return groups.map((g) => [g.listing_id, g.unread_count, g.chats.map((c) => [names.get(c.id), c.unread_count, c.buyer_label])])
}

t.test('grouped inbox and unread counts follow messages, reads, hides and unhides', async (t) => {
  const sellerUser = registeredUser('inbox-seller')
  const seller = chatApi(app, sellerUser)
  const a1User = await anonymousBuyer(app)
  const a1 = chatApi(app, a1User)
  const a2 = chatApi(app, await anonymousBuyer(app))
  const r1User = registeredUser('inbox-r1')
  const r1 = chatApi(app, r1User)

  t.same((await seller.grouped()).body, [], 'an empty inbox')
  t.same((await seller.unread()).body, { total: 0, chats: 0 })

  const open = async (buyer: ChatApi, listing: string): Promise<string> => (await buyer.openChat(listing, 'inbox-seller')).body.id
  const chats = {
    a1L1: await open(a1, 'L1'),
    a2L1: await open(a2, 'L1'),
    a1L2: await open(a1, 'L2'),
    r1L3: await open(r1, 'L3')
  }
  const names = new Map(Object.entries(chats).map(([name, id]) => [id, name]))
  const inbox = async () => {
    const response = await seller.grouped()
    t.equal(response.status, 200)
    return response.body
  }
  const sendAll = async (buyer: ChatApi, chatId: string, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) t.equal((await buyer.send(chatId, `message ${i}`)).status, 201)
  }

  // Oldest activity first: a1L1 (2 messages), r1L3 (1), a2L1 (3), a1L2 (1).
  await sendAll(a1, chats.a1L1, 2)
  await sendAll(r1, chats.r1L3, 1)
  await sendAll(a2, chats.a2L1, 3)
  await sendAll(a1, chats.a1L2, 1)

  let groups = await inbox()
  t.same(shape(groups, names), [
    ['L2', 1, [['a1L2', 1, 'Buyer 1']]],
    ['L1', 5, [['a2L1', 3, 'Buyer 2'], ['a1L1', 2, 'Buyer 1']]],
    ['L3', 1, [['r1L3', 1, null]]]
  ], 'groups and chats by latest activity; one label per buyer across listings')
  for (const group of groups) {
    t.equal(group.last_message_time, group.chats[0]?.last_message_time, `${group.listing_id}: the group's time is its latest chat's`)
    for (const chat of group.chats) t.match(chat, { role: 'seller', seller_id: 'inbox-seller', counterpart_id: chat.buyer_id, last_message: /^message \d$/ })
  }
  for (const chat of groups.flatMap((g) => g.chats)) {
    const one = await app.inject({ url: `/api/chat/chats/${chat.id}`, headers: { authorization: `Bearer ${sellerUser.token}` } })
    t.same(chat, one.json(), `${names.get(chat.id)}: the inbox's summary is the chat's own, timestamps to the millisecond`)
  }
  t.same((await seller.unread()).body, { total: 7, chats: 4 })
  t.same((await a1.unread()).body, { total: 0, chats: 0 }, "a buyer's own messages are never unread")

  // Replying reads the chat for the seller and moves it (and its listing) to the top.
  await seller.send(chats.a1L1, 'yes, available')
  groups = await inbox()
  t.same(shape(groups, names), [
    ['L1', 3, [['a1L1', 0, 'Buyer 1'], ['a2L1', 3, 'Buyer 2']]],
    ['L2', 1, [['a1L2', 1, 'Buyer 1']]],
    ['L3', 1, [['r1L3', 1, null]]]
  ])
  t.same((await seller.unread()).body, { total: 5, chats: 3 })
  t.same((await a1.unread()).body, { total: 1, chats: 1 }, 'the buyer has the reply to read')

  // Reading part, then all, of a chat; reading changes counts but not the order.
  await seller.read(chats.a2L1, 2)
  t.same(shape(await inbox(), names)[0], ['L1', 1, [['a1L1', 0, 'Buyer 1'], ['a2L1', 1, 'Buyer 2']]])
  t.same((await seller.unread()).body, { total: 3, chats: 3 })
  await seller.read(chats.a2L1)
  t.same((await seller.unread()).body, { total: 2, chats: 2 })
  await a1.read(chats.a1L1)
  t.same((await a1.unread()).body, { total: 0, chats: 0 })

  // Hiding takes the chat, its unread messages and an emptied group out of the seller's views.
  t.equal((await seller.hide(chats.r1L3)).status, 204)
  t.same(shape(await inbox(), names), [
    ['L1', 0, [['a1L1', 0, 'Buyer 1'], ['a2L1', 0, 'Buyer 2']]],
    ['L2', 1, [['a1L2', 1, 'Buyer 1']]]
  ])
  t.same((await seller.unread()).body, { total: 1, chats: 1 })
  t.notOk((await seller.myChats()).body.chats.some((c) => c.id === chats.r1L3), 'gone from my chats too')
  t.match((await r1.myChats()).body, { total: 1, chats: [{ id: chats.r1L3, unread_count: 0 }] }, 'the buyer keeps it')

  // A new message from the buyer brings it back, on top, with everything still unread.
  await r1.send(chats.r1L3, 'hello again?')
  t.same(shape(await inbox(), names), [
    ['L3', 2, [['r1L3', 2, null]]],
    ['L1', 0, [['a1L1', 0, 'Buyer 1'], ['a2L1', 0, 'Buyer 2']]],
    ['L2', 1, [['a1L2', 1, 'Buyer 1']]]
  ])
  t.same((await seller.unread()).body, { total: 3, chats: 2 })

  // The same works the other way round for a buyer.
  t.equal((await a1.hide(chats.a1L1)).status, 204)
  t.same((await a1.myChats()).body.chats.map((c) => names.get(c.id)), ['a1L2'])
  t.equal(shape(await inbox(), names).length, 3, "the buyer hiding changes nothing in the seller's inbox")
  await seller.send(chats.a1L1, 'are you still there?')
  t.same((await a1.myChats()).body.chats.map((c) => names.get(c.id)), ['a1L1', 'a1L2'])
  t.same((await a1.unread()).body, { total: 1, chats: 1 })

  // Another seller's inbox is separate.
  const other = chatApi(app, registeredUser('inbox-other-seller'))
  await a1.openChat('L1', 'inbox-other-seller')
  t.same(shape((await other.grouped()).body, names), [['L1', 0, [[undefined, 0, 'Buyer 1']]]], 'labels count per seller')
})

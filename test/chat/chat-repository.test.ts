// Chat identity (a registered buyer and an anonymous buyer with the same id are two people with two chats), and listing them.
import t from 'tap'
import { sql } from 'kysely'
import { listChats } from '../../src/chat/chat-repository.js'
import { buildTestApp, TEST_ANON_SECRET, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, forgedAnonymous, registeredUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' }))

t.test('a registered user whose id equals an anonymous buyer uuid opens a chat of their own', async (t) => {
  const anonymous = await anonymousBuyer(app)
  const anonChat = await chatApi(app, anonymous).openChat('listing-1', 'seller-collide-1')
  t.equal(anonChat.status, 201)
  t.equal(anonChat.body.buyer_label, 'Buyer 1')

  // The seller saw that uuid in their inbox and got a marketplace account with it.
  const lookalike = registeredUser(anonymous.id)
  const theirs = await chatApi(app, lookalike).openChat('listing-1', 'seller-collide-1')
  t.equal(theirs.status, 201, 'a new chat, not a 404 for someone else\'s')
  t.not(theirs.body.id, anonChat.body.id)
  t.match(theirs.body, { buyer_id: anonymous.id, buyer_is_registered: true, buyer_label: null, role: 'buyer' })

  await chatApi(app, anonymous).send(anonChat.body.id, 'from the anonymous buyer')
  const again = await chatApi(app, lookalike).openChat('listing-1', 'seller-collide-1')
  t.equal(again.status, 200)
  t.equal(again.body.id, theirs.body.id)
  t.equal(again.body.last_message, null, 'the anonymous buyer\'s messages stay in their own chat')
  const anonAgain = await chatApi(app, anonymous).openChat('listing-1', 'seller-collide-1')
  t.equal(anonAgain.body.id, anonChat.body.id)
  t.equal(anonAgain.body.last_message, 'from the anonymous buyer')

  await chatApi(app, lookalike).send(theirs.body.id, 'from the registered buyer')
  const inbox = await chatApi(app, registeredUser('seller-collide-1')).myChats()
  t.equal(inbox.body.chats.length, 2, 'the seller sees two buyers')
})

t.test('the other order: a registered buyer first, then an anonymous buyer with the same id', async (t) => {
  const registered = registeredUser('00000000-0000-4000-8000-00000000c011')
  const first = await chatApi(app, registered).openChat('listing-2', 'seller-collide-2')
  t.equal(first.status, 201)
  const anonymous = forgedAnonymous(registered.id, TEST_ANON_SECRET)
  const second = await chatApi(app, anonymous).openChat('listing-2', 'seller-collide-2')
  t.equal(second.status, 201)
  t.not(second.body.id, first.body.id)
  t.match(second.body, { buyer_is_registered: false, buyer_label: 'Buyer 1', role: 'buyer' })
})

t.test('my chats: every role, offset and limit lists what one ordered query over all of them would', async (t) => {
  const me = 'list-user'
  // me as seller of 120 chats and buyer in 40, some hidden, blocked or without a message, activity in any order
  await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, last_seq, seller_hidden, buyer_hidden,
      blocked_by_seller, blocked_by_buyer, last_activity_at)
    select gen_random_uuid(), 'l' || (g % 7), case when g <= 120 then ${me} else 's' || g end, case when g <= 120 then 'b' || g else ${me} end,
      true, g % 5, g % 11 = 0, g % 13 = 0, g % 4 = 0, g % 6 = 0, timestamptz '2026-01-01' + ((g * 37) % 160) * interval '1 minute'
    from generate_series(1, 160) g`.execute(app.db)
  const identity = { userId: me, registered: true }
  for (const role of ['seller', 'buyer', null] as const) {
    const where = role === 'seller'
      ? sql`seller_id = ${me} and not seller_hidden and last_seq > 0`
      : role === 'buyer'
        ? sql`buyer_id = ${me} and buyer_is_registered and not buyer_hidden`
        : sql`((seller_id = ${me} and not seller_hidden and last_seq > 0) or (buyer_id = ${me} and buyer_is_registered and not buyer_hidden))`
    const expected = (await sql<{ id: string }>`select id from chats where ${where}
      order by case when seller_id = ${me} then blocked_by_seller else blocked_by_buyer end, last_activity_at desc, id`.execute(app.db)).rows.map((r) => r.id)
    for (const [limit, offset] of [[10, 0], [7, 23], [50, 100], [200, 0], [5, 500]] as const) {
      const { rows, total } = await listChats(app.db, identity, { role, limit, offset })
      t.same(rows.map((r) => r.id), expected.slice(offset, offset + limit), `${role ?? 'both'}: ${limit} from ${offset}`)
      t.equal(total, expected.length, `${role ?? 'both'}: total`)
    }
  }
})

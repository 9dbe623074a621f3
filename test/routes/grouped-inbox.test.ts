// The seller's inbox grouped by listing and the unread badge, across listings and buyers, through reads, hides and unhides.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { sql } from 'kysely'
import type { App } from '../../src/app.js'
import { combineEvents } from '../../src/chat/chat-events.js'
import { PAGE_WALK_PER_LISTING } from '../../src/chat/chat-repository.js'
import { ChatService, summarize } from '../../src/chat/chat-service.js'
import type { ListingGroup } from '../../src/chat/schemas.js'
import { buildTestApp, fuzzSeed, testConfig } from '../fixtures/app.js'
import { chatApi, type ChatApi } from '../fixtures/chat-api.js'
import { listSellerChats } from '../fixtures/seller-chats-reference.js'
import { anonymousBuyer, registeredUser, type TestUser } from '../fixtures/users.js'

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
  const otherChat = (await a1.openChat('L1', 'inbox-other-seller')).body
  t.same((await other.grouped()).body, [], "a chat without a message is not in the seller's inbox yet")
  await a1.send(otherChat.id, 'hello')
  t.same(shape((await other.grouped()).body, names), [['L1', 1, [[undefined, 1, 'Buyer 1']]]], 'labels count per seller')
})

// ---- paging and the JSON printed by Postgres ----

/**
 * The answer as the service first built it: full rows, summarize(), grouping in JS, JSON.stringify. A chat the seller
 * blocked (listed only with ?blocked=include) adds nothing to its group's unread count.
 */
async function previousAnswer (sellerId: string, filter = { includeBlocked: false }): Promise<string> {
  const rows = await listSellerChats(app.db, sellerId, filter)
  const groups = new Map<string, ListingGroup>()
  for (const row of rows) {
    const summary = summarize(row, 'seller')
    let group = groups.get(row.listing_id)
    if (group === undefined) {
      group = { listing_id: row.listing_id, unread_count: 0, last_message_time: summary.last_message_time ?? summary.created_at, chats: [] }
      groups.set(row.listing_id, group)
    }
    if (!row.blocked_by_seller) group.unread_count += summary.unread_count
    group.chats.push(summary)
  }
  return JSON.stringify([...groups.values()])
}

/** `count` chats of one seller over `listings` listings; some share a timestamp, some are hidden, texts are awkward. */
async function seedSeller (sellerId: string, count: number, listings: number): Promise<void> {
  await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, buyer_label, last_seq, seller_last_read_seq,
      buyer_last_read_seq, seller_hidden, last_message_text, last_message_sender_id, last_message_at, last_activity_at, created_at)
    select gen_random_uuid(), 'L"' || (g % ${listings}) || E'\\\\\\u2028é', ${sellerId}, 'b' || g, g % 3 = 0,
      -- every chat has a message: one without is not in the seller's inbox yet
      case when g % 3 = 0 then null else g end, 1 + g % 5, g % 3, g % 2, g % 17 = 0,
      case when g % 4 = 0 then null else E'say "hi"\\n\\t\\u0001 🚲 </script> ' || g end,
      case when g % 4 = 0 then null else 'b' || g end,
      case when g % 4 = 0 then null else timestamptz '2026-01-01' + (g / 2) * interval '1.000001 second' end,
      timestamptz '2026-01-01' + (g / 2) * interval '1.000001 second', timestamptz '2025-12-01' + g * interval '1 second'
    from generate_series(1, ${count}) g`.execute(app.db)
}

const get = async (user: ReturnType<typeof registeredUser>, sellerId: string, query: string) => {
  return await app.inject({ url: `/api/chat/chats/seller/${encodeURIComponent(sellerId)}/grouped${query}`, headers: { authorization: `Bearer ${user.token}` } })
}

interface Page { groups: ListingGroup[], next_cursor: string | null, total_chats: number, total_listings: number }

async function allPages (user: ReturnType<typeof registeredUser>, limit: number, between?: (pageNo: number) => Promise<void>, extra = ''): Promise<Page[]> {
  const pages: Page[] = []
  let cursor: string | null = null
  for (let i = 0; i < 1000; i++) {
    const response = await get(user, user.id, `?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}${extra}`)
    if (response.statusCode !== 200) throw new Error(response.body)
    const page = response.json<Page>()
    pages.push(page)
    cursor = page.next_cursor
    if (cursor === null) break
    await between?.(i)
  }
  return pages
}

t.test('the full answer is byte for byte what the service printed before', async (t) => {
  const user = registeredUser('bytes-seller')
  await seedSeller(user.id, 300, 23)
  const response = await get(user, user.id, '')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const expected = await previousAnswer(user.id)
  t.same(response.rawPayload, Buffer.from(expected), 'same bytes, same key order, same escaping')
  t.equal(response.headers['content-length'], String(Buffer.byteLength(expected)), 'its length in bytes, not characters')
  t.equal(response.json<ListingGroup[]>().length, 23)
  const page = await get(user, user.id, '?limit=5')
  const { next_cursor: next, total_chats: chats, total_listings: listings } = page.json<Page>()
  const expectedPage = JSON.stringify({ groups: (JSON.parse(expected) as ListingGroup[]).slice(0, 5), next_cursor: next, total_chats: chats, total_listings: listings })
  t.same(page.rawPayload, Buffer.from(expectedPage), 'a page: its groups the same bytes, between its other fields')
  t.equal(page.headers['content-length'], String(Buffer.byteLength(expectedPage)))
})

t.test('listing ids of any characters keep their chats apart', async (t) => {
  const user = registeredUser('odd-listings-seller')
  // what the inbox's packed rows are cut by (spaces, digits, a length's worth of characters) and characters beyond U+FFFF
  const listings = ['🚲 2 🚲', '3 ', ' ', '1', 'a\nb 12 c', '🚲', '"\\\u2028é']
  await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, last_seq, seller_last_read_seq,
      buyer_last_read_seq, last_message_text, last_message_sender_id, last_message_at, last_activity_at)
    select gen_random_uuid(), (${listings}::text[])[1 + g % ${listings.length}], ${user.id}, 'b' || g, true, 2, 1, 2, 'hi', 'b' || g,
      timestamptz '2026-01-01' + g * interval '1 second', timestamptz '2026-01-01' + g * interval '1 second'
    from generate_series(1, 30) g`.execute(app.db)
  const response = await get(user, user.id, '')
  t.equal(response.body, await previousAnswer(user.id), 'same bytes as the JS construction')
  t.same(response.json<ListingGroup[]>().map((g) => g.listing_id).sort(), [...listings].sort(), 'each listing once')
})

t.test('with blocked chats listed, the same bytes, and their unread stays out of the group counts', async (t) => {
  const user = registeredUser('blocking-seller')
  await seedSeller(user.id, 300, 23)
  await sql`update chats set blocked_by_seller = true
    where seller_id = ${user.id} and buyer_id in (select 'b' || g from generate_series(1, 300, 4) g)`.execute(app.db)
  const response = await get(user, user.id, '?blocked=include')
  t.equal(response.body, await previousAnswer(user.id, { includeBlocked: true }), 'same bytes as the JS construction')
  const full = response.json<ListingGroup[]>()
  const blocked = full.flatMap((g) => g.chats).filter((c) => c.blocked_by_me)
  t.ok(blocked.some((c) => c.unread_count > 0), 'some blocked chats have unread messages')
  // (listing ids stay out of the messages: their U+2028 would break the TAP line)
  const counts = full.map((g) => [g.unread_count, g.chats.filter((c) => !c.blocked_by_me).reduce((sum, c) => sum + c.unread_count, 0)])
  t.same(counts.map(([shown]) => shown), counts.map(([, counted]) => counted), 'each group counts only its unblocked chats')
  const without = (await get(user, user.id, '')).json<ListingGroup[]>()
  t.same(without.flatMap((g) => g.chats).length, full.flatMap((g) => g.chats).length - blocked.length, 'left out by default')
  const pages = await allPages(user, 5, undefined, '&blocked=include')
  t.same(pages.flatMap((p) => p.groups), full, 'the pages put together are the full answer')
  t.ok(pages.every((p) => p.total_chats === full.flatMap((g) => g.chats).length && p.total_listings === full.length), 'totals count them too')
})

t.test('a summary printed before is printed again once its row changes, whoever changed it', async (t) => {
  const user = registeredUser('changing-seller')
  await seedSeller(user.id, 120, 9)
  const first = await get(user, user.id, '')
  t.equal(first.body, await previousAnswer(user.id))
  const page = (await get(user, user.id, '?limit=3')).body
  // straight to the table, as a migration, a script or another instance would: no service is told
  await sql`update chats set listing_title = E'new "title" \\ \u2028', buyer_display_name = 'Ivan', seller_last_read_seq = last_seq,
      blocked_by_buyer = true
    where seller_id = ${user.id} and buyer_id in (select 'b' || g from generate_series(1, 120, 5) g)`.execute(app.db)
  const second = await get(user, user.id, '')
  t.not(second.body, first.body, 'the answer changed')
  t.equal(second.body, await previousAnswer(user.id), 'and is what the rows say now')
  const pageAgain = await get(user, user.id, '?limit=3')
  t.not(pageAgain.body, page)
  t.same(pageAgain.json<Page>().groups, second.json<ListingGroup[]>().slice(0, 3), 'a page too')
})

t.test('a chat merged away between reading the inbox and reading its summaries is left out', async (t) => {
  const user = registeredUser('merging-seller')
  await seedSeller(user.id, 40, 6)
  const shown = JSON.parse(await previousAnswer(user.id)) as ListingGroup[]
  // the head of a listing with more chats, so the listing stays and its place and time come from the next chat
  const gone = shown.find((g) => g.chats.length > 1)?.chats[0]?.id as string
  let statements = 0
  const db = app.db.withPlugin({
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      // after the first statement (ids and versions), before the second (the summaries no cache holds yet)
      if (++statements === 1) await sql`delete from chats where id = ${gone}`.execute(app.db)
      return args.result
    }
  })
  const log = { warn: () => {} }
  const service = new ChatService({ db, events: combineEvents(log), listingLookup: null, log, sendBatch: { maxBatch: 10, maxInFlight: 1, waitingPerExtraBatch: 16 } })
  const body = (await service.groupedInbox({ userId: user.id, registered: true }, user.id)).toString()
  t.equal(statements, 2, 'two statements')
  t.notMatch(body, gone)
  t.equal(body, await previousAnswer(user.id), 'the answer as the rows are now')
})

t.test('pages cover every chat exactly once, in the order of the full answer', async (t) => {
  const user = registeredUser('paging-seller')
  await seedSeller(user.id, 500, 61)
  const full = (await get(user, user.id, '')).json<ListingGroup[]>()
  for (const limit of [1, 7, 61, 200]) {
    const pages = await allPages(user, limit)
    // the newest 61 chats are the 61 listings' heads: the pages holding them are full, the last of them holds the rest
    const holding = Math.ceil(61 / limit)
    t.same(pages.slice(0, holding).map((p) => p.groups.length), Array.from({ length: holding }, (_, i) => Math.min(limit, 61 - i * limit)), `limit ${limit}: pages`)
    // past the last head a page walks at most PAGE_WALK_PER_LISTING × (limit + 1) older chats: none of them a head
    const walk = PAGE_WALK_PER_LISTING * (limit + 1)
    t.ok(pages.slice(holding).every((p) => p.groups.length === 0), `limit ${limit}: then pages with no listing`)
    t.ok(pages.length <= holding + Math.ceil(500 / walk), `limit ${limit}: each of them ${walk} chats further down`)
    t.ok(pages.every((p) => p.groups.length <= limit && p.total_listings === 61 && p.total_chats === full.flatMap((g) => g.chats).length))
    t.equal(pages.at(-1)?.next_cursor, null, 'the last page says so')
    t.same(pages.flatMap((p) => p.groups), full, `limit ${limit}: the pages put together are the full answer`)
  }
  const first = await get(user, user.id, '?cursor=' + (await allPages(user, 10))[0]?.next_cursor)
  t.equal(first.json<Page>().groups.length, 50, 'a cursor without limit pages by 50')
  const empty = await get(registeredUser('nobody-yet'), 'nobody-yet', '?limit=5')
  t.same(empty.json(), { groups: [], next_cursor: null, total_chats: 0, total_listings: 0 }, 'an empty inbox is one empty page')
})

t.test('activity between page requests never splits or repeats a listing', async (t) => {
  const user = registeredUser('moving-seller')
  await seedSeller(user.id, 400, 40)
  const seen: string[] = []
  const full = (await get(user, user.id, '')).json<ListingGroup[]>()
  let moved: string[] = []
  const pages = await allPages(user, 5, async (pageNo) => {
    if (pageNo !== 0) return
    // after page 1: a listing already shown and one not yet shown both get the newest activity of the inbox
    moved = [full[2]?.listing_id as string, full[20]?.listing_id as string]
    await sql`update chats set last_activity_at = now() where seller_id = ${user.id} and listing_id in (${moved[0]}, ${moved[1]})
      and not seller_hidden`.execute(app.db)
  })
  for (const p of pages) seen.push(...p.groups.map((g) => g.listing_id))
  t.equal(new Set(seen).size, seen.length, 'no listing on two pages')
  const expected = full.map((g) => g.listing_id).filter((id) => id !== moved[1])
  t.same(seen, expected, 'every listing that did not move up past the cursor, in order; the one that did is the live socket\'s to report')
  const split = pages.flatMap((p) => p.groups).filter((g) => g.chats.length !== full.find((f) => f.listing_id === g.listing_id)?.chats.length)
  t.same(split, [], 'each listing with all its chats on its one page')
})

t.test('a cursor is only one the endpoint returned; limit is 1..200', async (t) => {
  const user = registeredUser('cursor-seller')
  await seedSeller(user.id, 50, 10)
  const good = (await get(user, user.id, '?limit=2')).json<Page>().next_cursor as string
  const decoded = JSON.parse(Buffer.from(good, 'base64url').toString())
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
  const bad = [
    'not-a-cursor', enc('{'), enc('null'), enc([1]), enc({ t: decoded.t }), enc({ id: decoded.id }),
    enc({ ...decoded, t: '2026-13-01T00:00:00.000000Z' }), enc({ ...decoded, t: "2026-01-01'; drop table chats; --" }),
    enc({ ...decoded, t: 5 }), enc({ ...decoded, id: 'x' }), enc({ ...decoded, id: "'; --" }), 'a'.repeat(201)
  ]
  for (const cursor of bad) {
    const response = await get(user, user.id, `?limit=2&cursor=${encodeURIComponent(cursor)}`)
    t.equal(response.statusCode, 400, `cursor ${cursor.slice(0, 30)}`)
    t.equal(response.json().error.code, 'validation_failed')
  }
  for (const limit of ['0', '201', '-1', 'abc', '1.5', '1e999']) {
    const response = await get(user, user.id, `?limit=${limit}`)
    t.equal(response.statusCode, 400, `limit ${limit}`)
    t.equal(response.json().error.code, 'validation_failed')
  }
  t.equal((await get(user, user.id, '?limit=1')).json<Page>().groups.length, 1)
  t.equal((await get(user, user.id, '?limit=200')).json<Page>().groups.length, 10)
  t.equal((await get(user, user.id, `?limit=2&cursor=${good}`)).statusCode, 200, 'the real cursor still works')
})

t.test('only the seller reads their pages', async (t) => {
  const user = registeredUser('private-seller')
  await seedSeller(user.id, 20, 4)
  const cursor = (await get(user, user.id, '?limit=1')).json<Page>().next_cursor as string
  for (const query of ['?limit=5', `?limit=5&cursor=${cursor}`, '']) {
    const other = await get(registeredUser('someone-else'), user.id, query)
    t.equal(other.statusCode, 403, `another seller, ${query || 'no paging'}`)
    t.notMatch(other.body, /L"|say/, 'nothing of the inbox in the answer')
  }
  const anonymous = await anonymousBuyer(app)
  const response = await app.inject({ url: `/api/chat/chats/seller/${user.id}/grouped?limit=5`, headers: { authorization: `Bearer ${anonymous.token}` } })
  t.equal(response.statusCode, 403, 'an anonymous buyer')
  const none = await app.inject({ url: `/api/chat/chats/seller/${user.id}/grouped?limit=5` })
  t.equal(none.statusCode, 401, 'no token')
})

/** What the inbox shows now, counted from its full answers: the totals a page must report. */
const getFrom = async (app: App, user: TestUser, query: string) =>
  await app.inject({ url: `/api/chat/chats/seller/${encodeURIComponent(user.id)}/grouped${query}`, headers: user.headers })

/** An app whose limits let one test make thousands of requests from one address. */
const unlimited = async (t: Test): Promise<App> => await buildTestApp(t, testConfig(t, {
  RATE_LIMIT_API_PER_MINUTE: '10000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000000',
  RATE_LIMIT_SEND_PER_MINUTE: '1000000', CHATS_PER_HOUR: '1000000'
}))

async function countedTotals (app: App, user: TestUser): Promise<number[]> {
  const counts: number[] = []
  for (const extra of ['', '?blocked=include']) {
    const full = (await getFrom(app, user, extra)).json<ListingGroup[]>()
    counts.push(full.flatMap((g) => g.chats).length, full.length)
  }
  return counts
}

async function reportedTotals (app: App, user: TestUser): Promise<number[]> {
  const counts: number[] = []
  for (const extra of ['', '&blocked=include']) {
    const page = (await getFrom(app, user, `?limit=1${extra}`)).json<Page>()
    counts.push(page.total_chats, page.total_listings)
  }
  return counts
}

type Op =
  | ['send', number, number, boolean]
  | ['open' | 'hide' | 'block' | 'unblock', number, number]
  | ['claim', number]

t.test('a page\'s totals are what the inbox shows after any sequence of sends, hides, blocks and claims', async (t) => {
  const app = await unlimited(t)
  const buyerIndex = fc.integer({ min: 0, max: 2 })
  const listingIndex = fc.integer({ min: 0, max: 1 })
  const on = <K extends 'open' | 'hide' | 'block' | 'unblock'>(kind: K) => fc.tuple(fc.constant(kind), buyerIndex, listingIndex)
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.tuple(fc.constant('send' as const), buyerIndex, listingIndex, fc.boolean()), weight: 4 },
    { arbitrary: on('open'), weight: 1 },
    { arbitrary: on('hide'), weight: 2 },
    { arbitrary: on('block'), weight: 2 },
    { arbitrary: on('unblock'), weight: 2 },
    { arbitrary: fc.tuple(fc.constant('claim' as const), fc.integer({ min: 0, max: 1 })), weight: 1 }
  )
  let run = 0
  let shown = 0
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
    run++
    const seller = registeredUser(`counted-seller-${run}`)
    // buyers 0 and 1 are guests, 2 the account they may be claimed into
    const buyers = [await anonymousBuyer(app), await anonymousBuyer(app), registeredUser(`counted-user-${run}`)]
    const claimed = new Set<number>()
    const chats = new Map<string, string>()
    const chatOf = async (buyer: number, listing: number, open: boolean): Promise<string | undefined> => {
      const key = `${buyer}:${listing}`
      if (!chats.has(key) && open && !claimed.has(buyer)) {
        const opened = await chatApi(app, buyers[buyer] as TestUser).openChat(`listing-${listing}`, seller.id)
        // a seller who blocked the buyer refuses new chats from them
        if (opened.error?.code === 'blocked') return undefined
        if (opened.status !== 200 && opened.status !== 201) throw new Error(`open: ${JSON.stringify(opened.body)}`)
        chats.set(key, opened.body.id)
      }
      return chats.get(key)
    }
    for (const step of ops) {
      if (step[0] === 'claim') {
        const guest = step[1]
        if (claimed.has(guest)) continue
        const response = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', headers: (buyers[2] as TestUser).headers, payload: { anonymous_token: (buyers[guest] as TestUser).token } })
        if (response.statusCode !== 200) throw new Error(`claim: ${response.body}`)
        claimed.add(guest)
        for (let listing = 0; listing < 2; listing++) {
          if (!chats.delete(`${guest}:${listing}`)) continue
          // the guest's chat moved to the account or merged into its chat: either way the account's chat now
          chats.delete(`2:${listing}`)
          await chatOf(2, listing, true)
        }
      } else {
        const [kind, buyer, listing] = step
        const chatId = await chatOf(buyer, listing, kind === 'open' || kind === 'send')
        if (chatId === undefined) continue
        const sellerApi = chatApi(app, seller)
        if (kind === 'send') {
          const from = step[3] ? seller : buyers[buyer] as TestUser
          const sent = await chatApi(app, from).send(chatId, `m ${run}`)
          // refused only while the chat is blocked
          if (sent.status !== 201 && sent.error?.code !== 'blocked') throw new Error(`send: ${JSON.stringify(sent.body)}`)
        } else {
          const done = kind === 'hide' ? await sellerApi.hide(chatId) : kind === 'block' ? await sellerApi.block(chatId) : await sellerApi.unblock(chatId)
          if (done.status >= 300) throw new Error(`${kind}: ${JSON.stringify(done.body)}`)
        }
      }
      const counted = await countedTotals(app, seller)
      const reported = await reportedTotals(app, seller)
      if ((counted[2] as number) > 0) shown++
      if (JSON.stringify(reported) !== JSON.stringify(counted)) {
        throw new Error(`after ${JSON.stringify(step)} of ${JSON.stringify(ops)}: page totals ${JSON.stringify(reported)}, inbox shows ${JSON.stringify(counted)}`)
      }
    }
  }), { numRuns: 40, seed: fuzzSeed })
  t.ok(shown > 40, `totals matched the inbox after every step (${shown} steps with chats shown)`)
})

t.test('totals stay right while first messages to one seller\'s chats are stored at once', async (t) => {
  // Several batches in flight on Postgres: two sellers' listings are counted by concurrent statements in any order.
  const app = await unlimited(t)
  const sellers = [registeredUser('busy-seller-1'), registeredUser('busy-seller-2')]
  const opened: Array<{ chatId: string, buyer: TestUser, seller: TestUser }> = []
  for (let i = 0; i < 60; i++) {
    const buyer = registeredUser(`busy-buyer-${i}`)
    const seller = sellers[i % 2] as TestUser
    const chat = await chatApi(app, buyer).openChat(`busy-listing-${i % 7}`, seller.id)
    opened.push({ chatId: chat.body.id, buyer, seller })
  }
  const sends = opened.map(({ chatId, buyer }, i) => chatApi(app, buyer).send(chatId, `first ${i}`))
  // and the sellers hide some of them meanwhile
  const hides = opened.filter((_, i) => i % 5 === 0).map(({ chatId, seller }) => chatApi(app, seller).hide(chatId))
  const replies = await Promise.all(sends)
  await Promise.all(hides)
  t.ok(replies.every((r) => r.status === 201), 'every first message stored')
  for (const seller of sellers) {
    const counted = await countedTotals(app, seller)
    t.same(await reportedTotals(app, seller), counted, `${seller.id}: the totals are what the inbox shows`)
    t.ok((counted[0] as number) > 0)
  }
})

// Every query behind the endpoints uses an index for a seller with thousands of chats (EXPLAIN on seeded data).
import { CompiledQuery, sql, type QueryId, type RootOperationNode } from 'kysely'
import t from 'tap'
import * as chats from '../../src/chat/chat-repository.js'
import * as messages from '../../src/chat/message-repository.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'

const app = await buildTestApp(t, testConfig(t))
const db = app.db

// A marketplace in miniature: 300 sellers with 30 chats each, and one busy seller with 3000 chats over 40 listings;
// a long conversation of 2000 messages and a few messages in every other chat.
await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, buyer_label, last_seq, last_activity_at)
  select gen_random_uuid(), 'l' || (g % 50), 's' || (g % 300), 'b' || g, g % 3 = 0, case when g % 3 = 0 then null else g end, 3,
    now() - g * interval '1 second'
  from generate_series(1, 9000) g`.execute(db)
await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, buyer_label, last_seq, last_activity_at)
  select gen_random_uuid(), 'busy-l' || (g % 40), 'busy', 'busy-b' || g, g % 2 = 0, case when g % 2 = 0 then null else g end, g % 4,
    now() - g * interval '1 second'
  from generate_series(1, 3000) g`.execute(db)
const { id: longChat } = await db.selectFrom('chats').select('id').where('seller_id', '=', 'busy').where('buyer_id', '=', 'busy-b2').executeTakeFirstOrThrow()
await sql`update chats set last_seq = 2000 where id = ${longChat}`.execute(db)
await sql`insert into messages (chat_id, seq, id, sender_id, sender_is_registered, message_text, client_message_id)
  select ${longChat}::uuid, g, gen_random_uuid(), case when g % 2 = 0 then 'busy' else 'busy-b2' end, true, 'message ' || g, 'c' || g
  from generate_series(1, 2000) g`.execute(db)
await sql`insert into messages (chat_id, seq, id, sender_id, sender_is_registered, message_text)
  select c.id, g, gen_random_uuid(), c.buyer_id, c.buyer_is_registered, 'hi' from chats c, generate_series(1, 3) g
  where c.seller_id <> 'busy'`.execute(db)
await sql`insert into seller_buyer_labels (seller_id, buyer_id, label)
  select seller_id, buyer_id, buyer_label from chats where buyer_label is not null`.execute(db)
await sql`analyze`.execute(db)

/** Runs `fn` against a db that records every statement, then returns each statement's EXPLAIN output. */
async function plansOf (fn: (db: chats.Db) => Promise<unknown>, explain = 'explain'): Promise<Array<{ sql: string, plan: string }>> {
  const statements: Array<{ node: RootOperationNode, queryId: QueryId }> = []
  const recording = db.withPlugin({
    transformQuery: (args) => {
      statements.push({ node: args.node, queryId: args.queryId })
      return args.node
    },
    transformResult: async (args) => args.result
  })
  await fn(recording)
  const plans = []
  for (const { node, queryId } of statements) {
    const compiled = db.getExecutor().compileQuery(node, queryId)
    const result = await db.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`${explain} ${compiled.sql}`, [...compiled.parameters]))
    // a JSON plan arrives parsed
    plans.push({ sql: compiled.sql, plan: result.rows.map((row) => typeof row['QUERY PLAN'] === 'string' ? row['QUERY PLAN'] : JSON.stringify(row['QUERY PLAN'])).join('\n') })
  }
  return plans
}

const busy = { userId: 'busy', registered: true }
const anonBuyer = { userId: 'busy-b1', registered: false }

// [what, the queries, indexes at least one statement must use]
const cases: Array<[string, (db: chats.Db) => Promise<unknown>, string[]]> = [
  ['my chats as seller', (d) => chats.listChats(d, busy, { role: 'seller', limit: 50, offset: 0 }), ['chats_seller_activity_idx']],
  ['my chats, both roles', (d) => chats.listChats(d, busy, { role: null, limit: 50, offset: 100 }), ['chats_seller_activity_idx', 'chats_buyer_activity_idx']],
  ['my chats as anonymous buyer', (d) => chats.listChats(d, anonBuyer, { role: null, limit: 50, offset: 0 }), ['chats_buyer_activity_idx']],
  ['grouped inbox', (d) => chats.sellerInboxEntries(d, 'busy'), ['chats_seller_activity_idx']],
  ['grouped inbox, a page', (d) => chats.sellerInboxPage(d, 'busy', 10, null), ['chats_seller_activity_idx']],
  ['grouped inbox, a few summaries not cached', (d) => chats.summaryRows(d, 'busy', [longChat, '00000000-0000-4000-8000-000000000000']), ['chats_pkey']],
  ['grouped inbox, a later page', (d) => chats.sellerInboxPage(d, 'busy', 10, { activityAt: '2020-01-01T00:00:00.000000Z', chatId: '00000000-0000-4000-8000-000000000000' }), ['chats_seller_activity_idx', 'chats_seller_listing_activity_idx']],
  ['unread count, seller', (d) => chats.unreadTotals(d, busy), ['chats_seller_activity_idx']],
  ['unread count, buyer', (d) => chats.unreadTotals(d, anonBuyer), ['chats_buyer_activity_idx']],
  ['presence counterparts', (d) => chats.counterpartKeys(d, busy), ['chats_seller_activity_idx']],
  ['history, newest', (d) => messages.pageMessages(d, longChat, { limit: 50, beforeSeq: null, afterSeq: null, offset: null }), ['messages_pkey']],
  ['history, before_seq', (d) => messages.pageMessages(d, longChat, { limit: 50, beforeSeq: 1000, afterSeq: null, offset: null }), ['messages_pkey']],
  ['history, after_seq', (d) => messages.pageMessages(d, longChat, { limit: 50, beforeSeq: null, afterSeq: 1000, offset: null }), ['messages_pkey']],
  ['history, offset', (d) => messages.pageMessages(d, longChat, { limit: 50, beforeSeq: null, afterSeq: null, offset: 500 }), ['messages_pkey']],
  ['one chat', (d) => chats.findChat(d, longChat), ['chats_pkey']],
  ['create-or-get lookup', (d) => chats.findChatByKey(d, 'busy-l2', 'busy', { userId: 'busy-b2', registered: true }), []],
  ['retry lookup', (d) => messages.findByClientMessageId(d, longChat, { userId: 'busy', registered: true }, 'c10'), []],
  ['mark read', (d) => chats.advanceReadPointer(d, longChat, 'seller', 1500), ['chats_pkey']],
  ['hide', (d) => chats.setHidden(d, longChat, 'buyer', true), ['chats_pkey']],
  ['send', (d) => messages.insertMessages(d, [{ id: '00000000-0000-4000-8000-000000000001', chatId: longChat, senderId: 'busy', senderIsRegistered: true, text: 'x', preview: 'x', clientMessageId: 'c-new' }]), ['chats_pkey']],
  ['new buyer label', (d) => d.transaction().execute((tx) => chats.buyerLabel(tx, 'busy', 'busy-newcomer')), ['seller_buyer_labels']]
]

for (const [what, fn, indexes] of cases) {
  t.test(what, async (t) => {
    const plans = await plansOf(fn)
    t.ok(plans.length > 0, 'ran at least one statement')
    for (const { sql: text, plan } of plans) {
      t.notMatch(plan, /Seq Scan on (chats|messages|seller_buyer_labels)\b/, `no sequential scan: ${text.slice(0, 100)}\n${plan}`)
    }
    const all = plans.map((p) => p.plan).join('\n')
    for (const index of indexes) t.match(all, new RegExp(`Index.* ${index}`), `uses ${index}\n${all}`)
  })
}

interface PlanNode { 'Node Type': string, 'Parent Relationship'?: string, Plans?: PlanNode[] }

/** Nested loops that scan one of the statement's own steps (a CTE) again for every row of the other side. */
function rescannedCtes (node: PlanNode): string[] {
  const found = (node.Plans ?? []).flatMap(rescannedCtes)
  if (node['Node Type'] !== 'Nested Loop') return found
  let inner = node.Plans?.find((child) => child['Parent Relationship'] === 'Inner')
  while (inner !== undefined && ['Materialize', 'Memoize'].includes(inner['Node Type'])) inner = inner.Plans?.[0]
  return inner?.['Node Type'] === 'CTE Scan' ? [...found, JSON.stringify(inner)] : found
}

// The planner cannot count a CTE's rows (it guessed one or two for a batch of 500), so a nested loop over one
// compares every message with every other: the statement would grow with the square of its batch.
t.test('a batch send rescans none of its own steps per message', async (t) => {
  const targets = await db.selectFrom('chats').select(['id', 'seller_id', 'buyer_id', 'buyer_is_registered'])
    .where('seller_id', '<>', 'busy').orderBy('id').limit(100).execute()
  // two messages for each of 100 chats, from both sides, with notifications on (their step joins the chats too)
  const batch = Array.from({ length: 200 }, (_, k) => {
    const chat = targets[k % targets.length] as typeof targets[number]
    const seller = k % 3 === 0
    return {
      id: `00000000-0000-4000-8000-${String(k + 100).padStart(12, '0')}`,
      chatId: chat.id,
      senderId: seller ? chat.seller_id : chat.buyer_id,
      senderIsRegistered: seller || chat.buyer_is_registered,
      text: `batch ${k}`,
      preview: `batch ${k}`,
      clientMessageId: `batch-${k}`
    }
  })
  const plans = await plansOf(async (d) => await messages.insertMessages(d, batch, 60), 'explain (format json)')
  t.equal(plans.length, 1, 'one statement')
  for (const { plan } of plans) {
    const [{ Plan: root }] = JSON.parse(plan) as [{ Plan: PlanNode }]
    t.same(rescannedCtes(root), [], 'no nested loop over a CTE')
  }
})

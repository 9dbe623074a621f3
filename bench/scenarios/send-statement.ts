// Scenario `send-statement`: PostgreSQL's own CPU per message for the group-commit send statement, on schema variants
// (issue #18 item 3: which of the per-message costs in the database are worth removing).
import { randomUUID } from 'node:crypto'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { insertMessages, type NewMessage } from '../../src/chat/message-repository.js'
import { sql } from 'kysely'
import { createScratchDatabase } from '../lib/db.js'
import { readCpuTicks, ticksPerSecond } from '../lib/proc-sampler.js'
import { round } from '../lib/stats.js'
import { defaultResultsDir, describeMachine, table, writeResults } from '../lib/results.js'
import { noLog, type CommonOptions } from '../lib/common.js'

/**
 * What each variant changes after the migrations. `no-activity-indexes` drops the three indexes on
 * chats.last_activity_at: the column every send moves, which is what keeps the chat row's update from being HOT.
 * `no-inbox-counts-trigger` drops the trigger that keeps the inbox's totals: what its WHEN test costs every send.
 */
export const SCHEMA_VARIANTS = {
  'as-is': [],
  'no-buyer-activity-index': ['drop index chats_buyer_activity_idx'],
  'no-activity-indexes': ['drop index chats_buyer_activity_idx', 'drop index chats_seller_activity_idx', 'drop index chats_seller_listing_activity_idx'],
  'no-inbox-counts-trigger': ['drop trigger chats_seller_inbox_counts_update on chats']
} as const satisfies Record<string, readonly string[]>
export type SchemaVariant = keyof typeof SCHEMA_VARIANTS

export interface SendStatementOptions extends CommonOptions {
  variants?: SchemaVariant[]
  /** alternating rounds over the variants (the machine's drift lands on each alike) */
  runs?: number
  batches?: number
  batchSize?: number
  chats?: number
}

export interface Measurement { variant: SchemaVariant, usPerMessage: number | null, wallUsPerMessage: number, hotShare: number | null }

async function measure (url: string, variant: SchemaVariant, o: Required<Pick<SendStatementOptions, 'batches' | 'batchSize' | 'chats'>>): Promise<Measurement> {
  const name = `bench_send_${variant.replace(/-/g, '_')}_${process.pid}`
  const scratch = await createScratchDatabase(url, name)
  // one connection: its backend is the one process whose CPU is the statement's
  const handle = await openDatabase({ kind: 'postgres', url: scratch.url, schema: null, poolMax: 1 })
  try {
    const db = handle.db
    await migrateToLatest(db, null)
    await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, last_activity_at, created_at, updated_at)
      select gen_random_uuid(), 'listing-' || (k % 300), 'seller-' || (k % 100), 'buyer-' || k, true, now(), now(), now()
      from generate_series(0, ${o.chats - 1}) k`.execute(db)
    for (const statement of SCHEMA_VARIANTS[variant]) await sql.raw(statement).execute(db)
    const chats = (await sql<{ id: string, buyer_id: string }>`select id, buyer_id from chats`.execute(db)).rows
    let n = 0
    // each batch carries one message for each of batchSize different chats, as a busy marketplace's sends do
    const batch = (): NewMessage[] => Array.from({ length: o.batchSize }, () => {
      const chat = chats[n++ % chats.length] as { id: string, buyer_id: string }
      return { id: randomUUID(), chatId: chat.id, senderId: chat.buyer_id, senderIsRegistered: true, text: `hello ${n}`, preview: `hello ${n}`, clientMessageId: `c-${n}` }
    })
    for (let i = 0; i < 20; i++) await insertMessages(db, batch())
    const backend = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]?.pid
    const counters = async (): Promise<{ upd: number, hot: number }> => {
      await sql`select pg_stat_force_next_flush()`.execute(db)
      const row = (await sql<{ upd: string, hot: string }>`select n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'chats'`.execute(db)).rows[0]
      return { upd: Number(row?.upd ?? 0), hot: Number(row?.hot ?? 0) }
    }
    const before = await counters()
    const ticks0 = backend === undefined ? null : readCpuTicks(backend)
    const t0 = performance.now()
    for (let i = 0; i < o.batches; i++) await insertMessages(db, batch())
    const wall = performance.now() - t0
    const ticks1 = backend === undefined ? null : readCpuTicks(backend)
    const after = await counters()
    const messages = o.batches * o.batchSize
    const stored = Number((await sql<{ n: string }>`select count(*) as n from messages`.execute(db)).rows[0]?.n)
    if (stored !== messages + 20 * o.batchSize) throw new Error(`send-statement ${variant}: ${stored} messages stored of ${messages + 20 * o.batchSize} sent`)
    return {
      variant,
      // null when PostgreSQL runs elsewhere (its backend's /proc entry is not on this machine)
      usPerMessage: ticks0 === null || ticks1 === null ? null : round((ticks1 - ticks0) * 1e6 / ticksPerSecond() / messages, 1),
      wallUsPerMessage: round(wall * 1000 / messages, 1),
      hotShare: after.upd > before.upd ? round((after.hot - before.hot) / (after.upd - before.upd), 2) : null
    }
  } finally {
    await handle.close()
    await scratch.drop()
  }
}

export async function sendStatement (opts: SendStatementOptions = {}): Promise<{ table: string, path: string, measurements: Measurement[] }> {
  const log = opts.log ?? noLog
  if (opts.databaseUrl === undefined) throw new Error('send-statement measures PostgreSQL: set DATABASE_URL')
  const variants = opts.variants ?? ['as-is', 'no-activity-indexes']
  const o = { batches: opts.batches ?? 300, batchSize: opts.batchSize ?? 50, chats: opts.chats ?? 1000 }
  const runs = opts.runs ?? 3
  const all: Measurement[] = []
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) {
      const m = await measure(opts.databaseUrl, variant, o)
      all.push(m)
      log(`run ${run + 1}, ${variant}: PostgreSQL ${String(m.usPerMessage)} µs/msg, wall ${m.wallUsPerMessage} µs/msg, HOT ${String(m.hotShare)}`)
    }
  }
  const median = (v: number[]): number | null => v.length === 0 ? null : [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? null
  const rows = variants.map((variant) => {
    const mine = all.filter((m) => m.variant === variant)
    const cpu = mine.map((m) => m.usPerMessage).filter((v): v is number => v !== null)
    return [variant, mine.length, median(cpu), cpu.join(' '), median(mine.map((m) => m.wallUsPerMessage)), median(mine.map((m) => m.hotShare ?? NaN))]
  })
  const text = table(['schema', 'runs', 'PostgreSQL µs/msg (median)', 'each run', 'wall µs/msg (median)', 'HOT share of chat updates'], rows)
  const result = { scenario: 'send-statement', startedAt: new Date().toISOString(), machine: await describeMachine(opts.databaseUrl), options: { ...o, runs, variants }, measurements: all, table: text }
  return { table: text, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'send-statement', result), measurements: all }
}

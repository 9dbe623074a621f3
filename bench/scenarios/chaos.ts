// Scenario `chaos`: two instances on real PostgreSQL and Redis behind fault-injecting proxies; faults under traffic, then loss, duplicates, gaps, delivery and survival.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import { ChaosClient, type ChaosChat } from '../lib/chaos-client.js'
import { createScratchDatabase, openPostgres, type Db } from '../lib/db.js'
import { FaultProxy } from '../lib/fault-proxy.js'
import { HttpClient, sleep } from '../lib/http.js'
import { describeMachine, defaultResultsDir, table, writeResults, type Machine } from '../lib/results.js'
import { entry, freePort, serviceEnv, spawnNode, waitReady, type ChildHandle } from '../lib/target.js'

export type ChaosScenarioName = 'kill-one' | 'kill-both' | 'redis-cut' | 'postgres-cut' | 'postgres-blackhole'
export const CHAOS_SCENARIOS: ChaosScenarioName[] = ['kill-one', 'kill-both', 'redis-cut', 'postgres-cut', 'postgres-blackhole']

export interface ChaosOptions {
  databaseUrl: string
  redisUrl: string
  scenarios?: ChaosScenarioName[]
  chats?: number
  /** messages per second over all chats */
  rate?: number
  /** traffic before the fault */
  beforeMs?: number
  /** how long the fault lasts */
  faultMs?: number
  /** traffic after the fault ends */
  afterMs?: number
  /** how long, after traffic stops, everything may take to be acked and delivered */
  drainMs?: number
  resultsDir?: string
  /** run the service from this compiled server.js (tests compile once: booting through a TypeScript loader is slow) */
  serviceEntry?: string
  /** false: return the result without writing a JSON file (tests) */
  write?: boolean
  log?: (line: string) => void
}

export interface ChaosScenarioResult {
  scenario: ChaosScenarioName
  sent: number
  acked: number
  /** never acked, even after the drain (the client kept resending) */
  unacked: number
  /** acked, but no row with that client_message_id and seq */
  ackedLost: number
  storedTwice: number
  /** holes in a chat's stored seqs */
  seqGaps: number
  /** the same seq delivered twice on one connection */
  deliveredTwice: number
  /** stored messages a participant never received, after the drain */
  undelivered: number
  /** fault end → first delivery of a message sent after it */
  resumeMs: number | null
  /** fault end → every message acked before it delivered to both participants */
  caughtUpMs: number | null
  /** per instance: /ready status changes, seconds from the fault's start */
  ready: string[]
  /** per instance: 'yes' (same process throughout, ready at the end), 'restarted' (killed on purpose, back), 'NO' */
  survived: string[]
  events: Record<string, number>
  pass: boolean
}

export interface ChaosResult {
  scenario: 'chaos'
  startedAt: string
  machine: Machine
  options: Record<string, unknown>
  results: ChaosScenarioResult[]
  table: string
  path: string | null
}

interface Instance {
  port: number
  handle: ChildHandle | null
  /** exits we did not cause */
  unexpectedExits: number
  killed: boolean
  logPath: string
}

class Cluster {
  readonly instances: Instance[] = []
  private readonly secret = randomBytes(32).toString('hex')
  readonly sign = createSigner({ key: this.secret, algorithm: 'HS256', expiresIn: 3600 * 1000 })

  constructor (private readonly env: Record<string, string>, private readonly work: string, private readonly serviceEntry?: string) {}

  async start (count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.instances.push({ port: await freePort(), handle: null, unexpectedExits: 0, killed: false, logPath: join(this.work, `instance-${i}.log`) })
    }
    await Promise.all(this.instances.map(async (_, i) => { await this.boot(i) }))
  }

  async boot (i: number): Promise<void> {
    const instance = this.instances[i] as Instance
    const file = this.serviceEntry === undefined ? entry('src/server') : { file: this.serviceEntry, execArgv: [] }
    const env = { ...serviceEnv(instance.port, this.secret, {}), ...this.env, LOG_LEVEL: 'warn' }
    const handle = spawnNode(file.file, file.execArgv, env, instance.logPath)
    instance.handle = handle
    void handle.exited.then(() => { if (instance.handle === handle && !instance.killed) instance.unexpectedExits++ })
    await waitReady(`http://127.0.0.1:${instance.port}`, '/ready', handle, instance.logPath, 60_000)
  }

  async kill (i: number): Promise<void> {
    const instance = this.instances[i] as Instance
    instance.killed = true
    instance.handle?.child.kill('SIGKILL')
    await instance.handle?.exited
  }

  async restart (i: number): Promise<void> {
    await this.boot(i)
    ;(this.instances[i] as Instance).killed = false
  }

  async stop (): Promise<void> {
    await Promise.all(this.instances.map(async (instance) => {
      const handle = instance.handle
      if (handle === null || handle.child.exitCode !== null || handle.child.signalCode !== null) return
      instance.killed = true
      handle.child.kill('SIGTERM')
      const timer = setTimeout(() => { handle.child.kill('SIGKILL') }, 10_000)
      await handle.exited
      clearTimeout(timer)
    }))
  }

  alive (i: number): boolean {
    const handle = this.instances[i]?.handle
    return handle != null && handle.child.exitCode === null && handle.child.signalCode === null
  }
}

/** Polls every instance's /ready and keeps the changes of status, relative to a zero the scenario sets at the fault. */
class ReadyWatch {
  private readonly changes: Array<Array<{ at: number, status: string }>>
  private stopped = false
  private readonly done: Promise<void>
  zero = performance.now()

  constructor (ports: number[]) {
    this.changes = ports.map(() => [])
    this.done = Promise.all(ports.map(async (port, i) => {
      const http = new HttpClient(`http://127.0.0.1:${port}`, 1)
      while (!this.stopped) {
        let status: string
        try {
          const reply = await http.json('GET', '/ready')
          status = String(reply.status)
        } catch {
          status = 'down'
        }
        const list = this.changes[i] as Array<{ at: number, status: string }>
        if (list.at(-1)?.status !== status) list.push({ at: performance.now(), status })
        await sleep(200)
      }
      http.close()
    })).then(() => {})
  }

  async stop (): Promise<string[]> {
    this.stopped = true
    await this.done
    return this.changes.map((list) => list.map(({ at, status }) => `${status}@${((at - this.zero) / 1000).toFixed(1)}s`).join(' → '))
  }
}

async function createChats (baseUrl: string, sign: (claims: Record<string, unknown>) => string, count: number, tag: string): Promise<ChaosChat[]> {
  const http = new HttpClient(baseUrl, 8)
  try {
    return await Promise.all(Array.from({ length: count }, async (_, i) => {
      const buyer = { userId: `chaos-buyer-${tag}-${i}`, token: sign({ sub: `chaos-buyer-${tag}-${i}` }) }
      const seller = { userId: `chaos-seller-${tag}-${i}`, token: sign({ sub: `chaos-seller-${tag}-${i}` }) }
      const reply = await http.json<{ id: string }>('POST', '/api/chat/chats', buyer.token, { listing_id: `chaos-${tag}-${i}`, seller_id: seller.userId })
      if (reply.status !== 201 && reply.status !== 200) throw new Error(`create chat: ${reply.status} ${JSON.stringify(reply.body)}`)
      return { id: reply.body.id, buyer, seller }
    }))
  } finally {
    http.close()
  }
}

/** What the database holds for these chats, against what the client was acked and received. */
async function audit (db: Db, client: ChaosClient, chats: ChaosChat[]): Promise<{ ackedLost: number, storedTwice: number, seqGaps: number, undelivered: number }> {
  const ids = chats.map((chat) => chat.id)
  // Taken before the query: every ack received by now was sent after its commit, so the query must see it. (Reading
  // the acks after the query would count one that arrived meanwhile as lost.)
  const acked = [...client.acked]
  const rows = await db.query<{ chat_id: string, seq: number, c: string | null }>(
    'SELECT chat_id, seq, client_message_id AS c FROM messages WHERE chat_id = ANY($1::uuid[]) ORDER BY chat_id, seq', [ids])
  const byCmid = new Map<string, number[]>()
  const seqsByChat = new Map<string, number[]>()
  for (const row of rows) {
    if (row.c !== null) byCmid.set(row.c, [...(byCmid.get(row.c) ?? []), row.seq])
    const list = seqsByChat.get(row.chat_id) ?? []
    list.push(row.seq)
    seqsByChat.set(row.chat_id, list)
  }
  let ackedLost = 0
  for (const [cmid, seq] of acked) {
    if ((byCmid.get(cmid) ?? []).includes(seq)) continue
    ackedLost++
    if (process.env.CHAOS_DEBUG !== undefined) process.stderr.write(`acked lost: ${cmid} acked as seq ${seq}, stored as ${JSON.stringify(byCmid.get(cmid) ?? null)}\n`)
  }
  let storedTwice = 0
  for (const seqs of byCmid.values()) if (seqs.length > 1) storedTwice += seqs.length - 1
  let seqGaps = 0
  let undelivered = 0
  chats.forEach((chat, c) => {
    const seqs = seqsByChat.get(chat.id) ?? []
    const last = seqs.at(-1) ?? 0
    seqGaps += last - seqs.length
    for (const socket of [client.sockets[c * 2], client.sockets[c * 2 + 1]]) {
      for (const seq of seqs) if (socket !== undefined && !socket.has(seq)) undelivered++
    }
  })
  return { ackedLost, storedTwice, seqGaps, undelivered }
}

type Settings = Required<Pick<ChaosOptions, 'databaseUrl' | 'redisUrl' | 'chats' | 'rate' | 'beforeMs' | 'faultMs' | 'afterMs' | 'drainMs'>> & { serviceEntry?: string }

async function runScenario (name: ChaosScenarioName, o: Settings, log: (line: string) => void): Promise<ChaosScenarioResult> {
  const work = mkdtempSync(join(tmpdir(), `chaos-${name}-`))
  const tag = `${name}-${Date.now().toString(36)}`
  const scratch = await createScratchDatabase(o.databaseUrl, `chaos_${process.pid}_${Date.now().toString(36)}`)
  const pgTarget = new URL(scratch.url)
  const redisTarget = new URL(o.redisUrl)
  const pgProxy = await FaultProxy.start({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) })
  const redisProxy = await FaultProxy.start({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) })
  const cluster = new Cluster({
    DATABASE_URL: pgProxy.urlFor(scratch.url),
    REDIS_URL: redisProxy.urlFor(o.redisUrl),
    REDIS_KEY_PREFIX: `chaos:${process.pid}:${tag}:`,
    PRESENCE_TTL_MS: '3000',
    PRESENCE_HEARTBEAT_MS: '1000'
  }, work, o.serviceEntry)
  let client: ChaosClient | null = null
  let ready: ReadyWatch | null = null
  try {
    await cluster.start(2)
    const bases = cluster.instances.map((instance) => `ws://127.0.0.1:${instance.port}`)
    const chats = await createChats(`http://127.0.0.1:${cluster.instances[0]?.port ?? 0}`, cluster.sign, o.chats, tag)
    const chaos = new ChaosClient(bases, chats, tag)
    client = chaos
    chaos.start()
    const openBy = performance.now() + 30_000
    while (!chaos.allOpen && performance.now() < openBy) await sleep(20)
    if (!chaos.allOpen) throw new Error(`${name}: not every socket opened`)
    ready = new ReadyWatch(cluster.instances.map((instance) => instance.port))

    // Traffic at a steady rate for the whole scenario; the fault starts and ends on the timeline.
    let sending = true
    const interval = 1000 / o.rate
    const traffic = (async () => {
      const t0 = performance.now()
      let n = 0
      // eslint-disable-next-line no-unmodified-loop-condition -- set to false by the timeline below, across an await
      while (sending) {
        const due = Math.floor((performance.now() - t0) / interval)
        for (; n < due; n++) chaos.sendNext()
        await sleep(Math.max(1, interval))
      }
    })()

    await sleep(o.beforeMs)
    log(`[${name}] fault`)
    const faultAt = performance.now()
    ready.zero = faultAt
    const restart: Array<Promise<void>> = []
    switch (name) {
      case 'kill-one': await cluster.kill(0); break
      case 'kill-both': await Promise.all([cluster.kill(0), cluster.kill(1)]); break
      case 'redis-cut': redisProxy.refuse(); redisProxy.cut(); break
      case 'postgres-cut':
        // The moment a statement is on its way, as in the report: connections die with queries in flight.
        await new Promise((resolve) => { pgProxy.once('upstream', resolve) })
        pgProxy.refuse()
        pgProxy.cut()
        break
      case 'postgres-blackhole': pgProxy.blackhole(); break
    }
    await sleep(Math.max(0, o.faultMs - (performance.now() - faultAt)))
    log(`[${name}] heal`)
    const healAt = performance.now()
    switch (name) {
      case 'kill-one': restart.push(cluster.restart(0)); break
      case 'kill-both': restart.push(cluster.restart(0), cluster.restart(1)); break
      case 'redis-cut': redisProxy.heal(); break
      default: pgProxy.heal()
    }
    const sentBeforeHeal = new Set([...chaos.unacked, ...chaos.acked.keys()])
    await Promise.all(restart)
    await sleep(o.afterMs)
    sending = false
    await traffic

    // Drain: the client keeps resending what is unacked (as it would) until everything is acked and delivered.
    const db = await openPostgres(scratch.url)
    let final = await audit(db, chaos, chats)
    const drainEnd = performance.now() + o.drainMs
    while ((chaos.pending > 0 || final.undelivered > 0) && performance.now() < drainEnd) {
      await sleep(250)
      final = await audit(db, chaos, chats)
    }
    await db.close()

    // Delivery timings, from the client's own clock.
    let resume: number | null = null
    let caughtUp = 0
    for (const [cmid, seq] of chaos.acked) {
      const [, index] = /-(\d+)$/.exec(cmid) ?? []
      const sender = Number(index) % chaos.sockets.length
      const receiver = chaos.sockets[sender % 2 === 0 ? sender + 1 : sender - 1]
      const at = receiver?.seenAt.get(seq)
      if (at === undefined) continue
      if (sentBeforeHeal.has(cmid)) caughtUp = Math.max(caughtUp, at - healAt)
      else if (resume === null || at - healAt < resume) resume = at - healAt
    }
    const readyLines = await ready.stop()
    ready = null
    const survived = cluster.instances.map((instance, i) => {
      if (!cluster.alive(i) || instance.unexpectedExits > 0) return 'NO'
      const killed = (name === 'kill-one' && i === 0) || name === 'kill-both'
      return killed ? 'restarted' : 'yes'
    })
    const readyAtEnd = readyLines.every((line) => line.endsWith('s') && line.split(' → ').at(-1)?.startsWith('200@') === true)
    const deliveredTwice = chaos.sockets.reduce((sum, socket) => sum + socket.duplicates, 0)
    const result: ChaosScenarioResult = {
      scenario: name,
      sent: chaos.sent,
      acked: chaos.acked.size,
      unacked: chaos.unacked.size,
      ...final,
      deliveredTwice,
      resumeMs: resume === null ? null : Math.max(0, Math.round(resume)),
      caughtUpMs: Math.max(0, Math.round(caughtUp)),
      ready: readyLines,
      survived,
      events: chaos.events,
      pass: false
    }
    result.pass = result.unacked === 0 && result.ackedLost === 0 && result.storedTwice === 0 && result.seqGaps === 0 &&
      result.deliveredTwice === 0 && result.undelivered === 0 && !survived.includes('NO') && readyAtEnd
    log(`[${name}] ${result.pass ? 'pass' : 'FAIL'}: ${JSON.stringify(result)}`)
    return result
  } finally {
    client?.stop()
    if (ready !== null) await ready.stop()
    await cluster.stop()
    await pgProxy.close()
    await redisProxy.close()
    await scratch.drop().catch(() => {})
    rmSync(work, { recursive: true, force: true })
  }
}

export async function chaos (opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? (() => {})
  const o = {
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    chats: opts.chats ?? 100,
    rate: opts.rate ?? 300,
    beforeMs: opts.beforeMs ?? 5000,
    faultMs: opts.faultMs ?? 10_000,
    afterMs: opts.afterMs ?? 10_000,
    drainMs: opts.drainMs ?? 30_000,
    serviceEntry: opts.serviceEntry
  }
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const results: ChaosScenarioResult[] = []
  for (const name of opts.scenarios ?? CHAOS_SCENARIOS) results.push(await runScenario(name, o, log))
  const rendered = table(
    ['scenario', 'sent', 'acked lost', 'stored twice', 'seq gaps', 'delivered twice', 'undelivered', 'resume ms', 'caught up ms', 'survived', 'pass'],
    results.map((r) => [r.scenario, r.sent, r.ackedLost, r.storedTwice, r.seqGaps, r.deliveredTwice, r.undelivered, r.resumeMs, r.caughtUpMs, r.survived.join(' / '), r.pass ? 'yes' : 'NO'])
  ) + '\n\n/ready (seconds from the fault):\n' + results.map((r) => r.ready.map((line, i) => `  ${r.scenario} instance ${i}: ${line}`).join('\n')).join('\n')
  const data = { scenario: 'chaos' as const, startedAt, machine, options: o, results, table: rendered }
  const path = opts.write === false ? null : writeResults(opts.resultsDir ?? defaultResultsDir(), 'chaos', data)
  return { ...data, path }
}

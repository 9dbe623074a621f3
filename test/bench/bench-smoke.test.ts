// Smoke run of every bench scenario with tiny numbers so the benchmark cannot rot; asserts correctness, never speed.
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { throughput } from '../../bench/scenarios/throughput.js'
import { capacity } from '../../bench/scenarios/capacity.js'
import { inbox } from '../../bench/scenarios/inbox.js'
import { reconnect } from '../../bench/scenarios/reconnect.js'
import { attachments } from '../../bench/scenarios/attachments.js'
import { sendStatement } from '../../bench/scenarios/send-statement.js'
import type { TargetKind } from '../../bench/lib/target.js'
import { postgresUrl } from '../fixtures/app.js'

// The relay baseline and the service on whichever backend the suite runs against, both inside this process:
// booting a child per scenario through the TypeScript loader would cost more than the whole smoke run.
const service: TargetKind = postgresUrl === null ? 'pglite' : 'postgres'
const targets: TargetKind[] = ['relay', service]
const common = { targets, inProcess: true, databaseUrl: postgresUrl ?? undefined }

function resultsDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function readJson (path: string): { scenario: string, machine: { cpus: number, node: string } } {
  return JSON.parse(readFileSync(path, 'utf8')) as { scenario: string, machine: { cpus: number, node: string } }
}

t.test('throughput: every scheduled message is acked once, delivered once and stored once', async (t) => {
  const r = await throughput({ ...common, resultsDir: resultsDir(t), rates: [40], chats: 4, warmupMs: 200, durationMs: 600, drainMs: 10_000 })
  t.same(r.targets.map(s => s.kind), targets)
  for (const sweep of r.targets) {
    const step = sweep.steps[0]
    t.ok(step, `${sweep.kind} ran a step`)
    if (!step) continue
    t.equal(step.sent, 32, `${sweep.kind}: 40/s for 0.8 s sent`)
    t.equal(step.notAcked, 0, `${sweep.kind}: nothing unacked`)
    t.equal(step.notDelivered, 0, `${sweep.kind}: nothing undelivered`)
    t.equal(step.duplicates, 0, `${sweep.kind}: nothing twice`)
    t.same(step.errors, {}, `${sweep.kind}: no error frames`)
    t.equal(sweep.seqGaps, 0, `${sweep.kind}: no seq gaps`)
    t.ok(step.deliver.count > 0, `${sweep.kind}: latencies recorded`)
    if (sweep.kind !== 'relay') {
      t.equal(step.ackedNotStored, 0, `${sweep.kind}: every ack is in the database`)
      t.equal(step.storedTwice, 0, `${sweep.kind}: no message stored twice`)
    }
  }
  t.equal(readJson(r.path).scenario, 'throughput', 'results file written')
  t.ok(readJson(r.path).machine.cpus > 0, 'results describe the machine')
})

t.test('throughput: the load client on worker threads or the main thread, and tail runs below the highest passing rate', async (t) => {
  // 3 workers over 4 chats: an uneven split, so one worker owns two chats and sends twice as many messages.
  // No latency bound (p99LimitMs far above any stall): a step passes on correctness alone, so a busy machine cannot
  // fail the smoke run, and the tail runs (which follow the highest passing rate) always happen.
  const runs: Array<[number, { tailAt?: number[], tailRates?: number[] }]> = [[0, { tailAt: [50] }], [3, { tailRates: [20] }]]
  for (const [clientWorkers, tail] of runs) {
    const r = await throughput({ ...common, ...tail, resultsDir: resultsDir(t), rates: [40], chats: 4, warmupMs: 200, durationMs: 600, drainMs: 10_000, clientWorkers, p99LimitMs: 600_000 })
    t.equal(r.options.clientWorkers, clientWorkers, `${clientWorkers} client workers recorded`)
    for (const sweep of r.targets) {
      const label = `${sweep.kind}, ${clientWorkers} workers`
      t.equal(sweep.maxPassingRate, 40, `${label}: the sweep's one rate passes (nothing lost, doubled or refused)`)
      t.equal(sweep.tail.length, 1, `${label}: one tail run`)
      t.same(sweep.tail.map(s => [s.rate, s.percentOfMax]), [[20, tail.tailAt === undefined ? null : 50]], `${label}: tail run at half the rate`)
      t.equal(sweep.seqGaps, 0, `${label}: no seq gaps`)
      for (const step of [...sweep.steps, ...sweep.tail]) {
        t.equal(step.sent, step.rate * 0.8, `${label} ${step.rate}/s: every scheduled message sent`)
        t.equal(step.notAcked + step.notDelivered + step.duplicates, 0, `${label} ${step.rate}/s: nothing lost or twice`)
        t.same(step.errors, {}, `${label} ${step.rate}/s: no error frames`)
        t.ok(step.deliver.p999 >= step.deliver.p99 && step.deliver.max >= step.deliver.p999, `${label} ${step.rate}/s: p99.9 between p99 and max`)
        t.ok(step.eventLoop !== null, `${label} ${step.rate}/s: event-loop delay read from /metrics`)
        if (sweep.kind !== 'relay') t.equal((step.ackedNotStored ?? 0) + (step.storedTwice ?? 0), 0, `${label} ${step.rate}/s: stored once each`)
      }
    }
  }
})

t.test('throughput: the event-loop delay is read from a service whose /metrics asks for METRICS_TOKEN', async (t) => {
  const r = await throughput({ ...common, targets: [service], serviceEnv: { METRICS_TOKEN: 'bench-smoke-metrics-token' }, resultsDir: resultsDir(t), rates: [20], chats: 2, warmupMs: 200, durationMs: 400, drainMs: 10_000, p99LimitMs: 600_000 })
  const step = r.targets[0]?.steps[0]
  t.ok(step !== undefined && step.eventLoop !== null, 'loop delay read with the token')
})

t.test('capacity: every idle chat and inbox socket connects', async (t) => {
  const r = await capacity({ ...common, resultsDir: resultsDir(t), connections: 16, concurrency: 8, holdMs: 100, settleMs: 100 })
  for (const c of r.targets) {
    t.equal(c.connections, 16, `${c.kind}: 16 sockets attempted`)
    t.equal(c.connected, 16, `${c.kind}: all connected`)
    t.same(c.errors, {}, `${c.kind}: no errors`)
    t.type(c.rssPerConnKB, 'number', `${c.kind}: RSS sampled`)
  }
  t.equal(readJson(r.path).scenario, 'capacity', 'results file written')
})

t.test('inbox: seeded reads answer 200 for every call', async (t) => {
  const r = await inbox({ ...common, resultsDir: resultsDir(t), chats: 40, messages: 400, sellerChats: 10, listings: 3, calls: 5, warmupCalls: 1 })
  const seeded = r.targets.find(x => x.kind === service)
  t.same(seeded?.seeded, { chats: 40, messages: 400 }, 'data set seeded as asked')
  for (const target of r.targets) {
    t.equal(target.endpoints.length, 6, `${target.kind}: six endpoints measured (the grouped inbox whole, page 1 and every page)`)
    for (const e of target.endpoints) {
      t.equal(e.errors, 0, `${target.kind} ${e.name}: no errors`)
      t.equal(e.latency.count, 5, `${target.kind} ${e.name}: 5 calls timed`)
    }
  }
  t.equal(readJson(r.path).scenario, 'inbox', 'results file written')
})

t.test('reconnect: dropped clients resume with after_seq and miss or repeat nothing', async (t) => {
  const r = await reconnect({ ...common, resultsDir: resultsDir(t), clients: 5, rate: 50, beforeMs: 300, afterMs: 700, drainMs: 10_000 })
  for (const c of r.targets) {
    t.equal(c.notCaughtUp, 0, `${c.kind}: every client caught up`)
    t.equal(c.reconnectFailures, 0, `${c.kind}: every client reconnected`)
    t.equal(c.notAcked + c.notDelivered + c.seqGaps, 0, `${c.kind}: nothing lost`)
    t.equal(c.duplicates, 0, `${c.kind}: nothing duplicated`)
    t.ok(c.sent > 0, `${c.kind}: traffic flowed`)
    if (c.kind !== 'relay') {
      t.equal(c.ackedNotStored, 0, `${c.kind}: every ack is in the database`)
      t.equal(c.storedTwice, 0, `${c.kind}: nothing stored twice`)
    }
  }
  t.equal(readJson(r.path).scenario, 'reconnect', 'results file written')
})

t.test('attachments: every photo upload is accepted, on the service and the relay floor', async (t) => {
  const r = await attachments({ ...common, resultsDir: resultsDir(t), uploads: 4, concurrency: 2, photoBytes: 64 * 1024 })
  t.same(r.targets.map(x => x.kind), targets)
  for (const x of r.targets) {
    t.equal(x.ok, 4, `${x.kind}: 4 uploads answered 201`)
    t.same(x.errors, {}, `${x.kind}: no errors`)
    t.equal(x.latency.count, 4, `${x.kind}: latencies recorded`)
  }
  t.equal(readJson(r.path).scenario, 'attachments', 'results file written')
})

t.test('send-statement: every batch is stored on each schema variant', { skip: postgresUrl === null ? 'measures PostgreSQL' : false }, async (t) => {
  const r = await sendStatement({ databaseUrl: postgresUrl ?? undefined, resultsDir: resultsDir(t), runs: 1, batches: 3, batchSize: 5, chats: 20 })
  t.same(r.measurements.map((m) => m.variant), ['as-is', 'no-activity-indexes'], 'each variant measured (a lost message throws)')
  t.equal(r.measurements[0]?.hotShare, 0, 'as migrated, a send moves an indexed column: no chat update is HOT')
  t.equal(readJson(r.path).scenario, 'send-statement', 'results file written')
})

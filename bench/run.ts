// CLI entry: `npm run bench -- <throughput|capacity|inbox|reconnect|startup|attachments> [options]`; prints the table, writes bench/results/*.json.
import { parseArgs } from 'node:util'
import { throughput } from './scenarios/throughput.js'
import { capacity } from './scenarios/capacity.js'
import { reconnect } from './scenarios/reconnect.js'
import { inbox } from './scenarios/inbox.js'
import { startup } from './scenarios/startup.js'
import { attachments } from './scenarios/attachments.js'
import { sendStatement, SCHEMA_VARIANTS, type SchemaVariant } from './scenarios/send-statement.js'
import { profileTop, renderProfileTop } from './profile-top.js'
import type { CommonOptions } from './lib/common.js'
import type { TargetKind } from './lib/target.js'

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios:
  throughput   rate sweep over N chats; highest rate with p99 send->deliver <= 50 ms and zero loss
  capacity     idle sockets (chat + inbox streams): RSS per connection, time to connect
  inbox        seeded database (1M messages / 100k chats): inbox, chat list, unread count, history page latency
  startup      spawn the built service on embedded PGlite (fresh and existing DATA_DIR): time to first 200 on /health
  reconnect    clients drop and resume with after_seq while traffic continues: time to catch up, loss, duplicates
  attachments  ~1 MB photo uploads: uploads/s and p99 against the relay's plain multipart upload that stores nothing
  send-statement  PostgreSQL CPU per message of the group-commit send statement, on schema variants (needs DATABASE_URL)
  profile FILE summarise a .cpuprofile written with --cpu-prof (self time by package and function)

common options:
  --targets relay,pglite,postgres,redis
                                    what to run (default relay and pglite; postgres when DATABASE_URL is set;
                                    redis, Postgres plus the scale-out Redis broker, when REDIS_URL is set too)
  --database-url URL                Postgres server for the postgres target (default: env DATABASE_URL);
                                    a scratch database is created on it and dropped afterwards
  --redis-url URL                   Redis for the redis target (default: env REDIS_URL); keys get a unique prefix
  --against URL                     drive an already running service speaking the same frames
  --secret S                        HS256 secret that service verifies (default: env AUTH_JWT_SECRET)
  --metrics-token T                 its METRICS_TOKEN, to read its event-loop delay (default: env METRICS_TOKEN)
  --results-dir DIR                 where the JSON goes (default bench/results)
  --cpu-prof DIR                    run the service with node --cpu-prof, profiles into DIR
  --service-entry FILE              run the service from another build's server.js (before/after a fix)
  --service-env NAME=VALUE          a setting for the service under test (repeatable), e.g. to compare a feature on and off
  --pg-setting NAME=VALUE           a PostgreSQL setting for the scratch database (repeatable), to find where time
                                    goes (e.g. synchronous_commit=off: what the commit's WAL flush costs); diagnosis only
  --wait-idle PCT                   before each target wait until other processes use < PCT % CPU (one core = 100)

throughput:  --rates 1000,2000,5000,...  --chats 1000  --warmup 3  --duration 10  --drain 10  --full-sweep
             --client-workers N   load client threads (default: cores - 1, 1..4; 0 = in the main thread)
             --tail               after the sweep, rerun each target at 25, 50 and 75 % of its highest passing rate
             --tail-at 25,50,75   those percentages (implies --tail)
             --tail-rates R,...   tail runs at these rates too, the same for every target
capacity:    --connections 10000  --concurrency 200
inbox:       --messages 1000000  --chat-count 100000  --seller-chats 2000  --listings 300  --calls 1000
startup:     --runs 5   (with --service-entry to time another build)
reconnect:   --clients 1000  --rate 1000  --before 3  --after 5
attachments: --uploads 200  --concurrency 8
send-statement: --variants as-is,no-activity-indexes,no-buyer-activity-index,no-inbox-counts-trigger  --runs 3  --batches 300  --batch-size 50  --chats 1000`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    targets: { type: 'string' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    against: { type: 'string' },
    secret: { type: 'string' },
    'metrics-token': { type: 'string' },
    'results-dir': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'wait-idle': { type: 'string' },
    'service-entry': { type: 'string' },
    'service-env': { type: 'string', multiple: true },
    'pg-setting': { type: 'string', multiple: true },
    variants: { type: 'string' },
    'batch-size': { type: 'string' },
    batches: { type: 'string' },
    rates: { type: 'string' },
    chats: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    drain: { type: 'string' },
    'full-sweep': { type: 'boolean' },
    'client-workers': { type: 'string' },
    tail: { type: 'boolean' },
    'tail-at': { type: 'string' },
    'tail-rates': { type: 'string' },
    connections: { type: 'string' },
    concurrency: { type: 'string' },
    messages: { type: 'string' },
    'chat-count': { type: 'string' },
    'seller-chats': { type: 'string' },
    listings: { type: 'string' },
    calls: { type: 'string' },
    clients: { type: 'string' },
    runs: { type: 'string' },
    rate: { type: 'string' },
    before: { type: 'string' },
    after: { type: 'string' },
    uploads: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${v}`)
  return n
}
const list = (v: string): number[] => v.split(',').map(x => num(x.trim()) as number)
const secs = (v: string | undefined): number | undefined => { const n = num(v); return n === undefined ? undefined : n * 1000 }

/** --service-env NAME=VALUE (repeatable): a setting for the service under test, to compare it on and off. */
function serviceEnvOf (pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined) return undefined
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at < 1) throw new Error(`--service-env and --pg-setting take NAME=VALUE, not ${pair}`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return env
}

const scenario = positionals[0]
if (values.help || !scenario) {
  process.stdout.write(USAGE + '\n')
  process.exit(scenario ? 0 : 1)
}

if (scenario === 'profile') {
  const file = positionals[1]
  if (!file) { process.stderr.write('usage: npm run bench -- profile <file.cpuprofile>\n'); process.exit(1) }
  process.stdout.write(renderProfileTop(profileTop(file)) + '\n')
  process.exit(0)
}

const TARGET_KINDS: TargetKind[] = ['relay', 'pglite', 'postgres', 'redis']
const targets = values.targets?.split(',').map(s => s.trim()).filter(Boolean)
const unknownTargets = (targets ?? []).filter(k => !TARGET_KINDS.includes(k as TargetKind))
if (unknownTargets.length > 0) {
  process.stderr.write(`unknown target(s) ${unknownTargets.join(', ')}; choose from ${TARGET_KINDS.join(', ')}\n`)
  process.exit(1)
}

const common: CommonOptions = {
  targets: targets as TargetKind[] | undefined,
  databaseUrl: values['database-url'] ?? process.env.DATABASE_URL,
  redisUrl: values['redis-url'] ?? process.env.REDIS_URL,
  against: values.against,
  secret: values.secret ?? process.env.AUTH_JWT_SECRET,
  metricsToken: values['metrics-token'] ?? process.env.METRICS_TOKEN,
  resultsDir: values['results-dir'],
  cpuProfDir: values['cpu-prof'],
  waitIdlePct: num(values['wait-idle']),
  serviceEntry: values['service-entry'],
  serviceEnv: serviceEnvOf(values['service-env']),
  pgSettings: serviceEnvOf(values['pg-setting']),
  log: (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)
}

let out: { table: string, path: string }
try {
  switch (scenario) {
    case 'throughput':
      out = await throughput({
        ...common,
        rates: values.rates?.split(',').map(Number),
        chats: num(values.chats),
        warmupMs: secs(values.warmup),
        durationMs: secs(values.duration),
        drainMs: secs(values.drain),
        fullSweep: values['full-sweep'],
        clientWorkers: num(values['client-workers']),
        tailAt: values['tail-at'] !== undefined ? list(values['tail-at']) : values.tail === true ? [25, 50, 75] : undefined,
        tailRates: values['tail-rates'] !== undefined ? list(values['tail-rates']) : undefined
      })
      break
    case 'capacity':
      out = await capacity({ ...common, connections: num(values.connections), concurrency: num(values.concurrency) })
      break
    case 'inbox':
      out = await inbox({
        ...common,
        messages: num(values.messages),
        chats: num(values['chat-count']),
        sellerChats: num(values['seller-chats']),
        listings: num(values.listings),
        calls: num(values.calls)
      })
      break
    case 'attachments':
      out = await attachments({ ...common, uploads: num(values.uploads), concurrency: num(values.concurrency) })
      break
    case 'send-statement': {
      const variants = values.variants?.split(',')
      const unknown = variants?.filter((v) => !(v in SCHEMA_VARIANTS)) ?? []
      if (unknown.length > 0) throw new Error(`unknown --variants ${unknown.join(', ')} (known: ${Object.keys(SCHEMA_VARIANTS).join(', ')})`)
      out = await sendStatement({
        ...common,
        variants: variants as SchemaVariant[] | undefined,
        runs: num(values.runs),
        batches: num(values.batches),
        batchSize: num(values['batch-size']),
        chats: num(values.chats)
      })
      break
    }
    case 'startup':
      out = await startup({ ...common, runs: num(values.runs) })
      break
    case 'reconnect':
      out = await reconnect({
        ...common,
        clients: num(values.clients),
        rate: num(values.rate),
        beforeMs: secs(values.before),
        afterMs: secs(values.after),
        drainMs: secs(values.drain)
      })
      break
    default:
      process.stderr.write(`unknown scenario "${scenario}"\n\n${USAGE}\n`)
      process.exit(1)
  }
} catch (err) {
  // driver errors (pg, PGlite) carry the whole query text; the message is what helps
  process.stderr.write(`bench ${scenario} failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
process.stdout.write(`\n${out.table}\n\nresults: ${out.path}\n`)
// sockets and agents are closed; exit explicitly so a stray keep-alive timer cannot hold the run open
process.exit(0)

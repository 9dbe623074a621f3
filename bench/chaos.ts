// CLI entry: `npm run chaos [-- options]`; runs the fault scenarios against two instances, prints the table, writes bench/results/chaos-*.json.
import { parseArgs } from 'node:util'
import { chaos, CHAOS_SCENARIOS, type ChaosScenarioName } from './scenarios/chaos.js'

const USAGE = `usage: npm run chaos [-- options]

Two service instances on real PostgreSQL and Redis, each server reached through a fault-injecting TCP proxy, under
steady traffic from a client that follows the documented rules. Needs DATABASE_URL and REDIS_URL (a scratch database
and a key prefix are used; the servers themselves are never stopped).

options:
  --scenarios ${CHAOS_SCENARIOS.join(',')}
  --chats 100        --rate 300 (msg/s)
  --before 5         --fault 10         --after 10        --drain 30   (seconds)
  --short            the CI version: 20 chats, 100 msg/s, 2 s before, 3 s fault, 3 s after`

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    chats: { type: 'string' },
    rate: { type: 'string' },
    before: { type: 'string' },
    fault: { type: 'string' },
    after: { type: 'string' },
    drain: { type: 'string' },
    short: { type: 'boolean' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'results-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})

if (values.help === true) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL
const redisUrl = values['redis-url'] ?? process.env.REDIS_URL
if (databaseUrl === undefined || redisUrl === undefined) {
  process.stderr.write(`chaos needs DATABASE_URL and REDIS_URL\n\n${USAGE}\n`)
  process.exit(2)
}
const num = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v)
const secs = (v: string | undefined): number | undefined => v === undefined ? undefined : Number(v) * 1000
const scenarios = values.scenarios?.split(',') as ChaosScenarioName[] | undefined
for (const name of scenarios ?? []) {
  if (!CHAOS_SCENARIOS.includes(name)) {
    process.stderr.write(`unknown scenario ${name}\n\n${USAGE}\n`)
    process.exit(2)
  }
}
const short = values.short === true ? { chats: 20, rate: 100, beforeMs: 2000, faultMs: 3000, afterMs: 3000, drainMs: 20_000 } : {}
const result = await chaos({
  databaseUrl,
  redisUrl,
  scenarios,
  ...short,
  ...(values.chats === undefined ? {} : { chats: num(values.chats) }),
  ...(values.rate === undefined ? {} : { rate: num(values.rate) }),
  ...(values.before === undefined ? {} : { beforeMs: secs(values.before) }),
  ...(values.fault === undefined ? {} : { faultMs: secs(values.fault) }),
  ...(values.after === undefined ? {} : { afterMs: secs(values.after) }),
  ...(values.drain === undefined ? {} : { drainMs: secs(values.drain) }),
  resultsDir: values['results-dir'],
  log: (line) => { process.stderr.write(`${line}\n`) }
})
process.stdout.write(`${result.table}\n\nresults: ${result.path ?? '(not written)'}\n`)
process.exit(result.results.every((r) => r.pass) ? 0 : 1)

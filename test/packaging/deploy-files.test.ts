// The deployment files stay true: compose wires postgres and the service as documented, and .env.example and the
// environment table in docs/deploying.md list every variable src/config.ts reads, with the defaults it really uses.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { parseConfig, type Env } from '../../src/config.js'
import { projectRoot } from '../fixtures/child-server.js'
import { loadDoc, tableIn } from '../fixtures/markdown.js'

const read = async (path: string): Promise<string> => await readFile(join(projectRoot, path), 'utf8')

const configVariables = [...(await read('src/config.ts')).matchAll(/reader\.\w+\('([A-Z0-9_]+)'/g)].map((match) => match[1] as string)
const envExample = await read('.env.example')
// docs/deploying.md holds the one environment table; its first column names each variable.
const environmentTable = tableIn(loadDoc('docs/deploying.md'), 'Environment')
const composeText = await read('docker-compose.yml')
const compose = parse(composeText) as { services: Record<string, Record<string, any>>, volumes: Record<string, unknown> }

/** `NAME=value` lines, active or commented out. */
function assignments (text: string): Array<{ name: string, value: string, commented: boolean }> {
  return [...text.matchAll(/^(# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => ({ name: match[2] as string, value: match[3] as string, commented: match[1] !== undefined }))
}

t.test('every variable the service reads is in .env.example and the environment table', async (t) => {
  t.ok(configVariables.length >= 35, `read ${configVariables.length} variables from src/config.ts`)
  const listed = new Set(assignments(envExample).map((line) => line.name))
  const documented = new Set(environmentTable.map((row) => row.code[0]?.[0]))
  t.same(configVariables.filter((name) => !listed.has(name)), [], 'missing from .env.example')
  t.same(configVariables.filter((name) => !documented.has(name)), [], 'missing from the environment table in docs/deploying.md')
  t.same([...listed].filter((name) => !documented.has(name)), [], '.env.example entries without a row in the environment table')
  t.same([...documented].filter((name) => name === undefined || (!configVariables.includes(name) && !listed.has(name))), [], 'rows for variables neither the service nor compose reads')
})

t.test('.env.example holds no secret values and its commented defaults are the real ones', async (t) => {
  const lines = assignments(envExample)
  for (const line of lines.filter((candidate) => !candidate.commented)) t.equal(line.value, '', `${line.name} is left for the operator to fill in`)

  // What docker compose gives the service, with the secrets filled in.
  const composeEnv: Env = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://chat:password@postgres:5432/chat',
    AUTH_JWT_SECRET: 'a'.repeat(40),
    ANON_TOKEN_SECRET: 'b'.repeat(40)
  }
  const baseline = parseConfig(composeEnv)
  t.ok(baseline.ok)
  // Variables compose sets itself win over .env, so their lines only describe other deployments.
  const setByCompose = Object.keys(compose.services.chat?.environment ?? {})
  t.ok(setByCompose.includes('DATABASE_URL'))
  for (const line of lines.filter((candidate) => candidate.commented && configVariables.includes(candidate.name) && !setByCompose.includes(candidate.name))) {
    t.same(parseConfig({ ...composeEnv, [line.name]: line.value }), baseline, `# ${line.name}=${line.value} is what the service uses when unset`)
  }
})

t.test('docker-compose.yml: postgres first and healthy, then the service from the Dockerfile with .env', async (t) => {
  const { postgres, chat } = compose.services
  t.match(postgres?.image, /^postgres:\d+/)
  const volume = String(postgres?.volumes?.[0]).split(':')[0] as string
  t.ok(volume in compose.volumes, `postgres data lives in the named volume ${volume}`)
  t.match(postgres?.healthcheck?.test.join(' '), /pg_isready/)

  t.ok(chat?.build === '.' || chat?.build?.context === '.', 'built from the Dockerfile')
  t.same(chat?.depends_on, { postgres: { condition: 'service_healthy' } })
  t.same([chat?.env_file].flat(), ['.env'])
  t.ok(chat?.ports.some((port: string) => String(port).endsWith(':4000')), 'publishes port 4000')
  t.match(chat?.healthcheck?.test.join(' '), /fetch\('http:\/\/127\.0\.0\.1:4000\/(health|ready)'\)/)
  t.match(chat?.environment?.DATABASE_URL, /^postgres:\/\/chat:\$\{POSTGRES_PASSWORD\}@postgres:5432\/chat$/)

  const grace = /^(\d+)s$/.exec(String(chat?.stop_grace_period))
  const defaults = parseConfig({})
  t.ok(grace !== null && defaults.ok && Number(grace[1]) * 1000 > defaults.config.shutdownTimeoutMs, 'Docker waits longer than the service drains')

  const interpolated = [...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1] as string)
  const listed = new Set(assignments(envExample).map((line) => line.name))
  t.same(interpolated.filter((name) => !listed.has(name)), [], 'every ${VARIABLE} compose reads is in .env.example') // eslint-disable-line no-template-curly-in-string -- the compose syntax, as text
})

// Starts what a scenario drives - the chat service (PGlite or Postgres) or the ws relay - as a child process on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { createScratchDatabase, kyselyDb, openPglite, openPostgres, type Db } from './db.js'
import { HttpClient, sleep } from './http.js'

export type TargetKind = 'relay' | 'pglite' | 'postgres' | 'redis' | 'external'

/** Targets whose data lives in Postgres (CPU of the postgres processes is sampled with the service's). */
export const onPostgres = (kind: TargetKind): boolean => kind === 'postgres' || kind === 'redis'

export interface TargetOptions {
  kind: TargetKind
  /** Postgres server to create a scratch database on (kinds postgres and redis) */
  databaseUrl?: string
  /** Redis server for the scale-out broker and presence (kind redis) */
  redisUrl?: string
  /** use this database as is instead of a scratch one (kind postgres / external checks) */
  useDatabaseAsIs?: boolean
  /** base URL of an already running service (kind external) */
  url?: string
  /** JWT secret the external service verifies with */
  secret?: string
  /** METRICS_TOKEN the external service's /metrics asks for */
  metricsToken?: string
  /** write a V8 CPU profile of the child into this directory */
  cpuProfDir?: string
  /** extra env for the child (e.g. feature flags while comparing fixes) */
  env?: Record<string, string>
  /** where temp dirs and logs go */
  workDir?: string
  /**
   * Run the service (buildApp) or relay inside this process instead of a child. Only for the smoke test:
   * it shares the client's event loop and CPU figures, but skips compiling and booting a process per scenario.
   */
  inProcess?: boolean
  /** run the service from this server.js instead of this checkout's (before/after comparisons of a fix) */
  serviceEntry?: string
  /**
   * PostgreSQL settings for the scratch database (ALTER DATABASE … SET), to find where time goes, e.g.
   * synchronous_commit=off to see what waiting for the WAL flush costs. Never how the service should run.
   */
  pgSettings?: Record<string, string>
}

export interface Target {
  kind: TargetKind
  baseUrl: string
  wsBase: string
  /** the process to sample, when we own it */
  pid: number | null
  token: (userId: string) => string
  http: HttpClient
  /** Bearer token for the target's /metrics when the service requires one (METRICS_TOKEN), else null. */
  metricsToken: string | null
  /**
   * Runs fn on the target's database (seeding, end-of-run checks). A PGlite child is stopped first - one process
   * per data directory - and started again when `restart` is set. Null when there is no database to reach.
   */
  useDb: <T>(fn: (db: Db) => Promise<T>, opts?: { restart?: boolean }) => Promise<T | null>
  /** free text about the database (version, where) for the results file */
  database: string
  stop: () => Promise<void>
  /** remove temp data and scratch databases */
  dispose: () => Promise<void>
  logPath: string | null
}

const here = fileURLToPath(import.meta.url)
// Compiled: dist/bench/lib/target.js; under tap: bench/lib/target.ts run through the TypeScript loader.
const fromSource = here.endsWith('.ts')
export const repoRoot = fromSource ? resolve(dirname(here), '../..') : resolve(dirname(here), '../../..')

/** The service as `npm start` and the image run it: the bundle (scripts/build-server.ts); its sources under tap. */
function serviceFile (): { file: string, execArgv: string[] } {
  return entry(fromSource ? 'src/server' : 'server/server')
}

export function entry (rel: string): { file: string, execArgv: string[] } {
  return fromSource
    ? { file: join(repoRoot, `${rel}.ts`), execArgv: process.execArgv.filter(a => /typescript|ts-node|tsx|tsimp/.test(a)) }
    : { file: join(repoRoot, 'dist', `${rel}.js`), execArgv: [] }
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

export interface ChildHandle { child: ChildProcess, exited: Promise<number | null> }

export function spawnNode (file: string, execArgv: string[], env: Record<string, string>, logPath: string, cpuProfDir?: string): ChildHandle {
  const fd = openSync(logPath, 'a')
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const childEnv: Record<string, string> = { ...process.env as Record<string, string>, ...env }
  // tap's process tracking must not follow the service
  delete childEnv.NODE_OPTIONS
  // the target decides where the service stores data: a DATABASE_URL exported for the postgres target must not
  // turn the pglite target into a second postgres run
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'DATA_DIR']) if (!(name in env)) delete childEnv[name]
  const child = spawn(process.execPath, [...execArgv, ...prof, file], { env: childEnv, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  return { child, exited }
}

export async function waitReady (baseUrl: string, readyPath: string, handle: ChildHandle, logPath: string, timeoutMs: number): Promise<void> {
  const http = new HttpClient(baseUrl, 1)
  let exited = false
  void handle.exited.then(() => { exited = true })
  const end = performance.now() + timeoutMs
  try {
    for (;;) {
      if (exited) throw new Error(`child exited before listening; log tail:\n${tail(logPath)}`)
      try {
        const res = await http.json('GET', readyPath)
        if (res.status === 200) return
      } catch { /* not listening yet */ }
      if (performance.now() > end) throw new Error(`child not ready after ${timeoutMs} ms; log tail:\n${tail(logPath)}`)
      await sleep(50)
    }
  } finally { http.close() }
}

function tail (path: string): string {
  try { return readFileSync(path, 'utf8').split('\n').slice(-30).join('\n') } catch { return '(no log)' }
}

async function stopChild (handle: ChildHandle | null): Promise<void> {
  if (!handle || handle.child.exitCode !== null || handle.child.signalCode !== null) return
  handle.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const killed = await Promise.race([
    handle.exited.then(() => false),
    new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), 15_000) })
  ])
  clearTimeout(timer)
  if (killed) {
    handle.child.kill('SIGKILL')
    await handle.exited
  }
}

/** Env for the chat service child; the names come from src/config.ts on main. */
export function serviceEnv (port: number, secret: string, storage: { databaseUrl?: string, dataDir?: string }): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    AUTH_JWT_SECRET: secret,
    ANON_TOKEN_SECRET: `anon-${secret}`,
    // the per-connection flood guard is for hostile clients; the bench is a trusted client that spreads load over chats
    WS_MESSAGE_RATE: '1000',
    WS_MESSAGE_BURST: '1000',
    // one bench IP creates thousands of chats and makes thousands of inbox calls
    RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000000',
    RATE_LIMIT_SEND_PER_MINUTE: '1000000',
    RATE_LIMIT_API_PER_MINUTE: '10000000',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
    ATTACHMENTS_PER_HOUR: '1000000'
  }
  if (storage.databaseUrl) env.DATABASE_URL = storage.databaseUrl
  if (storage.dataDir) env.DATA_DIR = storage.dataDir
  return env
}

export async function startTarget (opts: TargetOptions): Promise<Target> {
  const work = mkdtempSync(join(opts.workDir ?? tmpdir(), `chatbench-${opts.kind}-`))
  const secret = opts.secret ?? randomBytes(32).toString('hex')
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: 6 * 3600 * 1000 })
  const token = (userId: string): string => sign({ sub: userId })

  if (opts.kind === 'external') {
    if (!opts.url) throw new Error('--against needs a URL')
    const baseUrl = opts.url.replace(/\/$/, '')
    const http = new HttpClient(baseUrl, 64)
    const dbUrl = opts.databaseUrl
    return {
      kind: 'external',
      baseUrl,
      wsBase: baseUrl.replace(/^http/, 'ws'),
      pid: null,
      token,
      http,
      metricsToken: opts.metricsToken ?? null,
      useDb: async (fn) => dbUrl ? await withDb(await openPostgres(dbUrl), fn) : null,
      database: dbUrl ? 'postgres (given)' : 'unknown (no --database-url, storage checks skipped)',
      stop: async () => {},
      dispose: async () => { http.close(); rmSync(work, { recursive: true, force: true }) },
      logPath: null
    }
  }

  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const logPath = join(work, `${opts.kind}.log`)
  let env: Record<string, string>
  let file: { file: string, execArgv: string[] }
  let database = 'none'
  let openDb: (() => Promise<Db>) | null = null
  let exclusive = false
  let dropDb: (() => Promise<void>) | null = null

  if (opts.kind === 'relay') {
    file = entry('bench/relay')
    env = { PORT: String(port), HOST: '127.0.0.1' }
  } else if (opts.kind === 'pglite') {
    file = opts.serviceEntry ? { file: opts.serviceEntry, execArgv: [] } : serviceFile()
    const dataDir = join(work, 'data')
    env = serviceEnv(port, secret, { dataDir })
    database = 'PGlite (embedded, in the service process)'
    // the service keeps its PGlite files in DATA_DIR/pglite (src/db/database.ts)
    openDb = async () => await openPglite(join(dataDir, 'pglite'))
    exclusive = true
  } else {
    if (!opts.databaseUrl) throw new Error(`${opts.kind} target needs DATABASE_URL`)
    file = opts.serviceEntry ? { file: opts.serviceEntry, execArgv: [] } : serviceFile()
    let url = opts.databaseUrl
    if (!opts.useDatabaseAsIs) {
      const name = `chatbench_${process.pid}_${Date.now().toString(36)}`
      const scratch = await createScratchDatabase(opts.databaseUrl, name)
      url = scratch.url
      dropDb = scratch.drop
      const settings = Object.entries(opts.pgSettings ?? {})
      if (settings.length > 0) {
        const admin = await openPostgres(opts.databaseUrl)
        try {
          for (const [key, value] of settings) {
            if (!/^[a-z_]+$/.test(key)) throw new Error(`--pg-setting: "${key}" is not a setting name`)
            await admin.exec(`ALTER DATABASE ${name} SET ${key} = '${value.replace(/'/g, "''")}'`)
          }
        } finally { await admin.close() }
      }
    }
    env = serviceEnv(port, secret, { databaseUrl: url })
    database = 'PostgreSQL (scratch database)'
    if (opts.kind === 'redis') {
      // every message, typing and presence event goes through Redis, as it does between several instances
      env.REDIS_URL = opts.redisUrl ?? 'redis://127.0.0.1:6379'
      env.REDIS_KEY_PREFIX = `chatbench:${process.pid}:${port}:`
      database += ' + Redis broker and presence'
    }
    openDb = async () => await openPostgres(url)
  }
  Object.assign(env, opts.env ?? {})

  const proc = opts.inProcess ? inProcess(opts.kind, port, env) : childProcess(file, env, logPath, opts, baseUrl)
  await proc.start()
  const useDb = async <T>(fn: (db: Db) => Promise<T>, o: { restart?: boolean } = {}): Promise<T | null> => {
    // in process, the app's own connection is the database (PGlite may even be in memory)
    const own = proc.db?.()
    if (own) return await fn(own)
    if (openDb === null) return null
    if (!exclusive) return await withDb(await openDb(), fn)
    await proc.stop()
    try { return await withDb(await openDb(), fn) } finally { if (o.restart) await proc.start() }
  }
  const http = new HttpClient(baseUrl, 64)
  const target: Target = {
    kind: opts.kind,
    baseUrl,
    wsBase: `ws://127.0.0.1:${port}`,
    get pid () { return proc.pid() },
    token,
    http,
    metricsToken: env.METRICS_TOKEN ?? null,
    useDb,
    database,
    stop: async () => { await proc.stop() },
    dispose: async () => {
      http.close()
      await proc.stop()
      if (dropDb) await dropDb().catch(() => {})
      rmSync(work, { recursive: true, force: true })
    },
    logPath
  }
  return target
}

interface Runner {
  start: () => Promise<void>
  stop: () => Promise<void>
  pid: () => number | null
  /** the running in-process app's database, when there is one */
  db?: () => Db | null
}

async function withDb<T> (db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  try { return await fn(db) } finally { await db.close() }
}

function childProcess (file: { file: string, execArgv: string[] }, env: Record<string, string>, logPath: string, opts: TargetOptions, baseUrl: string): Runner {
  let handle: ChildHandle | null = null
  return {
    start: async () => {
      handle = spawnNode(file.file, file.execArgv, env, logPath, opts.cpuProfDir)
      await waitReady(baseUrl, opts.kind === 'relay' ? '/health' : '/ready', handle, logPath, 120_000)
    },
    stop: async () => { await stopChild(handle); handle = null },
    pid: () => handle?.child.pid ?? null
  }
}

function inProcess (kind: TargetKind, port: number, env: Record<string, string>): Runner {
  let close: (() => Promise<void>) | null = null
  let db: Db | null = null
  return {
    db: () => db,
    start: async () => {
      if (kind === 'relay') {
        const { startRelay } = await import('../relay.js')
        const relay = await startRelay(port)
        close = relay.close
        return
      }
      const [{ buildApp }, { parseConfig }] = await Promise.all([import('../../src/app.js'), import('../../src/config.js')])
      const parsed = parseConfig(env)
      if (!parsed.ok) throw new Error(`service config: ${parsed.errors.join('; ')}`)
      const config = parsed.config
      // nothing outside this process needs the files: keep PGlite in memory
      if (config.database.kind === 'pglite') config.database = { kind: 'pglite', dataDir: null }
      const app = await buildApp(config)
      await app.listen({ port, host: '127.0.0.1' })
      db = kyselyDb(app.db)
      close = async () => { await app.close() }
    },
    stop: async () => { const c = close; close = null; db = null; if (c) await c() },
    pid: () => close === null ? null : process.pid
  }
}

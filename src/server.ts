// Owns the process: reads the environment, builds and starts the app, and shuts it down on signals.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { parseConfig } from './config.js'

/** What went wrong, in words: a thrown non-Error (PGlite's errors are plain objects) still has its message shown. */
const describe = (error: unknown): string =>
  error instanceof Error ? error.message : typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : String(error)

async function main (): Promise<void> {
  const parsed = parseConfig({ LOG_PRETTY: process.stdout.isTTY ? 'true' : 'false', ...process.env })
  if (!parsed.ok) {
    for (const line of parsed.errors) process.stderr.write(`config error: ${line}\n`)
    process.exit(1)
  }
  const { config } = parsed

  let app
  try {
    // The embedded database opens after listen: /health answers at once, /ready once PGlite has started.
    app = await buildApp(config, { openDatabaseInBackground: config.database.kind === 'pglite' })
  } catch (error) {
    process.stderr.write(`startup failed: ${describe(error)}\n`)
    process.exit(1)
  }

  let stopping = false
  // app.close() stops accepting, lets preClose hooks close WebSockets (1001), waits for in-flight requests, then closes
  // the database and broker; a close that hangs past the bound exits 1 anyway so the orchestrator never has to SIGKILL.
  closeWithGrace({
    delay: config.shutdownTimeoutMs,
    logger: { error: (message: unknown) => { app.log.error(message) } },
    onTimeout: (delay) => { app.log.error({ timeoutMs: delay }, 'shutdown did not finish in time; exiting anyway') }
  }, async ({ signal, err }) => {
    stopping = true
    if (err !== undefined) app.log.error({ err }, 'shutting down after an unexpected error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (error) {
    app.log.error({ err: error }, 'cannot listen')
    process.stderr.write(`cannot listen on ${config.host}:${config.port}: ${describe(error)}\n`)
    await app.close()
    process.exit(1)
  }

  try {
    await app.databaseReady
  } catch (error) {
    // Stopped while the embedded database was still opening (a deploy, a scale-down): a clean shutdown, not a failure.
    if (stopping) return
    app.log.error({ err: error }, 'cannot open the database')
    process.stderr.write(`startup failed: ${describe(error)}\n`)
    await app.close()
    process.exit(1)
  }
  app.log.info('database open; serving every route')
}

await main()

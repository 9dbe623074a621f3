// Owns the process: reads the environment, builds and starts the app, and shuts it down on signals.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { parseConfig } from './config.js'

async function main (): Promise<void> {
  const parsed = parseConfig({ LOG_PRETTY: process.stdout.isTTY ? 'true' : 'false', ...process.env })
  if (!parsed.ok) {
    for (const line of parsed.errors) process.stderr.write(`config error: ${line}\n`)
    process.exit(1)
  }
  const { config } = parsed

  let app
  try {
    app = await buildApp(config)
  } catch (error) {
    process.stderr.write(`startup failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }

  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an unexpected error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (error) {
    app.log.error({ err: error }, 'cannot listen')
    process.stderr.write(`cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}\n`)
    await app.close()
    process.exit(1)
  }
}

await main()

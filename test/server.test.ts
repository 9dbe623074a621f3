// The compiled server as a process: SIGTERM drains in-flight sends and exits 0; a close that hangs still exits at the bound.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import WebSocket from 'ws'
import { postgresUrl } from './fixtures/app.js'
import { compileCopy, isolatedDatabase, productionEnv, run, startServer, type ChildServer } from './fixtures/child-server.js'

// Compiling and starting real processes is slow on a shared 2-core machine.
t.setTimeout(300_000)

// npm run build also bundles the front-end (scripts/build-web.ts: web/ into static/).
const build = await compileCopy(t)

const NO_LIMITS = { RATE_LIMIT_SEND_PER_MINUTE: '1000000', RATE_LIMIT_API_PER_MINUTE: '1000000', WS_MESSAGE_RATE: '1000000', WS_MESSAGE_BURST: '1000000' }

interface Acked { id: string, seq: number }

/** A chat socket that sends the next message as soon as the previous one is acked, until the server closes it. */
async function webSocketSender (url: string): Promise<{ acked: Map<string, Acked>, closed: Promise<number> }> {
  const ws = new WebSocket(url)
  const acked = new Map<string, Acked>()
  let next = 0
  const sendNext = (): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'message', message_text: `over ws ${next}`, client_message_id: `w-${next++}` }))
  }
  ws.on('error', () => {})
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string, complete?: boolean, client_message_id?: string, message?: Acked }
    if (frame.type === 'history' && frame.complete === true) sendNext()
    if (frame.type === 'ack' && frame.message !== undefined) {
      acked.set(frame.client_message_id as string, { id: frame.message.id, seq: frame.message.seq })
      sendNext()
    }
  })
  const closed = new Promise<number>((resolve) => { ws.on('close', (code) => { resolve(code) }) })
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('unexpected-response', () => { reject(new Error('upgrade refused')) }) })
  return { acked, closed }
}

async function post (server: ChildServer, path: string, body: unknown, token?: string): Promise<Response> {
  return await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body)
  })
}

t.test('SIGTERM while clients send over REST and WebSocket: every acknowledged message is stored, sockets get 1001, exit 0', async (t) => {
  const database = await isolatedDatabase(t)
  const server = await startServer(t, { cwd: build, command: ['node', 'dist/server/server.js'], env: productionEnv(database, NO_LIMITS) })

  const session = await (await post(server, '/api/chat/anonymous', {})).json() as { token: string }
  const opened = await post(server, '/api/chat/chats', { listing_id: 'L1', seller_id: 'seller-1' }, session.token)
  t.equal(opened.status, 201)
  const chat = await opened.json() as { id: string }

  const socket = await webSocketSender(`${server.url.replace(/^http/, 'ws')}/api/chat/ws/${chat.id}?token=${session.token}`)
  const acked = new Map<string, Acked>()
  const refusals: number[] = []
  const failures: string[] = []
  let next = 0
  let signalled = false
  let ackedAfterSignal = 0
  const SIGNAL_AFTER = 20

  // Each sender keeps one request in flight until the service stops answering, like a chat client mid-conversation.
  const sender = async (): Promise<void> => {
    for (;;) {
      const clientMessageId = `m-${next++}`
      let response: Response
      try {
        response = await post(server, `/api/chat/chats/${chat.id}/messages`, { message_text: `hello ${clientMessageId}`, client_message_id: clientMessageId }, session.token)
      } catch {
        return // connection refused or closed: the service is gone, as a client would see it
      }
      if (response.status === 201) {
        const message = await response.json() as { id: string, seq: number }
        acked.set(clientMessageId, { id: message.id, seq: message.seq })
        if (signalled) ackedAfterSignal++
        if (acked.size >= SIGNAL_AFTER && !signalled) {
          signalled = true
          server.child.kill('SIGTERM')
        }
      } else if (response.status === 503) {
        refusals.push(response.status)
        await response.arrayBuffer()
        return
      } else {
        failures.push(`${response.status} ${await response.text()}`)
        return
      }
    }
  }
  await Promise.all([sender(), sender(), sender()])
  const closeCode = await socket.closed
  const code = await server.exited

  t.equal(code, 0, `clean exit within SHUTDOWN_TIMEOUT_MS; stderr: ${server.stderr()}`)
  if (code !== 0) t.comment(server.lines.slice(-8).map((line) => JSON.stringify(line)).join('\n'))
  t.same(failures, [], 'no request failed with anything but "shutting down"')
  t.ok(acked.size >= SIGNAL_AFTER)
  t.ok(server.lines.some((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM'), 'the shutdown is logged')
  t.equal(closeCode, 1001, 'the open socket is told the server is going away')
  t.ok(socket.acked.size > 0, 'the socket was sending when the signal came')
  t.comment(`REST: ${acked.size} acknowledged, ${ackedAfterSignal} of them after SIGTERM, ${refusals.length} refused with 503; WebSocket: ${socket.acked.size} acknowledged`)

  const handle = await database.open()
  t.teardown(async () => { await handle.close() })
  const stored = await handle.db.selectFrom('messages').select(['id', 'seq', 'client_message_id']).where('chat_id', '=', chat.id).orderBy('seq').execute()
  const byClientId = new Map(stored.map((row) => [row.client_message_id, row]))
  const lost = [...acked, ...socket.acked].filter(([clientId, message]) => byClientId.get(clientId)?.id !== message.id || byClientId.get(clientId)?.seq !== message.seq)
  t.same(lost, [], 'every acknowledged message is in the database with the id and seq the client was given')
  t.same(stored.map((row) => row.seq), stored.map((_row, index) => index + 1), 'seq has no gaps')
})

t.test('a shutdown that cannot finish still exits when SHUTDOWN_TIMEOUT_MS runs out', async (t) => {
  const database = await isolatedDatabase(t)
  const server = await startServer(t, { cwd: build, command: ['node', 'dist/server/server.js'], env: productionEnv(database, { SHUTDOWN_TIMEOUT_MS: '1000' }) })

  // A client that announces a body and never sends it keeps its request in flight forever.
  const socket = connect(server.port, '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  socket.on('error', () => {})
  socket.write('POST /api/chat/anonymous HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
  await server.waitForLog((line) => line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === '/api/chat/anonymous')

  server.child.kill('SIGTERM')
  const code = await server.exited
  t.equal(code, 1, 'exits, reporting the unclean shutdown')
  t.ok(server.lines.some((line) => line.msg === 'shutdown did not finish in time; exiting anyway' && line.timeoutMs === 1000), 'the timeout is logged')
})

t.test('SIGTERM while the embedded database is still opening is a clean stop, not a failed start', { skip: postgresUrl !== null ? 'only the embedded database opens after listen' : false }, async (t) => {
  const database = await isolatedDatabase(t)
  const child = spawn('node', ['dist/server/server.js'], { cwd: build, env: productionEnv(database), stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const messages: string[] = []
  let openWhenSignalled: boolean | null = null
  createInterface({ input: child.stdout }).on('line', (text) => {
    let msg = ''
    try { msg = (JSON.parse(text) as { msg: string }).msg } catch { return }
    messages.push(msg)
    // A deploy or scale-down stops a container that has just begun listening (its /health answers before /ready).
    if (msg.startsWith('Server listening at') && openWhenSignalled === null) {
      openWhenSignalled = messages.includes('database open; serving every route')
      child.kill('SIGTERM')
    }
  })
  const code = await exited
  t.equal(openWhenSignalled, false, 'the signal came while the database was opening')
  t.equal(code, 0, `exit 0; stderr:\n${stderr}`)
  t.notMatch(stderr, /startup failed/, 'not reported as a failed start')
  t.ok(messages.includes('shutting down'), 'a normal shutdown is logged')
})

// Last: it edits the compiled copy's sources.
t.test('npm start runs the bundle of the current sources: an unchanged build keeps it, a changed source rebuilds it', async (t) => {
  const bundle = join(build, 'dist', 'server', 'server.js')
  const before = (await stat(bundle)).mtimeMs
  await run('npm', ['run', 'build', '--silent'], { cwd: build })
  t.equal((await stat(bundle)).mtimeMs, before, 'nothing changed: the bundle is not rebuilt (npm start builds on every start)')

  const entry = join(build, 'src', 'server.ts')
  const source = await readFile(entry, 'utf8')
  const edited = source.replace("app.log.info('database open; serving every route')", "app.log.info({ edited: true }, 'database open; serving every route')")
  t.not(edited, source, 'the test found the line it edits')
  await writeFile(entry, edited)
  await run('npm', ['run', 'build', '--silent'], { cwd: build })

  const server = await startServer(t, { cwd: build, command: ['node', 'dist/server/server.js'], env: productionEnv(await isolatedDatabase(t)) })
  const open = await server.waitForLog((line) => line.msg === 'database open; serving every route')
  t.equal(open.edited, true, 'the running service is the edited one')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})

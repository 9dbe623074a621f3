// Baseline for every scenario: a minimal relay on the `ws` library alone that speaks the chat frames with no database.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { WebSocketServer, type WebSocket } from 'ws'

// Enough history for a reconnecting client to resume after a short drop; older gaps are reported as loss.
const RING = 256
const CHAT_PATH = /^\/api\/chat\/ws\/([^/?]+)$/

interface RelayChat {
  id: string
  seq: number
  log: unknown[]
  conns: Set<RelayConn>
}

interface RelayConn {
  ws: WebSocket
  userId: string
}

export interface Relay {
  port: number
  close: () => Promise<void>
}

/** sub claim of a JWT without verifying it: the relay is a transport floor, not an auth service. */
function subject (token: string | null): string | null {
  if (!token) return null
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const sub = (JSON.parse(Buffer.from(part, 'base64url').toString()) as { sub?: unknown }).sub
    return typeof sub === 'string' ? sub : null
  } catch { return null }
}

function tokenOf (req: IncomingMessage, url: URL): string | null {
  return url.searchParams.get('token') ?? (req.headers['sec-websocket-protocol']?.split(',')[0]?.trim() ?? null)
}

/**
 * The event-loop delay gauges prom-client gives the service (same names, same 10 ms sampling, reset at each scrape),
 * so the bench reads the relay's loop delay over a window exactly as it reads the service's.
 */
function loopMetrics (h: IntervalHistogram): string {
  const s = (ns: number): number => ns / 1e9
  return [
    `nodejs_eventloop_lag_min_seconds ${s(h.count > 0 ? h.min : 0)}`,
    `nodejs_eventloop_lag_max_seconds ${s(h.max)}`,
    `nodejs_eventloop_lag_mean_seconds ${s(h.count > 0 ? h.mean : 0)}`,
    `nodejs_eventloop_lag_stddev_seconds ${s(h.count > 0 ? h.stddev : 0)}`,
    `nodejs_eventloop_lag_p50_seconds ${s(h.percentile(50))}`,
    `nodejs_eventloop_lag_p90_seconds ${s(h.percentile(90))}`,
    `nodejs_eventloop_lag_p99_seconds ${s(h.percentile(99))}`,
    ''
  ].join('\n')
}

function online (chat: RelayChat): string[] {
  return [...new Set([...chat.conns].map(c => c.userId))]
}

export async function startRelay (port = 0, host = '127.0.0.1'): Promise<Relay> {
  const chats = new Map<string, RelayChat>()
  const chatOf = (id: string): RelayChat => {
    let chat = chats.get(id)
    if (!chat) { chat = { id, seq: 0, log: [], conns: new Set() }; chats.set(id, chat) }
    return chat
  }
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false })
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()

  const server: Server = createServer((req, res) => {
    // REST surface just big enough for the load client: create chats, /metrics (loop delay), and a canned JSON answer as the HTTP floor.
    if (req.method === 'POST' && req.url === '/api/chat/chats') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const id = randomUUID()
        chatOf(id)
        let body: Record<string, unknown> = {}
        try { body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown> } catch { /* ignore */ }
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id, listing_id: body.listing_id, seller_id: body.seller_id }))
      })
      return
    }
    // The upload floor: a multipart body read to its end and thrown away, no parsing, decoding or storing.
    if (req.method === 'POST' && /^\/api\/chat\/chats\/[^/]+\/attachments$/.test(req.url ?? '')) {
      let size = 0
      req.on('data', (c: Buffer) => { size += c.length })
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: randomUUID(), content_type: 'application/octet-stream', size, width: 0, height: 0 }))
      })
      return
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(loopMetrics(loopDelay))
      loopDelay.reset()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"ok":true}')
  })

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://relay')
    const userId = subject(tokenOf(req, url))
    if (!userId) { socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'); return }
    if (url.pathname === '/api/chat/ws/inbox') {
      wss.handleUpgrade(req, socket, head, ws => { ws.on('message', () => {}) })
      return
    }
    const m = CHAT_PATH.exec(url.pathname)
    if (!m) { socket.end('HTTP/1.1 404 Not Found\r\n\r\n'); return }
    const chat = chatOf(decodeURIComponent(m[1] as string))
    const afterParam = url.searchParams.get('after_seq')
    wss.handleUpgrade(req, socket, head, ws => {
      const conn: RelayConn = { ws, userId }
      const after = afterParam == null ? null : Number(afterParam)
      const history = after == null
        ? chat.log.slice(-50)
        : chat.log.filter(msg => (msg as { seq: number }).seq > after)
      ws.send(JSON.stringify({ type: 'history', messages: history, complete: true }))
      chat.conns.add(conn)
      const presence = JSON.stringify({ type: 'presence', online: online(chat) })
      for (const c of chat.conns) c.ws.send(presence)
      ws.on('message', (data: Buffer) => onFrame(chat, conn, data))
      ws.on('close', () => {
        chat.conns.delete(conn)
        const left = JSON.stringify({ type: 'presence', online: online(chat) })
        for (const c of chat.conns) c.ws.send(left)
      })
    })
  })

  function onFrame (chat: RelayChat, conn: RelayConn, data: Buffer): void {
    let frame: Record<string, unknown>
    try { frame = JSON.parse(data.toString()) as Record<string, unknown> } catch {
      conn.ws.send(JSON.stringify({ type: 'error', code: 'invalid_json', message: 'frame is not JSON' }))
      return
    }
    switch (frame.type) {
      case 'message': {
        const text = typeof frame.message_text === 'string' ? frame.message_text.trim() : ''
        const cmid = typeof frame.client_message_id === 'string' ? frame.client_message_id : null
        if (!text) {
          conn.ws.send(JSON.stringify({ type: 'error', code: 'empty_message', message: 'empty', client_message_id: cmid }))
          return
        }
        const message = {
          id: randomUUID(),
          chat_id: chat.id,
          seq: ++chat.seq,
          sender_id: conn.userId,
          sender_is_registered: true,
          message_text: text,
          client_message_id: cmid,
          created_at: new Date().toISOString(),
          is_read: false
        }
        chat.log.push(message)
        if (chat.log.length > RING * 2) chat.log = chat.log.slice(-RING)
        conn.ws.send(JSON.stringify({ type: 'ack', client_message_id: cmid, message }))
        const out = JSON.stringify({ type: 'message', message })
        for (const c of chat.conns) if (c !== conn) c.ws.send(out)
        return
      }
      case 'typing': {
        const out = JSON.stringify({ type: 'typing', user_id: conn.userId, is_typing: frame.is_typing === true })
        for (const c of chat.conns) if (c.userId !== conn.userId) c.ws.send(out)
        return
      }
      case 'read': {
        const out = JSON.stringify({ type: 'read', user_id: conn.userId, last_read_seq: typeof frame.up_to_seq === 'number' ? frame.up_to_seq : chat.seq })
        for (const c of chat.conns) c.ws.send(out)
        return
      }
      case 'ping':
        conn.ws.send('{"type":"pong"}')
        return
      default:
        conn.ws.send(JSON.stringify({ type: 'error', code: 'unknown_type', message: 'unknown frame type' }))
    }
  }

  await new Promise<void>(resolve => server.listen(port, host, resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: async () => {
      loopDelay.disable()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

// Run as its own process (node dist/bench/relay.js) so its CPU and RSS are sampled apart from the load client.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const relay = await startRelay(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1')
  process.stdout.write(JSON.stringify({ listening: relay.port }) + '\n')
  const stop = (): void => { relay.close().then(() => process.exit(0), () => process.exit(1)) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

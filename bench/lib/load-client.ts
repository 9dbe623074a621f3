// The load client: chat and inbox sockets over real TCP, a fixed-rate send schedule, and per-message bookkeeping.
import WebSocket from 'ws'

export interface Participant { userId: string, token: string }
export interface BenchChat { id: string, buyer: Participant, seller: Participant }
export type Side = 0 | 1 // 0 = buyer, 1 = seller

const KEY_TYPE = Buffer.from('"type":"')
const KEY_CMID = Buffer.from('"client_message_id":"')
const KEY_SEQ = Buffer.from('"seq":')
const QUOTE = 0x22

/**
 * What keeps the client's own cost per frame down, so the figures are the target's: no compression, no UTF-8 check of
 * what the server sends, and an all-zero mask. ws then skips both the random mask per frame (a randomFillSync call)
 * and the XOR over the payload (RFC 6455 only asks that a browser's mask be unpredictable, against proxy cache
 * poisoning); the server still unmasks every frame as it would a browser's.
 */
const LEAN_SOCKET = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  generateMask: (mask: Buffer): void => { mask.fill(0) }
}

function stringAfter (buf: Buffer, key: Buffer): string | null {
  const k = buf.indexOf(key)
  if (k < 0) return null
  const start = k + key.length
  const end = buf.indexOf(QUOTE, start)
  return end < 0 ? null : buf.toString('latin1', start, end)
}

function intAfter (buf: Buffer, key: Buffer): number {
  const k = buf.indexOf(key)
  if (k < 0) return -1
  let n = 0
  let i = k + key.length
  while (i < buf.length && buf[i] === 0x20) i++
  for (; i < buf.length; i++) {
    const c = buf[i] as number
    if (c < 0x30 || c > 0x39) break
    n = n * 10 + (c - 0x30)
  }
  return n
}

/**
 * What one participant of one chat has seen, across reconnects: seqs must arrive once each with no gaps.
 * A resumed connection asks for everything after its contiguous point, so anything it already had above
 * that point is forgotten first and may legitimately arrive again.
 */
export class SeqTracker {
  next = 1
  pending = new Set<number>()
  duplicates = 0

  see (seq: number): void {
    if (seq < this.next || this.pending.has(seq)) { this.duplicates++; return }
    if (seq === this.next) {
      this.next++
      while (this.pending.delete(this.next)) this.next++
    } else {
      this.pending.add(seq)
    }
  }

  get contiguous (): number { return this.next - 1 }

  resumePoint (): number {
    this.pending.clear()
    return this.next - 1
  }

  /** Seqs in 1..upTo never seen. */
  missing (upTo: number): number {
    if (upTo <= this.contiguous) return 0
    let have = 0
    for (const s of this.pending) if (s <= upTo) have++
    return upTo - this.contiguous - have
  }
}

/** Per-message bookkeeping for one scheduled run; typed arrays so 10^5..10^6 messages cost little. */
export class Recording {
  readonly prefix: string
  readonly sched: Float64Array
  /** when the frame was actually handed to the socket: lag behind sched means the client itself is saturated */
  readonly sentAt: Float64Array
  readonly ackAt: Float64Array
  readonly deliverAt: Float64Array
  readonly ackSeq: Int32Array
  readonly sender: Int32Array
  readonly deliverCount: Uint8Array
  readonly errored: Uint8Array
  readonly errors: Record<string, number> = {}
  sent = 0
  acked = 0
  delivered = 0
  erroredCount = 0
  doubleAcks = 0
  /** the first index sent after warm-up; measurement covers [measureFrom, total) */
  measureFrom = 0
  windowStart = 0
  windowEnd = 0

  constructor (readonly tag: string, readonly total: number) {
    this.prefix = `${tag}-`
    this.sched = new Float64Array(total)
    this.sentAt = new Float64Array(total)
    this.ackAt = new Float64Array(total)
    this.deliverAt = new Float64Array(total)
    this.ackSeq = new Int32Array(total)
    this.sender = new Int32Array(total).fill(-1)
    this.deliverCount = new Uint8Array(total)
    this.errored = new Uint8Array(total)
  }

  indexOf (cmid: string | null): number {
    if (cmid === null || !cmid.startsWith(this.prefix)) return -1
    const i = Number(cmid.slice(this.prefix.length))
    return Number.isInteger(i) && i >= 0 && i < this.total ? i : -1
  }

  countError (code: string): void { this.errors[code] = (this.errors[code] ?? 0) + 1 }
}

export interface ChatSocketEvents {
  onFrame?: (type: string) => void
  onAck: (sock: ChatSocket, cmid: string | null, seq: number, at: number) => void
  onDeliver: (sock: ChatSocket, cmid: string | null, seq: number, at: number, viaHistory: boolean) => void
  onError: (sock: ChatSocket, code: string, cmid: string | null) => void
}

interface HistoryMessage { seq: number, client_message_id: string | null, sender_id: string }

/** One participant's socket on one chat; survives reconnects as the same logical client. */
export class ChatSocket {
  ws: WebSocket | null = null
  open = false
  /** connection we closed on purpose (drop / shutdown) - its close is not an error */
  private dropping = false
  historyFrames = 0
  connects = 0

  constructor (
    readonly index: number,
    readonly chat: BenchChat,
    readonly side: Side,
    readonly tracker: SeqTracker,
    private readonly events: ChatSocketEvents
  ) {}

  get user (): Participant { return this.side === 0 ? this.chat.buyer : this.chat.seller }

  /** Opens the socket and resolves once the history frame with complete:true has been processed. */
  async connect (wsBase: string, afterSeq?: number, timeoutMs = 30_000): Promise<void> {
    const q = afterSeq === undefined ? '' : `&after_seq=${afterSeq}`
    const url = `${wsBase}/api/chat/ws/${encodeURIComponent(this.chat.id)}?token=${encodeURIComponent(this.user.token)}${q}`
    this.dropping = false
    this.connects++
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { ...LEAN_SOCKET, handshakeTimeout: timeoutMs })
      this.ws = ws
      let settled = false
      const settle = (err?: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) reject(err); else resolve()
      }
      const timer = setTimeout(() => { settle(new Error('history timeout')); ws.terminate() }, timeoutMs)
      ws.on('unexpected-response', (_req, res) => {
        settle(new Error(`handshake_${res.statusCode ?? 0}`))
        ws.terminate()
      })
      ws.on('error', err => settle(err))
      ws.on('open', () => { this.open = true })
      ws.on('close', (code: number) => {
        this.open = false
        if (!this.dropping && this.ws === ws && code !== 1000 && code !== 1005) this.events.onError(this, `close_${code}`, null)
        settle(new Error(`closed_${code}_before_history`))
      })
      ws.on('message', (data: Buffer) => {
        if (this.ws !== ws) return
        if (this.frame(data)) settle()
      })
    })
  }

  /** Handles one frame; returns true when it was the last history frame of a (re)connect. */
  private frame (buf: Buffer): boolean {
    const at = performance.now()
    const type = stringAfter(buf, KEY_TYPE)
    this.events.onFrame?.(type ?? 'unparsed')
    switch (type) {
      case 'ack':
        this.events.onAck(this, stringAfter(buf, KEY_CMID), intAfter(buf, KEY_SEQ), at)
        return false
      case 'message':
        this.events.onDeliver(this, stringAfter(buf, KEY_CMID), intAfter(buf, KEY_SEQ), at, false)
        return false
      case 'history': {
        this.historyFrames++
        const frame = JSON.parse(buf.toString()) as { messages: HistoryMessage[], complete?: boolean }
        for (const m of frame.messages) {
          if (m.sender_id === this.user.userId) this.tracker.see(m.seq)
          else this.events.onDeliver(this, m.client_message_id, m.seq, at, true)
        }
        return frame.complete !== false
      }
      case 'error': {
        const frame = JSON.parse(buf.toString()) as { code?: string, client_message_id?: string }
        this.events.onError(this, frame.code ?? 'error_without_code', frame.client_message_id ?? null)
        return false
      }
      case 'presence': case 'typing': case 'read': case 'pong':
        return false
      default:
        this.events.onError(this, `unexpected_frame_${type ?? 'unparsed'}`, null)
        return false
    }
  }

  send (frame: string): boolean {
    if (!this.open || this.ws === null) return false
    this.ws.send(frame)
    return true
  }

  /** Abrupt drop (no close handshake), as when a phone loses its network. */
  drop (): void {
    this.dropping = true
    this.open = false
    this.ws?.terminate()
  }

  async close (): Promise<void> {
    const ws = this.ws
    if (!ws || ws.readyState === WebSocket.CLOSED) return
    this.dropping = true
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { ws.terminate(); resolve() }, 2000)
      ws.once('close', () => { clearTimeout(t); resolve() })
      ws.close(1000)
    })
  }
}

/** An inbox stream; the bench only holds it open (capacity) and counts what arrives. */
export class InboxSocket {
  ws: WebSocket | null = null
  frames = 0

  constructor (readonly user: Participant) {}

  async connect (wsBase: string, timeoutMs = 30_000): Promise<void> {
    const url = `${wsBase}/api/chat/ws/inbox?token=${encodeURIComponent(this.user.token)}`
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { ...LEAN_SOCKET, handshakeTimeout: timeoutMs })
      this.ws = ws
      ws.on('unexpected-response', (_req, res) => { reject(new Error(`handshake_${res.statusCode ?? 0}`)); ws.terminate() })
      ws.on('error', reject)
      ws.on('open', () => resolve())
      ws.on('message', () => { this.frames++ })
    })
  }

  async close (): Promise<void> {
    const ws = this.ws
    if (!ws || ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { ws.terminate(); resolve() }, 2000)
      ws.once('close', () => { clearTimeout(t); resolve() })
      ws.close(1000)
    })
  }
}

export interface ScheduleOptions {
  rate: number
  warmupMs: number
  durationMs: number
  /** which socket sends message i; default spreads over every chat, alternating buyer and seller */
  pick?: (i: number) => number
  /** called once per scheduled tick with the current index, e.g. to trigger a reconnect storm mid-run */
  onTick?: (i: number, now: number) => void
}

// ~60 characters of plain text: the size of a typical chat line, so sanitizing and storage costs are realistic.
const FILLER = 'is this still available? could you ship it to Lisbon by friday'

/**
 * Drives a set of chats: every chat has a buyer socket (index 2c) and a seller socket (index 2c+1).
 * Latencies are measured against the *scheduled* send time, so a client or server that falls behind
 * shows up as latency instead of silently lowering the offered load.
 */
export class LoadClient implements ChatSocketEvents {
  readonly sockets: ChatSocket[]
  readonly chatMaxSeq: Int32Array
  readonly errors: Record<string, number> = {}
  recording: Recording | null = null
  /** every frame received, by type: shows what the server sends besides acks and messages */
  readonly frames: Record<string, number> = {}
  private stepCounter = 0

  constructor (readonly wsBase: string, readonly chats: BenchChat[], readonly runTag: string) {
    this.chatMaxSeq = new Int32Array(chats.length)
    this.sockets = []
    chats.forEach((chat, c) => {
      for (const side of [0, 1] as const) this.sockets.push(new ChatSocket(c * 2 + side, chat, side, new SeqTracker(), this))
    })
  }

  countError (code: string): void { this.errors[code] = (this.errors[code] ?? 0) + 1 }

  onFrame (type: string): void { this.frames[type] = (this.frames[type] ?? 0) + 1 }

  /** Notes a seq seen on a socket; returns the recording and the message's index in it, when it is being recorded. */
  private seen (sock: ChatSocket, cmid: string | null, seq: number): { rec: Recording, i: number } | null {
    sock.tracker.see(seq)
    const c = sock.index >> 1
    if (seq > (this.chatMaxSeq[c] as number)) this.chatMaxSeq[c] = seq
    const rec = this.recording
    const i = rec ? rec.indexOf(cmid) : -1
    return rec === null || i < 0 ? null : { rec, i }
  }

  onAck (sock: ChatSocket, cmid: string | null, seq: number, at: number): void {
    const hit = this.seen(sock, cmid, seq)
    if (hit === null) return
    const { rec, i } = hit
    if (rec.ackSeq[i] !== 0) { rec.doubleAcks++; return }
    rec.ackSeq[i] = seq
    rec.ackAt[i] = at
    rec.acked++
  }

  onDeliver (sock: ChatSocket, cmid: string | null, seq: number, at: number): void {
    const hit = this.seen(sock, cmid, seq)
    if (hit === null) return
    const { rec, i } = hit
    // only the other participant's receipt counts as delivery
    if (rec.sender[i] === sock.index) return
    if (rec.deliverAt[i] === 0) { rec.deliverAt[i] = at; rec.delivered++ }
    const dc = rec.deliverCount[i] as number
    if (dc < 255) rec.deliverCount[i] = dc + 1
  }

  onError (_sock: ChatSocket, code: string, cmid: string | null): void {
    this.countError(code)
    const rec = this.recording
    if (rec === null) return
    rec.countError(code)
    const i = rec.indexOf(cmid)
    if (i >= 0 && rec.errored[i] === 0) { rec.errored[i] = 1; rec.erroredCount++ }
  }

  /** Connects every socket (bounded concurrency); returns connect time in ms and failures by reason. */
  async connectAll (concurrency: number, which: (s: ChatSocket) => boolean = () => true): Promise<{ ms: number, failed: number }> {
    const list = this.sockets.filter(which)
    const t0 = performance.now()
    let failed = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const s = list[next++] as ChatSocket
        try { await s.connect(this.wsBase) } catch (err) {
          failed++
          this.countError(`connect_${(err as Error).message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker))
    return { ms: performance.now() - t0, failed }
  }

  /** Sends rate×(warmup+duration) messages on a fixed schedule; resolves when the last one is sent. */
  async run (opts: ScheduleOptions): Promise<Recording> {
    const total = Math.max(1, Math.round(opts.rate * (opts.warmupMs + opts.durationMs) / 1000))
    const rec = new Recording(`${this.runTag}s${++this.stepCounter}`, total)
    rec.measureFrom = Math.min(total - 1, Math.round(opts.rate * opts.warmupMs / 1000))
    this.recording = rec
    const n = this.chats.length
    const pick = opts.pick ?? ((i: number) => (i % n) * 2 + (Math.floor(i / n) % 2))
    const interval = 1000 / opts.rate
    const t0 = performance.now() + 20
    rec.windowStart = t0 + opts.warmupMs
    rec.windowEnd = rec.windowStart + opts.durationMs
    let i = 0
    await new Promise<void>(resolve => {
      const tick = (): void => {
        const now = performance.now()
        const due = Math.min(total, Math.floor((now - t0) / interval) + 1)
        opts.onTick?.(i, now)
        for (; i < due; i++) {
          const s = pick(i)
          const sock = this.sockets[s] as ChatSocket
          rec.sched[i] = t0 + i * interval
          rec.sender[i] = s
          const frame = `{"type":"message","message_text":"#${i} ${FILLER}","client_message_id":"${rec.prefix}${i}"}`
          rec.sentAt[i] = performance.now()
          if (sock.send(frame)) rec.sent++
          else { rec.errored[i] = 1; rec.erroredCount++; rec.countError('not_connected'); this.countError('not_connected') }
        }
        if (i >= total) { resolve(); return }
        setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()))
      }
      setTimeout(tick, Math.max(0, t0 - performance.now()))
    })
    return rec
  }

  /** Waits until every sent message is acked (or errored) and delivered, or the timeout passes. */
  async drain (rec: Recording, timeoutMs: number): Promise<boolean> {
    const done = (): boolean => rec.acked + rec.erroredCount >= rec.total && rec.delivered >= rec.acked
    const end = performance.now() + timeoutMs
    while (!done() && performance.now() < end) await new Promise(resolve => setTimeout(resolve, 10))
    return done()
  }

  duplicates (): number {
    let d = 0
    for (const s of this.sockets) d += s.tracker.duplicates
    return d
  }

  /** Seqs the server acked to someone in a chat that a participant of that chat never received. */
  gaps (): number {
    let g = 0
    for (const s of this.sockets) g += s.tracker.missing(this.chatMaxSeq[s.index >> 1] as number)
    return g
  }

  async closeAll (): Promise<void> {
    this.recording = null
    await Promise.all(this.sockets.map(async s => await s.close()))
  }
}

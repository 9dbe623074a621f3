// The load client: chat and inbox sockets over real TCP, a fixed-rate send schedule, and per-message bookkeeping.
import WebSocket from 'ws'
import { WireSocket } from './wire-socket.js'

export interface Participant { userId: string, token: string }
export interface BenchChat { id: string, buyer: Participant, seller: Participant }
export type Side = 0 | 1 // 0 = buyer, 1 = seller

const KEY_TYPE = Buffer.from('"type":"')
const KEY_CMID = Buffer.from('"client_message_id":"')
const KEY_SEQ = Buffer.from('"seq":')
const QUOTE = 0x22

/**
 * What keeps the cost of the inbox sockets (still on ws) down: no compression, no UTF-8 check of what the server
 * sends, and an all-zero mask, so ws skips both the random mask per frame and the XOR over the payload. The chat
 * sockets, which carry the measured traffic, go further on WireSocket.
 */
const LEAN_SOCKET = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  generateMask: (mask: Buffer): void => { mask.fill(0) }
}

/** Where the value of a string field starts in buf[start, end), or -1; the first occurrence wins. */
function valueAt (buf: Buffer, key: Buffer, start: number, end: number): number {
  const k = buf.indexOf(key, start)
  return k < 0 || k + key.length > end ? -1 : k + key.length
}

function intAfter (buf: Buffer, key: Buffer, start: number, end: number): number {
  let i = valueAt(buf, key, start, end)
  if (i < 0) return -1
  let n = 0
  while (i < end && buf[i] === 0x20) i++
  for (; i < end; i++) {
    const c = buf[i] as number
    if (c < 0x30 || c > 0x39) break
    n = n * 10 + (c - 0x30)
  }
  return n
}

/** Whether the bytes at buf[at] are `word` followed by a closing quote. */
function isWord (buf: Buffer, at: number, end: number, word: Buffer): boolean {
  if (at + word.length >= end || buf[at + word.length] !== QUOTE) return false
  for (let j = 0; j < word.length; j++) if (buf[at + j] !== word[j]) return false
  return true
}

const ACK = Buffer.from('ack')
const MESSAGE = Buffer.from('message')

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

/** The shared memory behind a Recording, handed to load-client workers so each writes its own messages' slots. */
export interface RecordingBuffers {
  sched: SharedArrayBuffer
  sentAt: SharedArrayBuffer
  ackAt: SharedArrayBuffer
  deliverAt: SharedArrayBuffer
  ackSeq: SharedArrayBuffer
  sender: SharedArrayBuffer
  deliverCount: SharedArrayBuffer
  errored: SharedArrayBuffer
}

/** The counters of a Recording, which each thread keeps for its own messages and the main thread adds up. */
export interface RecordingCounts {
  scheduled: number
  sent: number
  acked: number
  delivered: number
  erroredCount: number
  doubleAcks: number
  errors: Record<string, number>
}

/**
 * Per-message bookkeeping for one scheduled run; typed arrays so 10^5..10^6 messages cost little. They live in
 * shared memory: with the load spread over worker threads every message is written by the one thread that owns its
 * chat, and the main thread reads the whole run without copying or merging arrays.
 */
export class Recording {
  readonly prefix: string
  /** the prefix as bytes, to find a message's index in a frame without making a string */
  readonly prefixBytes: Buffer
  readonly sched: Float64Array
  /** when the frame was actually handed to the socket: lag behind sched means the client itself is saturated */
  readonly sentAt: Float64Array
  readonly ackAt: Float64Array
  readonly deliverAt: Float64Array
  readonly ackSeq: Int32Array
  readonly sender: Int32Array
  readonly deliverCount: Uint8Array
  readonly errored: Uint8Array
  readonly buffers: RecordingBuffers
  readonly errors: Record<string, number> = {}
  /** messages of this run that this thread sends (all of them without workers) */
  scheduled = 0
  sent = 0
  acked = 0
  delivered = 0
  erroredCount = 0
  doubleAcks = 0
  /** the first index sent after warm-up; measurement covers [measureFrom, total) */
  measureFrom = 0
  windowStart = 0
  windowEnd = 0

  /** A new recording, or (given buffers) a worker's view of one made by the main thread. */
  constructor (readonly tag: string, readonly total: number, shared?: RecordingBuffers) {
    this.prefix = `${tag}-`
    this.prefixBytes = Buffer.from(this.prefix, 'latin1')
    const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, total * bytes))
    this.buffers = shared ?? {
      sched: sab(8),
      sentAt: sab(8),
      ackAt: sab(8),
      deliverAt: sab(8),
      ackSeq: sab(4),
      sender: sab(4),
      deliverCount: sab(1),
      errored: sab(1)
    }
    this.sched = new Float64Array(this.buffers.sched, 0, total)
    this.sentAt = new Float64Array(this.buffers.sentAt, 0, total)
    this.ackAt = new Float64Array(this.buffers.ackAt, 0, total)
    this.deliverAt = new Float64Array(this.buffers.deliverAt, 0, total)
    this.ackSeq = new Int32Array(this.buffers.ackSeq, 0, total)
    this.sender = new Int32Array(this.buffers.sender, 0, total)
    this.deliverCount = new Uint8Array(this.buffers.deliverCount, 0, total)
    this.errored = new Uint8Array(this.buffers.errored, 0, total)
    if (shared === undefined) this.sender.fill(-1)
  }

  indexOf (cmid: string | null): number {
    if (cmid === null || !cmid.startsWith(this.prefix)) return -1
    const i = Number(cmid.slice(this.prefix.length))
    return Number.isInteger(i) && i >= 0 && i < this.total ? i : -1
  }

  /** indexOf for a client_message_id whose characters start at buf[at] and end at a quote before `end`. */
  indexAt (buf: Buffer, at: number, end: number): number {
    const p = this.prefixBytes
    if (at + p.length >= end) return -1
    for (let j = 0; j < p.length; j++) if (buf[at + j] !== p[j]) return -1
    let i = at + p.length
    let n = 0
    const first = i
    for (; i < end; i++) {
      const c = buf[i] as number
      if (c === QUOTE) break
      if (c < 0x30 || c > 0x39) return -1
      n = n * 10 + (c - 0x30)
    }
    return i === first || i >= end || n >= this.total ? -1 : n
  }

  countError (code: string): void { this.errors[code] = (this.errors[code] ?? 0) + 1 }

  counts (): RecordingCounts {
    const { scheduled, sent, acked, delivered, erroredCount, doubleAcks } = this
    return { scheduled, sent, acked, delivered, erroredCount, doubleAcks, errors: { ...this.errors } }
  }

  /** Adds a worker's counters to this (the main thread's) recording. */
  add (c: RecordingCounts): void {
    this.scheduled += c.scheduled
    this.sent += c.sent
    this.acked += c.acked
    this.delivered += c.delivered
    this.erroredCount += c.erroredCount
    this.doubleAcks += c.doubleAcks
    for (const [code, n] of Object.entries(c.errors)) this.errors[code] = (this.errors[code] ?? 0) + n
  }
}

export interface ChatSocketEvents {
  onFrame?: (type: string) => void
  /** the message's index in the recording under way, from the client_message_id at buf[at]; -1 when not recorded */
  indexAt: (buf: Buffer, at: number, end: number) => number
  indexOf: (cmid: string | null) => number
  onAck: (sock: ChatSocket, i: number, seq: number, at: number) => void
  onDeliver: (sock: ChatSocket, i: number, seq: number, at: number, viaHistory: boolean) => void
  onError: (sock: ChatSocket, code: string, i: number) => void
}

interface HistoryMessage { seq: number, client_message_id: string | null, sender_id: string }

/** One participant's socket on one chat; survives reconnects as the same logical client. */
export class ChatSocket {
  ws: WireSocket | null = null
  open = false
  /** connection we closed on purpose (drop / shutdown) - its close is not an error */
  private dropping = false
  historyFrames = 0
  connects = 0
  private closed: (() => void) | null = null

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
      let settled = false
      // fires long after ws below exists: both the WireSocket's events and this timer run on later turns
      const timer = setTimeout(() => { settle(new Error('history timeout')); ws.terminate() }, timeoutMs)
      const settle = (err?: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) reject(err); else resolve()
      }
      const ws: WireSocket = new WireSocket(url, {
        unexpectedResponse: (status) => { settle(new Error(`handshake_${status}`)) },
        error: (err) => { settle(err) },
        open: () => { this.open = true },
        close: (code) => {
          if (this.ws === ws) this.open = false
          if (!this.dropping && this.ws === ws && code !== 1000 && code !== 1005) this.events.onError(this, `close_${code}`, -1)
          if (this.ws === ws) { this.closed?.(); this.closed = null }
          settle(new Error(`closed_${code}_before_history`))
        },
        message: (buf, start, end) => {
          if (this.ws !== ws) return
          if (this.frame(buf, start, end)) settle()
        }
      }, timeoutMs)
      this.ws = ws
    })
  }

  /** Handles one frame, buf[start, end); returns true when it was the last history frame of a (re)connect. */
  private frame (buf: Buffer, start: number, end: number): boolean {
    const at = performance.now()
    const t = valueAt(buf, KEY_TYPE, start, end)
    // acks and messages are nearly every frame: read in place, no string made and no JSON parsed
    if (t >= 0 && isWord(buf, t, end, ACK)) {
      this.events.onFrame?.('ack')
      const c = valueAt(buf, KEY_CMID, start, end)
      this.events.onAck(this, c < 0 ? -1 : this.events.indexAt(buf, c, end), intAfter(buf, KEY_SEQ, start, end), at)
      return false
    }
    if (t >= 0 && isWord(buf, t, end, MESSAGE)) {
      this.events.onFrame?.('message')
      const c = valueAt(buf, KEY_CMID, start, end)
      this.events.onDeliver(this, c < 0 ? -1 : this.events.indexAt(buf, c, end), intAfter(buf, KEY_SEQ, start, end), at, false)
      return false
    }
    const q = t < 0 ? -1 : buf.indexOf(QUOTE, t)
    const type = t < 0 || q < 0 || q >= end ? null : buf.toString('latin1', t, q)
    this.events.onFrame?.(type ?? 'unparsed')
    switch (type) {
      case 'history': {
        this.historyFrames++
        const frame = JSON.parse(buf.toString('utf8', start, end)) as { messages: HistoryMessage[], complete?: boolean }
        for (const m of frame.messages) {
          if (m.sender_id === this.user.userId) this.tracker.see(m.seq)
          else this.events.onDeliver(this, this.events.indexOf(m.client_message_id), m.seq, at, true)
        }
        return frame.complete !== false
      }
      case 'error': {
        const frame = JSON.parse(buf.toString('utf8', start, end)) as { code?: string, client_message_id?: string }
        this.events.onError(this, frame.code ?? 'error_without_code', this.events.indexOf(frame.client_message_id ?? null))
        return false
      }
      case 'presence': case 'typing': case 'read': case 'pong':
        return false
      default:
        this.events.onError(this, `unexpected_frame_${type ?? 'unparsed'}`, -1)
        return false
    }
  }

  send (frame: string): boolean {
    if (!this.open || this.ws === null) return false
    return this.ws.send(frame)
  }

  /** Abrupt drop (no close handshake), as when a phone loses its network. */
  drop (): void {
    this.dropping = true
    this.open = false
    this.ws?.terminate()
  }

  async close (): Promise<void> {
    const ws = this.ws
    if (!ws || !this.open) { ws?.terminate(); return }
    this.dropping = true
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { ws.terminate(); resolve() }, 2000)
      this.closed = () => { clearTimeout(t); resolve() }
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

/** How long after run() is called the first message is due: room to hand the schedule to worker threads. */
export const START_DELAY_MS = 50

/** What a client saw over the whole session, summed over worker threads when there are any. */
export interface ClientTally {
  duplicates: number
  gaps: number
  frames: Record<string, number>
  errors: Record<string, number>
}

// ~60 characters of plain text: the size of a typical chat line, so sanitizing and storage costs are realistic.
const FILLER = 'is this still available? could you ship it to Lisbon by friday'

/** Total messages and where measurement starts for a run at this rate; the same in every thread. */
export function planRun (tag: string, opts: ScheduleOptions): Recording {
  const total = Math.max(1, Math.round(opts.rate * (opts.warmupMs + opts.durationMs) / 1000))
  const rec = new Recording(tag, total)
  rec.measureFrom = Math.min(total - 1, Math.round(opts.rate * opts.warmupMs / 1000))
  return rec
}

/**
 * Drives a set of chats: every chat has a buyer socket (index 2c) and a seller socket (index 2c+1).
 * Latencies are measured against the *scheduled* send time, so a client or server that falls behind
 * shows up as latency instead of silently lowering the offered load.
 *
 * In a worker thread the client holds every chat but owns (connects and sends for) only its share, and keeps time
 * on the main thread's clock (clockOffset), so all threads' timestamps in the shared Recording compare directly.
 */
export class LoadClient implements ChatSocketEvents {
  readonly sockets: ChatSocket[]
  readonly chatMaxSeq: Int32Array
  readonly errors: Record<string, number> = {}
  recording: Recording | null = null
  /** every frame received, by type: shows what the server sends besides acks and messages */
  readonly frames: Record<string, number> = {}
  /** 1 for the chats this client connects and sends for */
  readonly owned: Uint8Array
  /** added to this thread's performance.now() to get the clock of the thread that owns the recordings */
  clockOffset = 0
  private stepCounter = 0

  constructor (readonly wsBase: string, readonly chats: BenchChat[], readonly runTag: string, owns: (chat: number) => boolean = () => true) {
    this.chatMaxSeq = new Int32Array(chats.length)
    this.owned = Uint8Array.from(chats, (_, c) => owns(c) ? 1 : 0)
    this.sockets = []
    chats.forEach((chat, c) => {
      for (const side of [0, 1] as const) this.sockets.push(new ChatSocket(c * 2 + side, chat, side, new SeqTracker(), this))
    })
  }

  /** The tag of the next run's recording: each run's client_message_ids differ from every other's. */
  nextTag (): string { return `${this.runTag}s${++this.stepCounter}` }

  countError (code: string): void { this.errors[code] = (this.errors[code] ?? 0) + 1 }

  onFrame (type: string): void { this.frames[type] = (this.frames[type] ?? 0) + 1 }

  indexAt (buf: Buffer, at: number, end: number): number { return this.recording?.indexAt(buf, at, end) ?? -1 }

  indexOf (cmid: string | null): number { return this.recording?.indexOf(cmid) ?? -1 }

  /** Notes a seq seen on a socket. */
  private seen (sock: ChatSocket, seq: number): void {
    sock.tracker.see(seq)
    const c = sock.index >> 1
    if (seq > (this.chatMaxSeq[c] as number)) this.chatMaxSeq[c] = seq
  }

  onAck (sock: ChatSocket, i: number, seq: number, at: number): void {
    this.seen(sock, seq)
    const rec = this.recording
    if (rec === null || i < 0) return
    if (rec.ackSeq[i] !== 0) { rec.doubleAcks++; return }
    rec.ackSeq[i] = seq
    rec.ackAt[i] = at + this.clockOffset
    rec.acked++
  }

  onDeliver (sock: ChatSocket, i: number, seq: number, at: number): void {
    this.seen(sock, seq)
    const rec = this.recording
    if (rec === null || i < 0) return
    // only the other participant's receipt counts as delivery
    if (rec.sender[i] === sock.index) return
    if (rec.deliverAt[i] === 0) { rec.deliverAt[i] = at + this.clockOffset; rec.delivered++ }
    const dc = rec.deliverCount[i] as number
    if (dc < 255) rec.deliverCount[i] = dc + 1
  }

  onError (_sock: ChatSocket, code: string, i: number): void {
    this.countError(code)
    const rec = this.recording
    if (rec === null) return
    rec.countError(code)
    if (i >= 0 && rec.errored[i] === 0) { rec.errored[i] = 1; rec.erroredCount++ }
  }

  /** Connects every owned socket (bounded concurrency); returns connect time in ms and failures by reason. */
  async connectAll (concurrency: number, which: (s: ChatSocket) => boolean = () => true): Promise<{ ms: number, failed: number }> {
    const list = this.sockets.filter(s => this.owned[s.index >> 1] === 1 && which(s))
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
    const rec = planRun(this.nextTag(), opts)
    const t0 = performance.now() + START_DELAY_MS
    rec.windowStart = t0 + opts.warmupMs
    rec.windowEnd = rec.windowStart + opts.durationMs
    await this.schedule(rec, t0, opts)
    return rec
  }

  /**
   * Sends this client's share of rec's schedule, which starts at t0 (on the recording's clock): message i is due at
   * t0 + i/rate, and the chats this client does not own are left to the threads that do.
   */
  async schedule (rec: Recording, t0: number, opts: Pick<ScheduleOptions, 'rate' | 'pick' | 'onTick'>): Promise<void> {
    this.recording = rec
    const total = rec.total
    const n = this.chats.length
    const pick = opts.pick ?? ((i: number) => (i % n) * 2 + (Math.floor(i / n) % 2))
    const interval = 1000 / opts.rate
    const offset = this.clockOffset
    const start = t0 - offset
    let i = 0
    await new Promise<void>(resolve => {
      const tick = (): void => {
        const now = performance.now()
        const due = Math.min(total, Math.floor((now - start) / interval) + 1)
        opts.onTick?.(i, now)
        for (; i < due; i++) {
          const s = pick(i)
          if (this.owned[s >> 1] !== 1) continue
          const sock = this.sockets[s] as ChatSocket
          rec.scheduled++
          rec.sched[i] = t0 + i * interval
          rec.sender[i] = s
          const frame = `{"type":"message","message_text":"#${i} ${FILLER}","client_message_id":"${rec.prefix}${i}"}`
          rec.sentAt[i] = performance.now() + offset
          if (sock.send(frame)) rec.sent++
          else { rec.errored[i] = 1; rec.erroredCount++; rec.countError('not_connected'); this.countError('not_connected') }
        }
        if (i >= total) { resolve(); return }
        setTimeout(tick, Math.max(0, start + i * interval - performance.now()))
      }
      setTimeout(tick, Math.max(0, start - performance.now()))
    })
  }

  /** Waits until every message this client sent is acked (or errored) and delivered, or the timeout passes. */
  async drain (rec: Recording, timeoutMs: number): Promise<boolean> {
    const done = (): boolean => rec.acked + rec.erroredCount >= rec.scheduled && rec.delivered >= rec.acked
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

  async tally (): Promise<ClientTally> {
    return { duplicates: this.duplicates(), gaps: this.gaps(), frames: { ...this.frames }, errors: { ...this.errors } }
  }

  async closeAll (): Promise<void> {
    this.recording = null
    await Promise.all(this.sockets.map(async s => await s.close()))
  }
}

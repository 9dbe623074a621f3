// The chaos suite's client: follows the documented rules (resend unacked with the same id, resume from the highest contiguous seq, dedupe by id) and records what it saw.
import WebSocket from 'ws'
import { SeqTracker } from './load-client.js'

export interface ChaosParticipant { userId: string, token: string }
export interface ChaosChat { id: string, buyer: ChaosParticipant, seller: ChaosParticipant }

/** Error frame codes after which the documented client resends the same message later. */
const RETRYABLE = new Set(['unavailable', 'service_unavailable', 'internal_error', 'rate_limited'])
const RESEND_AFTER_MS = 500
const RECONNECT_MIN_MS = 100
const RECONNECT_MAX_MS = 2000
/**
 * Frames sent and not yet answered, per connection. A client that resent its whole backlog at once after a long
 * outage would be cut by the server's per-socket queue bound (1008), reconnect and do it again; like the widget, this
 * one keeps a window.
 */
const WINDOW = 32

/** One participant's socket on one chat; reconnects by itself until stopped, alternating instances when one refuses. */
export class ChaosSocket {
  ws: WebSocket | null = null
  open = false
  readonly tracker = new SeqTracker()
  /** seq → when this participant first had it (ack, live or history) */
  readonly seenAt = new Map<number, number>()
  /** seq delivered twice on one connection (a resumed connection legitimately repeats what was above its resume point) */
  duplicates = 0
  connects = 0
  /** client_message_id → text, not acked yet, in the order written */
  readonly outbox = new Map<string, string>()
  /** sent on the current connection, not answered yet */
  private readonly inFlight = new Set<string>()
  /** not before this time (a retryable error frame asked to wait) */
  private readonly notBefore = new Map<string, number>()
  private pumpTimer: NodeJS.Timeout | null = null
  private attempt = 0
  private stopped = false
  private timer: NodeJS.Timeout | null = null
  private instance: number

  constructor (
    private readonly client: ChaosClient,
    readonly chat: number,
    readonly side: 0 | 1,
    home: number
  ) {
    this.instance = home
  }

  get user (): ChaosParticipant {
    const chat = this.client.chats[this.chat] as ChaosChat
    return this.side === 0 ? chat.buyer : chat.seller
  }

  has (seq: number): boolean {
    return seq < this.tracker.next || this.tracker.pending.has(seq)
  }

  start (): void {
    this.connect()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer)
    this.ws?.terminate()
  }

  /** Queues a new message; it goes out when the window and the connection allow. */
  write (cmid: string, text: string): void {
    this.outbox.set(cmid, text)
    this.pump()
  }

  /** Sends unacked messages in order, at most WINDOW unanswered at a time, each with its original id. */
  pump (): void {
    if (!this.open || this.ws === null) return
    const now = performance.now()
    let wakeAt = Infinity
    for (const [cmid, text] of this.outbox) {
      if (this.inFlight.size >= WINDOW) break
      if (this.inFlight.has(cmid)) continue
      const after = this.notBefore.get(cmid) ?? 0
      if (after > now) {
        wakeAt = Math.min(wakeAt, after)
        continue
      }
      this.notBefore.delete(cmid)
      this.inFlight.add(cmid)
      this.ws.send(JSON.stringify({ type: 'message', message_text: text, client_message_id: cmid }))
    }
    if (wakeAt !== Infinity && this.pumpTimer === null) {
      this.pumpTimer = setTimeout(() => { this.pumpTimer = null; this.pump() }, wakeAt - now)
    }
  }

  private settled (cmid: string, seq: number): void {
    this.outbox.delete(cmid)
    this.inFlight.delete(cmid)
    this.notBefore.delete(cmid)
    this.client.stored(cmid, seq)
  }

  private connect (): void {
    if (this.stopped) return
    this.connects++
    // The rule: resume after the highest seq held without a hole; anything above it comes again.
    const after = this.connects === 1 ? '' : `&after_seq=${this.tracker.resumePoint()}`
    const base = this.client.wsBases[this.instance] as string
    const chat = this.client.chats[this.chat] as ChaosChat
    const ws = new WebSocket(`${base}/api/chat/ws/${chat.id}?token=${encodeURIComponent(this.user.token)}${after}`, { perMessageDeflate: false, handshakeTimeout: 5000 })
    this.ws = ws
    const seenHere = new Set<number>()
    ws.on('error', () => {})
    ws.on('close', () => {
      if (this.ws !== ws) return
      this.open = false
      this.ws = null
      this.inFlight.clear()
      this.client.countEvent('reconnects')
      // A load balancer sends a refused client to another instance.
      if (this.attempt > 0) this.instance = (this.instance + 1) % this.client.wsBases.length
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt++)
      this.timer = setTimeout(() => { this.connect() }, delay / 2 + Math.random() * delay / 2)
    })
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Record<string, any>
      const see = (seq: number, viaAck: boolean): void => {
        // Dedupe by id: an ack repeating a seq this client already holds (a resend of a stored message) is no duplicate.
        if (seenHere.has(seq) && !viaAck) this.duplicates++
        seenHere.add(seq)
        if (this.has(seq)) return
        this.tracker.see(seq)
        this.seenAt.set(seq, performance.now())
      }
      switch (frame.type) {
        case 'history':
          for (const m of frame.messages as Array<{ seq: number, client_message_id: string | null, sender_id: string }>) {
            see(m.seq, false)
            // Dedupe by id: an own message in history was stored, whether or not its ack ever came.
            if (m.sender_id === this.user.userId && m.client_message_id !== null) this.settled(m.client_message_id, m.seq)
          }
          if (frame.complete === true) {
            this.open = true
            this.attempt = 0
            this.pump()
          }
          return
        case 'message':
          see(frame.message.seq as number, false)
          return
        case 'ack':
          see(frame.message.seq as number, true)
          this.settled(frame.client_message_id as string, frame.message.seq as number)
          this.pump()
          return
        case 'error': {
          this.client.countEvent(`error_${String(frame.code)}`)
          const cmid = frame.client_message_id
          if (typeof cmid !== 'string' || !this.outbox.has(cmid)) return
          this.inFlight.delete(cmid)
          if (RETRYABLE.has(frame.code as string)) {
            this.client.countEvent('resends')
            this.notBefore.set(cmid, performance.now() + RESEND_AFTER_MS)
          } else {
            // Not something a resend fixes: the client gives the message up (the run counts it as never acked).
            this.outbox.delete(cmid)
            this.client.countEvent('given_up')
          }
          this.pump()
        }
      }
    })
  }
}

/** Two sockets per chat: the buyer's on one instance, the seller's on the other. */
export class ChaosClient {
  readonly sockets: ChaosSocket[] = []
  /** every client_message_id written, until acked (or seen in history) or given up */
  readonly unacked = new Set<string>()
  /** client_message_id → seq the server gave it */
  readonly acked = new Map<string, number>()
  readonly events: Record<string, number> = {}
  sent = 0
  private next = 0

  constructor (readonly wsBases: string[], readonly chats: ChaosChat[], private readonly tag: string) {
    chats.forEach((_, c) => {
      this.sockets.push(new ChaosSocket(this, c, 0, 0))
      this.sockets.push(new ChaosSocket(this, c, 1, 1 % wsBases.length))
    })
  }

  countEvent (name: string): void {
    this.events[name] = (this.events[name] ?? 0) + 1
  }

  start (): void {
    for (const socket of this.sockets) socket.start()
  }

  get allOpen (): boolean {
    return this.sockets.every((socket) => socket.open)
  }

  /** Queues one new message from the next participant in turn and sends it if that socket is up. */
  sendNext (): void {
    const index = this.next++
    const socket = this.sockets[index % this.sockets.length] as ChaosSocket
    const cmid = `${this.tag}-${index}`
    this.unacked.add(cmid)
    this.sent++
    socket.write(cmid, `#${index} is this still available?`)
  }

  stored (cmid: string, seq: number): void {
    if (!this.unacked.delete(cmid) && !this.acked.has(cmid)) return
    this.acked.set(cmid, seq)
  }

  /** Messages the client still holds to send (given-up ones are not among them). */
  get pending (): number {
    return this.sockets.reduce((sum, socket) => sum + socket.outbox.size, 0)
  }

  stop (): void {
    for (const socket of this.sockets) socket.stop()
  }
}

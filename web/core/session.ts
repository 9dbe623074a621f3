// Owns one conversation's state: messages by seq (gaps fetched, never trusted), the persistent offline queue,
// typing, reads and presence. It emits what changed; views repaint only that.
import { CONTACT_MASK, MAX_MESSAGE_LENGTH, TYPING_TIMEOUT_MS } from '../../src/protocol/limits.js'
import { ChatError, type Ctx } from './context.js'
import { messageFrame, readFrame, typingFrame, type ChatSummary, type InFrame, type Message } from './protocol.js'
import { SeqTracker } from './seq-tracker.js'
import { Socket } from './socket.js'
import { load, newId, save } from './storage.js'

/** A message typed here and not yet acknowledged: shown as pending, kept in localStorage until acked or refused. */
export interface Pending { client_message_id: string, message_text: string, created_at: string, attachment_ids?: string[] }

/** A message the server refused: shown with its reason and a Retry button until retried or discarded. */
export interface Failed extends Pending { reason: string }

export type SessionEvent =
  | 'state' | 'presence' | 'typing' | 'error' | 'read' | 'read-sent' | 'loading'
  | 'history' | 'message' | 'incoming' | 'queued' | 'older' | 'rejected'

export type Listener = (kind: SessionEvent, data?: Message | Pending) => void

/** No ack within this long: reconnect, which resends under the same client_message_id (stored at most once). */
const ACK_TIMEOUT_MS = 15_000
/** A rate-limited or failed send is retried after this long. */
const RETRY_MS = 3000
/** Refresh our own "typing" well inside the server's expiry, so it does not flicker off while we type. */
const TYPING_REFRESH_MS = TYPING_TIMEOUT_MS / 2
/** Pages of a gap fetched over REST before leaving the rest to a reconnect (after_seq = the last contiguous seq). */
const GAP_PAGES = 10
const PAGE = 100
/**
 * At most one read frame per this long: a burst of arrivals on screen becomes one frame for the newest, well inside the
 * server's per-person frame rate (a refused read frame would otherwise leave messages unread until the next one).
 */
const READ_GAP_MS = 400

type Timer = ReturnType<typeof setTimeout> | undefined

const masks = (text: string): number => text.split(CONTACT_MASK).length - 1

export class ChatSession {
  readonly id: string
  readonly me: string
  readonly other: string
  readonly msgs = new Map<number, Message>()
  readonly seqs = new SeqTracker()
  readonly sock: Socket
  myRead: number
  otherRead: number
  online: string[] = []
  typing = false
  error: string | null = null
  hasMore: boolean
  loading = false
  pending: Pending[]
  /** Refused messages, kept (like the queue) across reloads until the person retries or discards them. */
  failed: Failed[]
  private readonly failedKey: string
  private readonly pendingKey: string
  private readonly listeners: Listener[] = []
  private resumedOnce = false
  private inFlight: string | null = null
  private ackTimer: Timer
  private retry: Timer
  private typingTimer: Timer
  private typingSent = 0
  private typingOn = false
  private gapRun: Promise<void> | null = null
  /** The read pointer to send next, when the last read frame went out, and the server's own word on our pointer. */
  private readWanted = 0
  private readSentAt = -Infinity
  private readTimer: Timer
  private readConfirmed: number

  constructor (readonly ctx: Ctx, public chat: ChatSummary) {
    this.id = chat.id
    this.me = chat.role === 'seller' ? chat.seller_id : chat.buyer_id
    this.other = chat.counterpart_id
    this.myRead = this.readConfirmed = chat.my_last_read_seq || 0
    this.otherRead = chat.other_last_read_seq || 0
    this.hasMore = chat.last_seq > 0
    this.pendingKey = 'mchat:pending:' + chat.id + ':' + this.me
    this.pending = load<Pending[]>(this.pendingKey) ?? []
    this.failedKey = 'mchat:failed:' + chat.id + ':' + this.me
    this.failed = load<Failed[]>(this.failedKey) ?? []
    // Resume from the last seq held without a hole: a message lost on the way is re-sent by the server's catch-up.
    this.sock = new Socket(ctx, () => ctx.wsUrl(encodeURIComponent(chat.id), this.seqs.top ? '&after_seq=' + this.seqs.top : ''), {
      frame: (f) => { this.onFrame(f) },
      state: () => {
        if (this.sock.state === 'open') this.flushRead() // a read that could not go out while the socket was down
        this.emit('state')
      },
      lost: () => {
        this.settle()
        this.setTyping(false)
        if (this.sock.attempt === 3) this.checkAccess()
      }
    })
    this.sock.start()
  }

  on (fn: Listener): void { this.listeners.push(fn) }

  private emit (kind: SessionEvent, data?: Message | Pending): void {
    for (const fn of this.listeners) fn(kind, data)
  }

  minSeq (): number {
    let m = Infinity
    for (const s of this.msgs.keys()) if (s < m) m = s
    return m
  }

  sorted (): Message[] { return Array.from(this.msgs.values()).sort((a, b) => a.seq - b.seq) }

  unread (): number {
    let n = 0
    for (const m of this.msgs.values()) if (m.sender_id !== this.me && m.seq > this.myRead) n++
    return n
  }

  private setError (code: string | null): void {
    if (this.error === code) return
    this.error = code
    this.emit('error')
  }

  /** Stores a message; false when it was already held. */
  private add (m: Message): boolean {
    const isNew = !this.msgs.has(m.seq)
    this.msgs.set(m.seq, m)
    if (m.sender_id === this.me) {
      if (m.is_read && m.seq > this.otherRead) this.otherRead = m.seq
      if (m.client_message_id) this.unqueue(m.client_message_id) // acked on another connection or before a drop
    }
    return isNew
  }

  /** A message from the live stream: held, and if it lies past a hole, the hole is fetched before anything else. */
  private addLive (m: Message): boolean {
    const isNew = this.add(m)
    this.seqs.add(m.seq)
    if (this.seqs.hasGap) this.fillGap()
    return isNew
  }

  private fillGap (): void {
    if (this.gapRun) return
    const run = async (): Promise<void> => {
      for (let page = 0; page < GAP_PAGES && this.seqs.hasGap; page++) {
        const r = await this.ctx.api<{ messages: Message[], has_more: boolean }>('GET',
          '/chats/' + encodeURIComponent(this.id) + '/messages?limit=' + PAGE + '&after_seq=' + this.seqs.top)
        for (const m of r.messages) this.add(m)
        this.seqs.addAll(r.messages.map((m) => m.seq))
        this.emit('history')
        if (!r.messages.length) break
      }
      // Still a hole (or the fetch failed): a reconnect resumes from the last contiguous seq and heals it.
      if (this.seqs.hasGap) this.sock.drop()
    }
    this.gapRun = run().catch(() => { this.sock.drop() }).then(() => { this.gapRun = null })
  }

  // Read-modify-write on storage, so two tabs of one buyer never overwrite each other's queued messages.
  private queue (p: Pending): void {
    this.pending.push(p)
    save(this.pendingKey, (load<Pending[]>(this.pendingKey) ?? []).concat([p]))
  }

  private unqueue (cid: string): void {
    const keep = (x: Pending): boolean => x.client_message_id !== cid
    this.pending = this.pending.filter(keep)
    if (this.inFlight === cid) { this.settle(); this.pump() }
    const saved = (load<Pending[]>(this.pendingKey) ?? []).filter(keep)
    save(this.pendingKey, saved.length ? saved : null)
  }

  private onFrame (f: InFrame): void {
    switch (f.type) {
      case 'history': {
        for (const m of f.messages) this.add(m)
        this.seqs.addAll(f.messages.map((m) => m.seq))
        if (this.msgs.size && this.minSeq() <= 1) this.hasMore = false
        if (f.complete) {
          const reconnect = this.resumedOnce
          this.resumedOnce = true
          this.sock.ready()
          this.settle()
          this.pump()
          if (reconnect) this.refreshSummary()
        }
        this.emit('history')
        break
      }
      case 'ack': {
        const sent = this.pending.find((p) => p.client_message_id === f.client_message_id)
        this.unqueue(f.client_message_id)
        this.addLive(f.message)
        // The service's contact filter may mask what was typed: say so, or the sender thinks the text got mangled.
        this.setError(sent && masks(f.message.message_text) > masks(sent.message_text) ? 'contact_info_masked' : null)
        this.emit('message', f.message)
        break
      }
      case 'message':
        if (this.addLive(f.message) && f.message.sender_id !== this.me) {
          this.setTyping(false)
          this.emit('incoming', f.message)
        }
        this.emit('message', f.message)
        break
      case 'typing':
        if (f.user_id !== this.me) this.setTyping(f.is_typing)
        break
      case 'read':
        if (f.user_id === this.me) {
          this.readConfirmed = Math.max(this.readConfirmed, f.last_read_seq)
          this.myRead = Math.max(this.myRead, f.last_read_seq)
        } else this.otherRead = Math.max(this.otherRead, f.last_read_seq)
        this.emit('read')
        break
      case 'presence':
        if (Array.isArray(f.online)) { this.online = f.online; this.emit('presence') }
        break
      case 'error':
        this.onError(f.code, f.client_message_id)
        break
    }
  }

  private onError (frameCode: string, cid: string | undefined): void {
    // Sockets name an outage `unavailable`, REST `service_unavailable`: one text and one retry rule for both.
    const code = frameCode === 'unavailable' ? 'service_unavailable' : frameCode
    if (cid && (code === 'rate_limited' || code === 'internal_error' || code === 'service_unavailable')) {
      this.settle() // transient: keep it queued and resend (same client_message_id) shortly
      this.retry = setTimeout(() => { this.retry = undefined; this.pump() }, RETRY_MS)
    } else if (cid) {
      const p = this.pending.find((x) => x.client_message_id === cid)
      this.unqueue(cid)
      if (p) {
        this.failed.push(Object.assign({}, p, { reason: code }))
        save(this.failedKey, this.failed)
        this.emit('rejected', p)
      }
      this.pump()
    }
    if (!cid && code === 'rate_limited' && Date.now() - this.readSentAt < RETRY_MS && this.myRead > this.readConfirmed) {
      // Our read frame was refused (other tabs of this person used the rate): send it again later, unannounced, as
      // nothing the person did was lost.
      this.readWanted = Math.max(this.readWanted, this.myRead)
      this.myRead = this.readConfirmed
      this.emit('read-sent')
      clearTimeout(this.readTimer)
      this.readTimer = setTimeout(() => { this.readTimer = undefined; this.flushRead() }, RETRY_MS)
      return
    }
    this.error = null // the same code again is news too (another refusal)
    this.setError(code)
  }

  private setTyping (on: boolean): void {
    clearTimeout(this.typingTimer)
    if (on) this.typingTimer = setTimeout(() => { this.setTyping(false) }, TYPING_TIMEOUT_MS)
    if (this.typing !== on) { this.typing = on; this.emit('typing') }
  }

  // One message in flight at a time, the next after its ack: a refused or lost one can never be overtaken.
  private pump (): void {
    const p = this.pending[0]
    if (!p || this.inFlight || this.sock.state !== 'open' || this.retry) return
    if (!this.sock.send(messageFrame(p.message_text, p.client_message_id, p.attachment_ids))) return
    this.inFlight = p.client_message_id
    this.ackTimer = setTimeout(() => { this.sock.drop() }, ACK_TIMEOUT_MS)
  }

  private settle (): void {
    this.inFlight = null
    clearTimeout(this.ackTimer)
    clearTimeout(this.retry)
    this.retry = undefined
  }

  /** Queues a message (persisted) and sends it when the stream is up. Returns an error code or null. */
  send (raw: string, attachmentIds?: string[]): string | null {
    const text = raw.replace(/\s+$/, '')
    const photos = attachmentIds?.length ? attachmentIds : undefined
    if (!text.trim() && !photos) return 'empty_message'
    if (Array.from(text).length > MAX_MESSAGE_LENGTH) {
      this.error = null
      this.setError('message_too_long')
      return 'message_too_long'
    }
    const p: Pending = { client_message_id: newId(), message_text: text, created_at: new Date().toISOString(), attachment_ids: photos }
    this.queue(p)
    this.setError(null)
    this.sendTyping(false)
    this.emit('queued', p)
    this.pump()
    return null
  }

  /** Sends a refused message again (a new client_message_id: the refused one was never stored). */
  retryFailed (cid: string): void {
    const f = this.dropFailed(cid)
    if (f) this.send(f.message_text, f.attachment_ids)
  }

  dropFailed (cid: string): Failed | undefined {
    const f = this.failed.find((x) => x.client_message_id === cid)
    this.failed = this.failed.filter((x) => x !== f)
    save(this.failedKey, this.failed.length ? this.failed : null)
    if (f) this.emit('rejected')
    return f
  }

  sendTyping (on: boolean): void {
    const now = Date.now()
    if (on && this.typingSent && now - this.typingSent < TYPING_REFRESH_MS) return
    this.typingSent = on ? now : 0
    if (on || this.typingOn) this.sock.send(typingFrame(on))
    this.typingOn = on
  }

  /** Reads up to the newest message held without a hole (and not past upTo, the newest one seen on screen): a message past a gap is not "read" before the gap is. */
  markRead (upTo = Infinity): void {
    let top = 0
    for (const m of this.msgs.values()) if (m.sender_id !== this.me && m.seq > top && m.seq <= this.seqs.top && m.seq <= upTo) top = m.seq
    if (top <= this.myRead) return
    this.readWanted = Math.max(this.readWanted, top)
    this.flushRead()
  }

  private flushRead (): void {
    if (this.readTimer !== undefined || this.readWanted <= this.myRead) return
    const wait = this.readSentAt + READ_GAP_MS - Date.now()
    if (wait > 0) {
      this.readTimer = setTimeout(() => { this.readTimer = undefined; this.flushRead() }, wait)
      return
    }
    if (this.sock.send(readFrame(this.readWanted))) {
      this.myRead = this.readWanted
      this.readSentAt = Date.now()
      this.emit('read-sent')
    }
  }

  loadOlder (): void {
    if (this.loading || !this.hasMore || !this.msgs.size) return
    this.loading = true
    this.emit('loading')
    this.ctx.api<{ messages: Message[], has_more: boolean }>('GET',
      '/chats/' + encodeURIComponent(this.id) + '/messages?limit=50&before_seq=' + this.minSeq())
      .then((r) => { for (const m of r.messages) this.add(m); this.hasMore = r.has_more })
      .catch((e: ChatError) => { this.setError(e.code) })
      .then(() => { this.loading = false; this.emit('older') })
  }

  private refreshSummary (): void {
    this.ctx.api<ChatSummary>('GET', '/chats/' + encodeURIComponent(this.id)).then((c) => {
      this.chat = c
      this.otherRead = Math.max(this.otherRead, c.other_last_read_seq || 0)
      this.readConfirmed = Math.max(this.readConfirmed, c.my_last_read_seq || 0)
      this.myRead = Math.max(this.myRead, c.my_last_read_seq || 0)
      this.emit('read')
    }).catch(() => {})
  }

  // The browser hides why a handshake was refused; ask REST so a lost chat stops the retries and a stale token is replaced.
  private checkAccess (): void {
    this.ctx.api('GET', '/chats/' + encodeURIComponent(this.id)).catch((e: ChatError) => {
      if (e.code === 'unauthorized') { this.sock.expire(); return }
      if (e.code !== 'chat_not_found') return
      this.sock.stop()
      this.setError(e.code)
    })
  }

  close (): void {
    this.sock.stop()
    this.settle()
    clearTimeout(this.typingTimer)
    clearTimeout(this.readTimer)
    this.listeners.length = 0
  }
}

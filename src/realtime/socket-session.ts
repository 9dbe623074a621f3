// Owns one open socket's plumbing: frames parsed and handled strictly in order, error frames, backpressure, heartbeat,
// token expiry and refresh, and cleanup.
import { randomUUID } from 'node:crypto'
import WebSocket, { type RawData } from 'ws'
import { identityKey, type Identity } from '../auth/identity.js'
import type { VerifiedToken } from '../auth/token-service.js'
import { isDatabaseUnavailable } from '../db/database.js'
import { AppError, frameCode, serviceUnavailable } from '../errors.js'
import type { ConnectionRegistry } from './connection-registry.js'
import { parseClientFrame, type ClientFrame, type ClientFrameType, type FrameError, type ServerFrame } from './frames.js'
import { CLOSE_BANNED, CLOSE_IDENTITY_CLAIMED, CLOSE_TOKEN_EXPIRED } from '../protocol/limits.js'

export type SessionKind = 'chat' | 'inbox'

/** What a kind of socket (chat, inbox) adds to the plumbing. */
export interface SessionHandler {
  readonly accepts: readonly ClientFrameType[]
  /** Runs once right after the upgrade; frames that arrive meanwhile wait for it. */
  open: (session: Session) => Promise<void>
  /** Checked as a frame arrives, before it queues: an error to answer, 'drop' to ignore it silently, or null. */
  admit?: (frame: ClientFrame) => FrameError | 'drop' | null
  handle: (frame: ClientFrame, session: Session) => Promise<void>
  /** Runs once after the socket closed and every queued frame was handled. */
  close: (session: Session) => Promise<void>
}

export interface SessionOptions {
  registry: ConnectionRegistry
  /** The chat a chat socket is open on (the registry closes a chat's sockets by it); absent for the inbox. */
  chatId?: string
  maxBufferedBytes: number
  /** When the token the socket was opened with expires (ms since the epoch); null: never. */
  expiresAt: number | null
  /** Checks the fresh token of an auth frame, and the person behind it as an upgrade would (claimed guest, ban). */
  verifyToken: (token: string) => Promise<VerifiedToken> | VerifiedToken
  /** Gives back what the socket held beyond the session (its slot in the per-person socket limit); never throws. */
  release?: () => Promise<void>
}

// setTimeout cannot wait longer than 2^31-1 ms (about 24.8 days; anonymous tokens last a year): longer waits go in steps.
const MAX_TIMER_MS = 2_147_483_647

// Frames are cheap to queue but not free: a client that floods faster than we handle is cut instead of buffered forever.
export const MAX_QUEUED_FRAMES = 256

function text (data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
}

export class Session {
  readonly id = randomUUID()
  readonly userKey: string
  readonly chatId: string | null
  /** Cleared at each heartbeat ping, set again by the pong. */
  alive = true
  /** Resolves after the socket closed and the handler cleaned up (unsubscribed, presence left). */
  readonly finished: Promise<void>
  private queue: Promise<void> = Promise.resolve()
  private queued = 0
  private state: 'open' | 'closing' | 'closed' = 'open'
  private failed = false
  private expiresAt: number | null
  private expiryTimer: NodeJS.Timeout | null = null

  constructor (
    readonly socket: WebSocket,
    readonly identity: Identity,
    readonly kind: SessionKind,
    private readonly handler: SessionHandler,
    private readonly options: SessionOptions
  ) {
    this.userKey = identityKey(identity)
    this.chatId = options.chatId ?? null
    this.expiresAt = options.expiresAt
    const registry = options.registry
    socket.on('message', (data, isBinary) => { this.receive(data, isBinary) })
    socket.on('pong', () => { this.alive = true })
    // ws closes the socket itself (1009) on a frame over maxPayload; counted here, the close is its business.
    socket.on('error', (error: Error & { code?: string }) => {
      registry.countRejected(error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too_large' : 'protocol_error')
    })
    this.finished = new Promise((resolve) => {
      socket.once('close', () => {
        this.state = 'closed'
        this.clearExpiry()
        this.queue = this.queue
          .then(async () => { await handler.close(this) })
          .catch((error: unknown) => { registry.log.error({ err: error, connection: this.id }, 'websocket cleanup failed') })
          // Before remove: once the registry reports the socket closed, its slot can be taken again.
          .then(async () => { await options.release?.() })
          .finally(() => { registry.remove(this) })
        resolve(this.queue)
      })
    })
    if (!registry.add(this)) {
      this.close(1001, 'Server shutting down; reconnect')
      return
    }
    this.scheduleExpiry()
    this.enqueue(async () => { await handler.open(this) }, (error) => {
      // Without its subscriptions and history this socket would silently miss messages: better closed than wrong.
      this.failed = true
      if (isDatabaseUnavailable(error)) {
        // An outage, not a bug: 1013 tells the client to come back later (with backoff) rather than at once.
        registry.log.warn({ connection: this.id, reason: error instanceof Error ? error.message : String(error) }, 'websocket setup failed: database unavailable')
        this.close(1013, 'Service unavailable; try again later')
        return
      }
      registry.log.error({ err: error, connection: this.id }, 'websocket setup failed')
      this.close(1011, 'Internal error; reconnect')
    })
  }

  get isOpen (): boolean {
    return this.state === 'open' && this.socket.readyState === WebSocket.OPEN
  }

  send (frame: ServerFrame): void {
    if (!this.isOpen) return
    this.socket.send(JSON.stringify(frame))
    // A peer that stops reading would make us buffer everything sent to it; it can catch up with after_seq instead.
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.options.registry.countSlowConsumer()
      this.options.registry.log.info({ connection: this.id, buffered: this.socket.bufferedAmount }, 'websocket reads too slowly; closing')
      this.close(1013, 'Too slow to keep up; reconnect with after_seq')
    }
  }

  /** Sends and resolves once written out, so large catch-ups go at the reader's pace rather than piling up. */
  async flush (frame: ServerFrame): Promise<void> {
    if (!this.isOpen) return
    await new Promise<void>((resolve) => { this.socket.send(JSON.stringify(frame), () => { resolve() }) })
  }

  sendError (error: FrameError): void {
    this.options.registry.countRejected(error.code)
    this.send({ type: 'error', ...error })
  }

  close (code: number, reason: string): void {
    if (this.state !== 'open') return
    this.state = 'closing'
    // A paused socket would never read the peer's closing handshake.
    this.socket.resume()
    this.socket.close(code, reason)
  }

  terminate (): void {
    this.state = 'closed'
    this.socket.terminate()
  }

  ping (): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping()
  }

  /** Stops reading from the peer (shutdown): frames already read still get handled. */
  pause (): void {
    this.socket.pause()
  }

  /** Resolves once every frame received so far has been handled. */
  async drain (): Promise<void> {
    let current: Promise<void>
    do {
      current = this.queue
      await current
    } while (current !== this.queue)
  }

  private receive (data: RawData, isBinary: boolean): void {
    // After we started closing nothing more is accepted; it was never acked, so the client resends it elsewhere.
    if (this.state !== 'open') return
    if (this.queued >= MAX_QUEUED_FRAMES) {
      this.options.registry.countRejected('too_many_queued')
      this.close(1008, 'Too many frames waiting; slow down')
      return
    }
    if (isBinary) {
      this.enqueue(() => { this.sendError({ code: 'invalid_json', message: 'Send JSON text frames' }) })
      return
    }
    const parsed = parseClientFrame(text(data), this.handler.accepts)
    if (!parsed.ok) {
      const { error } = parsed
      this.enqueue(() => { this.sendError(error) })
      return
    }
    const frame = parsed.frame
    // Answered in turn, so a pong also tells the client every earlier frame has been handled.
    if (frame.type === 'ping') {
      this.enqueue(() => { this.send({ type: 'pong' }) })
      return
    }
    if (frame.type === 'auth') {
      const token = frame.token
      this.enqueue(async () => { await this.reauthenticate(token) })
      return
    }
    const verdict = this.handler.admit?.(frame) ?? null
    if (verdict === 'drop') return
    if (verdict !== null) {
      this.enqueue(() => { this.sendError(verdict) })
      return
    }
    this.enqueue(async () => { await this.handler.handle(frame, this) }, (error) => {
      this.sendError(this.describe(error, frame.type === 'message' ? frame.client_message_id : undefined))
    })
  }

  /**
   * A fresh token extends the socket's life to its exp. It must name the same person (same id, same kind): a socket
   * never changes hands. A token that fails either way is answered with an error frame and the current expiry stands.
   */
  private async reauthenticate (token: string): Promise<void> {
    let verified: VerifiedToken
    try {
      verified = await this.options.verifyToken(token)
    } catch (error) {
      // Not a verdict on the token (the database could not answer the ban check, say): the usual error frame.
      if (!(error instanceof AppError)) { this.sendError(this.describe(error, undefined)); return }
      // The person is refused as a whole (a claimed guest, a ban that raced this socket's opening): so is this socket.
      if (error.code === 'token_claimed') { this.close(CLOSE_IDENTITY_CLAIMED, 'identity_claimed'); return }
      if (error.code === 'banned') { this.close(CLOSE_BANNED, 'banned'); return }
      this.sendError({ code: 'unauthorized', message: `${error.message}; the current token still applies until it expires` })
      return
    }
    if (identityKey(verified.identity) !== this.userKey) {
      this.sendError({ code: 'forbidden', message: 'The token is for a different user; the current token still applies until it expires' })
      return
    }
    this.expiresAt = verified.expiresAt
    this.scheduleExpiry()
    this.send({ type: 'auth_ok', exp: Math.floor(verified.expiresAt / 1000) })
  }

  private scheduleExpiry (): void {
    this.clearExpiry()
    if (this.expiresAt === null || this.state !== 'open') return
    const left = this.expiresAt - Date.now()
    if (left <= 0) {
      this.options.registry.countRejected('token_expired')
      this.options.registry.log.info({ connection: this.id }, 'websocket token expired; closing')
      this.close(CLOSE_TOKEN_EXPIRED, 'token_expired')
      return
    }
    this.expiryTimer = setTimeout(() => { this.scheduleExpiry() }, Math.min(left, MAX_TIMER_MS))
    this.expiryTimer.unref()
  }

  private clearExpiry (): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer)
    this.expiryTimer = null
  }

  private enqueue (task: () => Promise<void> | void, onError?: (error: unknown) => void): void {
    this.queued++
    this.queue = this.queue.then(async () => {
      if (this.failed) return
      try {
        await task()
      } catch (error) {
        if (onError !== undefined) onError(error)
        else this.options.registry.log.error({ err: error, connection: this.id }, 'websocket frame failed')
      } finally {
        this.queued--
      }
    })
  }

  /** The error frame for a failed frame: our own errors say what went wrong; anything else says only that it did. */
  private describe (error: unknown, clientMessageId: string | undefined): FrameError {
    const withId = clientMessageId === undefined ? {} : { client_message_id: clientMessageId }
    if (error instanceof AppError) return { code: frameCode(error.code), message: error.message, ...withId }
    if (isDatabaseUnavailable(error)) {
      this.options.registry.log.warn({ connection: this.id, reason: error instanceof Error ? error.message : String(error) }, 'websocket frame failed: database unavailable')
      const message = clientMessageId === undefined ? serviceUnavailable().message : 'Service temporarily unavailable; not stored, resend shortly with the same client_message_id'
      return { code: frameCode('service_unavailable'), message, ...withId }
    }
    this.options.registry.log.error({ err: error, connection: this.id }, 'websocket frame failed')
    return { code: 'internal_error', message: 'Internal error; try again (a resend with the same client_message_id is safe)', ...withId }
  }
}

/** Takes over a freshly upgraded socket; the session lives until the socket closes. */
export function startSession (socket: WebSocket, identity: Identity, kind: SessionKind, handler: SessionHandler, options: SessionOptions): Session {
  return new Session(socket, identity, kind, handler, options)
}

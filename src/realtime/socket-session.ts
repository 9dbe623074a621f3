// Owns one open socket's plumbing: frames parsed and handled strictly in order, error frames, backpressure, heartbeat and cleanup.
import { randomUUID } from 'node:crypto'
import WebSocket, { type RawData } from 'ws'
import { identityKey, type Identity } from '../auth/identity.js'
import { AppError } from '../errors.js'
import type { ConnectionRegistry } from './connection-registry.js'
import { parseClientFrame, type ClientFrame, type ClientFrameType, type FrameError, type ServerFrame } from './frames.js'

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
  maxBufferedBytes: number
}

// Frames are cheap to queue but not free: a client that floods faster than we handle is cut instead of buffered forever.
const MAX_QUEUED_FRAMES = 256

function text (data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
}

export class Session {
  readonly id = randomUUID()
  readonly userKey: string
  /** Cleared at each heartbeat ping, set again by the pong. */
  alive = true
  /** Resolves after the socket closed and the handler cleaned up (unsubscribed, presence left). */
  readonly finished: Promise<void>
  private queue: Promise<void> = Promise.resolve()
  private queued = 0
  private state: 'open' | 'closing' | 'closed' = 'open'
  private failed = false

  constructor (
    readonly socket: WebSocket,
    readonly identity: Identity,
    readonly kind: SessionKind,
    private readonly handler: SessionHandler,
    private readonly options: SessionOptions
  ) {
    this.userKey = identityKey(identity)
    const registry = options.registry
    socket.on('message', (data, isBinary) => { this.receive(data, isBinary) })
    socket.on('pong', () => { this.alive = true })
    this.finished = new Promise((resolve) => {
      socket.once('close', () => {
        this.state = 'closed'
        this.queue = this.queue
          .then(async () => { await handler.close(this) })
          .catch((error: unknown) => { registry.log.error({ err: error, connection: this.id }, 'websocket cleanup failed') })
          .finally(() => { registry.remove(this) })
        resolve(this.queue)
      })
    })
    if (!registry.add(this)) {
      this.close(1001, 'Server shutting down; reconnect')
      return
    }
    this.enqueue(async () => { await handler.open(this) }, (error) => {
      // Without its subscriptions and history this socket would silently miss messages: better closed than wrong.
      this.failed = true
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
    if (error instanceof AppError) return { code: error.code, message: error.message, ...withId }
    this.options.registry.log.error({ err: error, connection: this.id }, 'websocket frame failed')
    return { code: 'internal_error', message: 'Internal error; try again (a resend with the same client_message_id is safe)', ...withId }
  }
}

/** Takes over a freshly upgraded socket; the session lives until the socket closes. */
export function startSession (socket: WebSocket, identity: Identity, kind: SessionKind, handler: SessionHandler, options: SessionOptions): Session {
  return new Session(socket, identity, kind, handler, options)
}

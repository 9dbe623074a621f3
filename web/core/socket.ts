// Owns one WebSocket that comes back: exponential backoff with jitter, heartbeat, and in-socket token refresh.
import { CLOSE_TOKEN_EXPIRED } from '../../src/protocol/limits.js'
import type { Ctx } from './context.js'
import { authFrame, pingFrame, type InFrame, type OutFrame } from './protocol.js'

export type SocketState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'expired'

export interface SocketHandlers {
  frame: (frame: InFrame) => void
  open?: () => void
  state?: (state: SocketState) => void
  lost?: (code: number | undefined) => void
}

const PING_EVERY_MS = 20_000
const SILENT_AFTER_MS = 45_000
const BACKOFF_BASE_MS = 500
const BACKOFF_CAP_MS = 30_000

export class Socket {
  state: SocketState = 'idle'
  attempt = 0
  private ws: WebSocket | null = null
  private stopped = true
  private everOpen = false
  private rx = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private beat: ReturnType<typeof setInterval> | undefined
  /** The token of an auth frame sent and not yet answered. */
  private authPending: string | null = null
  /** The token this socket connected with, or last re-authenticated with. */
  private tokenInUse: string | null = null
  private readonly offToken: () => void

  constructor (private readonly ctx: Ctx, private readonly url: () => string, private readonly h: SocketHandlers) {
    this.offToken = ctx.onToken(() => { this.tokenChanged() })
  }

  private readonly onOnline = (): void => { // retry at once, abandoning an attempt that started while offline
    if (this.state === 'expired') return
    this.attempt = 0
    if (this.ws && this.ws.readyState !== WebSocket.OPEN) this.lost(this.ws)
    this.connect()
  }

  private readonly onOffline = (): void => { this.drop() } // the browser knows before TCP does

  start (): void {
    if (!this.stopped) return
    this.stopped = false
    window.addEventListener('online', this.onOnline)
    window.addEventListener('offline', this.onOffline)
    this.connect()
  }

  private setState (s: SocketState): void {
    if (this.state === s) return
    this.state = s
    this.h.state?.(s)
  }

  private connect (): void {
    clearTimeout(this.timer)
    if (this.stopped || this.ws || this.state === 'expired') return
    this.setState(this.everOpen ? 'reconnecting' : 'connecting')
    let ws: WebSocket
    // The token as the offered subprotocol (the server echoes it back): never in a URL a console or log prints.
    try { ws = new WebSocket(this.url(), this.ctx.token ? [this.ctx.token] : []) } catch { this.lost(null); return }
    this.ws = ws
    this.authPending = null
    this.tokenInUse = this.ctx.token
    ws.onopen = () => {
      this.everOpen = true
      this.rx = Date.now()
      this.beat = setInterval(() => {
        if (Date.now() - this.rx > SILENT_AFTER_MS) { this.drop(); return } // silent half-open connection
        this.send(pingFrame())
      }, PING_EVERY_MS)
      this.h.open?.()
    }
    ws.onmessage = (e: MessageEvent) => {
      this.rx = Date.now()
      let f: InFrame
      try { f = JSON.parse(String(e.data)) as InFrame } catch { return }
      if (f === null || typeof f !== 'object' || f.type === 'pong' || this.authAnswer(f)) return
      this.h.frame(f)
    }
    ws.onclose = (e: CloseEvent) => { this.lost(ws, e.code) }
  }

  private lost (ws: WebSocket | null, code?: number): void {
    if (ws && ws !== this.ws) return
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = null }
    this.ws = null
    clearInterval(this.beat)
    if (this.stopped) return
    // Expired, but the host already handed over a newer token (its auth frame was too late): reconnect with it.
    if (code === CLOSE_TOKEN_EXPIRED && (!this.ctx.token || this.ctx.token === this.tokenInUse)) { this.expire(); return }
    if (code === CLOSE_TOKEN_EXPIRED) this.attempt = 0
    this.setState(this.everOpen ? 'reconnecting' : 'connecting')
    this.h.lost?.(code)
    const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, this.attempt++))
    this.timer = setTimeout(() => { this.connect() }, cap / 2 + Math.random() * cap / 2)
  }

  /**
   * The token is no good any more (closed with token_expired, or refused): no reconnect with it. The host is asked
   * for a fresh one, and the socket comes back when it arrives.
   */
  expire (): void {
    clearTimeout(this.timer)
    const ws = this.ws
    if (ws) { this.ws = null; ws.onopen = ws.onmessage = ws.onclose = null; clearInterval(this.beat); try { ws.close(1000) } catch {} }
    this.setState('expired')
    this.h.lost?.(CLOSE_TOKEN_EXPIRED)
    this.ctx.expired()
  }

  private tokenChanged (): void {
    if (this.stopped) return
    if (this.state === 'expired') {
      this.attempt = 0
      this.setState(this.everOpen ? 'reconnecting' : 'connecting')
      this.connect()
    } else if (this.ws?.readyState === WebSocket.CONNECTING) {
      // The handshake in flight carries the old token: start over with the new one.
      this.attempt = 0
      this.drop()
    } else if (this.ws?.readyState === WebSocket.OPEN && this.ctx.token) {
      // Keep the open socket (no gap, no history replay): the server extends it to the new token's exp.
      this.authPending = this.ctx.token
      this.send(authFrame(this.ctx.token))
    }
    // Connecting or backing off: the next connect reads the new token from ctx.
  }

  /** Consumes the answer to an auth frame; true when `f` was one. */
  private authAnswer (f: InFrame): boolean {
    if (f.type === 'auth_ok') { this.tokenInUse = this.authPending ?? this.tokenInUse; this.authPending = null; return true }
    if (f.type !== 'error' || this.authPending === null || f.client_message_id !== undefined) return false
    this.authPending = null
    // A server without in-socket auth refuses the frame: reconnecting carries the new token in the handshake instead.
    if (f.code === 'unknown_type' || f.code === 'validation_failed') { this.attempt = 0; this.drop(); return true }
    if (f.code === 'unauthorized' || f.code === 'token_expired' || f.code === 'forbidden') { this.expire(); return true }
    return false
  }

  /** The owner calls this once the stream is usable again (after history), so a flapping socket keeps backing off. */
  ready (): void {
    this.attempt = 0
    this.setState('open')
  }

  drop (): void {
    const ws = this.ws
    if (!ws) return
    this.lost(ws)
    try { ws.close() } catch {}
  }

  send (frame: OutFrame): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(frame))
    return true
  }

  stop (): void {
    this.stopped = true
    this.offToken()
    window.removeEventListener('online', this.onOnline)
    window.removeEventListener('offline', this.onOffline)
    clearTimeout(this.timer)
    clearInterval(this.beat)
    const ws = this.ws
    this.ws = null
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = null; try { ws.close(1000) } catch {} }
  }
}

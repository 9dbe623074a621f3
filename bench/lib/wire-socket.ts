// A WebSocket client on a bare TCP socket for the load client: handshake, server frames read in place, zero-masked text frames out.
import { connect, type Socket } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const HEADER_END = Buffer.from('\r\n\r\n')

/**
 * Every socket of a thread reads into this one buffer (net's `onread`): no Buffer per read, no Readable stream and
 * no ws Receiver (itself a Writable) between the kernel and the frame parser. That is safe because a read is handed
 * over synchronously and the handlers below copy whatever must outlive it.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024)

export interface WireHandlers {
  open: () => void
  /** one whole text or binary message; buf[start, end) is valid only during the call */
  message: (buf: Buffer, start: number, end: number) => void
  /** 1006 when the TCP connection ended without a close frame, 1005 when the close frame had no code */
  close: (code: number) => void
  error: (err: Error) => void
  /** the server answered the upgrade with something other than 101 */
  unexpectedResponse: (status: number) => void
}

// the life of a WireSocket, numbered as ws's readyState
const WireState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const
type WireState = typeof WireState[keyof typeof WireState]

/**
 * What the ws client does for the chat sockets, minus its per-frame cost: frames arrive unmasked from the server and
 * are cut out of the read buffer without copying; outgoing frames carry an all-zero mask (RFC 6455 wants the mask
 * unpredictable only for browsers, against proxy cache poisoning), so the payload is written as is and the server
 * still unmasks it as it would a browser's. Pings are answered, fragmented messages reassembled.
 */
export class WireSocket {
  state: WireState = WireState.Connecting
  private readonly socket: Socket
  private readonly key = randomBytes(16).toString('base64')
  /** response bytes before the end of the upgrade headers */
  private head: Buffer | null = Buffer.alloc(0)
  /** an incomplete frame left over from the previous read (a copy) */
  private pending: Buffer | null = null
  private fragments: Buffer[] | null = null
  private closeCode = 1006
  private closeSent = false
  private readonly timer: NodeJS.Timeout

  constructor (url: string, private readonly on: WireHandlers, handshakeTimeoutMs = 30_000) {
    const u = new URL(url)
    const port = Number(u.port || 80)
    this.socket = connect({
      // an IPv6 literal comes bracketed in a URL, not in a socket address
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => { this.read(buf as Buffer, n); return true } }
    })
    this.timer = setTimeout(() => {
      this.fail(new Error('Opening handshake has timed out'))
    }, handshakeTimeoutMs)
    this.socket.once('connect', () => {
      this.socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\n` +
        `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${this.key}\r\n\r\n`)
    })
    this.socket.on('error', (err) => { if (this.state === WireState.Connecting) this.on.error(err) })
    this.socket.once('close', () => {
      clearTimeout(this.timer)
      this.state = WireState.Closed
      this.on.close(this.closeCode)
    })
  }

  /** Sends one text frame; false when the socket is not open. */
  send (text: string): boolean {
    if (this.state !== WireState.Open) return false
    this.socket.write(frame(0x1, text))
    return true
  }

  /** Close handshake: our close frame, then the server's, then the server ends the TCP connection. */
  close (code = 1000): void {
    if (this.state === WireState.Closed) return
    if (this.state === WireState.Connecting) { this.terminate(); return }
    this.state = WireState.Closing
    this.sendClose(code)
  }

  /** Drops the TCP connection without a close frame, as a lost network would. */
  terminate (): void {
    if (this.state === WireState.Closed) return
    this.socket.destroy()
  }

  private fail (err: Error): void {
    if (this.state === WireState.Connecting) this.on.error(err)
    this.socket.destroy()
  }

  private sendClose (code: number): void {
    if (this.closeSent) return
    this.closeSent = true
    const payload = Buffer.allocUnsafe(2)
    payload.writeUInt16BE(code, 0)
    this.socket.write(frame(0x8, payload))
  }

  private read (buf: Buffer, n: number): void {
    if (this.head !== null) {
      const head = Buffer.concat([this.head, buf.subarray(0, n)])
      const end = head.indexOf(HEADER_END)
      if (end < 0) { this.head = head; return }
      this.head = null
      if (!this.upgraded(head.toString('latin1', 0, end))) return
      if (end + 4 < head.length) this.frames(head, end + 4, head.length)
      return
    }
    if (this.pending !== null) {
      const joined = Buffer.concat([this.pending, buf.subarray(0, n)])
      this.pending = null
      this.frames(joined, 0, joined.length)
      return
    }
    this.frames(buf, 0, n)
  }

  /** Checks the 101 answer; true when the socket is now open. */
  private upgraded (head: string): boolean {
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
    if (status !== 101) {
      clearTimeout(this.timer)
      this.on.unexpectedResponse(status)
      this.socket.destroy()
      return false
    }
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1]
    if (accept !== createHash('sha1').update(this.key + GUID).digest('base64')) {
      this.fail(new Error('Invalid Sec-WebSocket-Accept header'))
      return false
    }
    clearTimeout(this.timer)
    this.state = WireState.Open
    this.on.open()
    return true
  }

  /** Handles every whole frame in buf[start, end) and keeps a copy of a trailing partial one. */
  private frames (buf: Buffer, start: number, end: number): void {
    let i = start
    while (end - i >= 2 && this.state !== WireState.Closed) {
      const b0 = buf[i] as number
      const b1 = buf[i + 1] as number
      let len = b1 & 0x7f
      let hdr = 2
      if (len === 126) {
        if (end - i < 4) break
        len = buf.readUInt16BE(i + 2)
        hdr = 4
      } else if (len === 127) {
        if (end - i < 10) break
        len = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6)
        hdr = 10
      }
      if (b1 & 0x80) { this.protocolError(); return }
      if (end - i < hdr + len) break
      const p = i + hdr
      i = p + len
      this.frame(b0, buf, p, p + len)
    }
    if (i < end && this.state !== WireState.Closed) this.pending = Buffer.from(buf.subarray(i, end))
  }

  private frame (b0: number, buf: Buffer, start: number, end: number): void {
    const fin = (b0 & 0x80) !== 0
    const opcode = b0 & 0x0f
    switch (opcode) {
      case 0x1: case 0x2:
        if (fin && this.fragments === null) { this.on.message(buf, start, end); return }
        this.fragments = [Buffer.from(buf.subarray(start, end))]
        return
      case 0x0: {
        if (this.fragments === null) { this.protocolError(); return }
        this.fragments.push(Buffer.from(buf.subarray(start, end)))
        if (!fin) return
        const whole = Buffer.concat(this.fragments)
        this.fragments = null
        this.on.message(whole, 0, whole.length)
        return
      }
      case 0x8:
        this.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005
        this.state = WireState.Closing
        this.sendClose(this.closeCode === 1005 ? 1000 : this.closeCode)
        this.socket.end()
        return
      case 0x9:
        if (this.state === WireState.Open) this.socket.write(frame(0xa, Buffer.from(buf.subarray(start, end))))
        return
      case 0xa:
        return
      default:
        this.protocolError()
    }
  }

  private protocolError (): void {
    this.closeCode = 1002
    this.sendClose(1002)
    this.socket.destroy()
  }
}

/** A client frame with an all-zero mask: header, four zero bytes, the payload unchanged. */
function frame (opcode: number, data: string | Buffer): Buffer {
  const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length
  const hdr = len < 126 ? 6 : len < 65536 ? 8 : 14
  const out = Buffer.allocUnsafe(hdr + len)
  out[0] = 0x80 | opcode
  if (len < 126) {
    out[1] = 0x80 | len
  } else if (len < 65536) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(len, 2)
  } else {
    out[1] = 0x80 | 127
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2)
    out.writeUInt32BE(len >>> 0, 6)
  }
  out.writeUInt32BE(0, hdr - 4)
  if (typeof data === 'string') out.write(data, hdr, 'utf8')
  else data.copy(out, hdr)
  return out
}

// A TCP proxy that injects network faults between the service and PostgreSQL or Redis: cut, refuse, black-hole, latency.
import { EventEmitter } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'

export type ProxyMode = 'pass' | 'refuse' | 'blackhole'

interface Pair {
  client: Socket
  /** null for a connection accepted while black-holed: nothing ever reached the server */
  upstream: Socket | null
  blackholed: boolean
}

/**
 * Listens on 127.0.0.1 and forwards each connection to `target`. Faults act like the network or the server would:
 * - cut(): every open connection is reset (the server process died, `pg_ctl stop -m immediate`);
 * - refuse: new connections are reset at once (nothing listens);
 * - blackhole: open and new connections stay up but nothing gets through either way (a hung server, a partition);
 *   heal() then resets them, since bytes were lost and the protocol stream cannot resume;
 * - latencyMs: every chunk waits that long before it is forwarded.
 */
export class FaultProxy extends EventEmitter<{ upstream: [bytes: number] }> {
  mode: ProxyMode = 'pass'
  latencyMs = 0
  private readonly pairs = new Set<Pair>()

  private constructor (private readonly server: Server, readonly port: number) {
    super()
  }

  static async start (target: { host: string, port: number }): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null
    const server = createServer((client) => { proxy?.accept(client, target) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no port')
    proxy = new FaultProxy(server, address.port)
    return proxy
  }

  /** The same URL with host and port replaced by the proxy's. */
  urlFor (url: string): string {
    const parsed = new URL(url)
    parsed.hostname = '127.0.0.1'
    parsed.port = String(this.port)
    return parsed.toString()
  }

  get connections (): number {
    return this.pairs.size
  }

  /** Resets every open connection (new ones still pass unless the mode says otherwise). */
  cut (): void {
    for (const pair of [...this.pairs]) this.drop(pair)
  }

  refuse (): void {
    this.mode = 'refuse'
  }

  blackhole (): void {
    this.mode = 'blackhole'
    for (const pair of this.pairs) pair.blackholed = true
  }

  /** Back to forwarding; black-holed connections are reset (their streams lost bytes). */
  heal (): void {
    this.mode = 'pass'
    for (const pair of [...this.pairs]) if (pair.blackholed) this.drop(pair)
  }

  async close (): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }

  private accept (client: Socket, target: { host: string, port: number }): void {
    client.on('error', () => {})
    if (this.mode === 'refuse') {
      client.resetAndDestroy()
      return
    }
    const blackholed = this.mode === 'blackhole'
    const upstream = blackholed ? null : connect(target.port, target.host)
    const pair: Pair = { client, upstream, blackholed }
    this.pairs.add(pair)
    client.on('close', () => { this.drop(pair) })
    client.on('data', (chunk: Buffer) => {
      // Tests wait for this to know a request is on its way (in flight) before they inject a fault.
      this.emit('upstream', chunk.length)
      this.forward(pair, chunk, client, pair.upstream)
    })
    if (upstream !== null) {
      upstream.on('error', () => {})
      upstream.on('close', () => { this.drop(pair) })
      upstream.on('data', (chunk: Buffer) => { this.forward(pair, chunk, upstream, client) })
    }
  }

  private forward (pair: Pair, chunk: Buffer, from: Socket, to: Socket | null): void {
    if (pair.blackholed || to === null) return
    const write = (): void => {
      if (to.destroyed || pair.blackholed) return
      // Backpressure: a slow side slows the other down instead of filling the proxy's memory.
      if (!to.write(chunk)) {
        from.pause()
        to.once('drain', () => { from.resume() })
      }
    }
    // Equal delays fire in the order they were set, so latency never reorders a stream.
    if (this.latencyMs > 0) setTimeout(write, this.latencyMs)
    else write()
  }

  private drop (pair: Pair): void {
    if (!this.pairs.delete(pair)) return
    reset(pair.client)
    if (pair.upstream !== null) reset(pair.upstream)
  }
}

/** A TCP reset, as from a crashed peer; a connection still being set up is simply abandoned. */
function reset (socket: Socket): void {
  if (socket.destroyed) return
  if (socket.connecting) {
    socket.destroy()
    return
  }
  socket.resetAndDestroy()
}

// Keep-alive JSON HTTP client for the bench (lighter than fetch, so client overhead stays out of REST latencies).
import { Agent, request } from 'node:http'

export interface HttpResult<T = unknown> {
  status: number
  body: T
  /** request start to last body byte: the server's latency, without the client's JSON.parse */
  ms: number
  bytes: number
}

export class HttpClient {
  private readonly agent: Agent
  private readonly host: string
  private readonly port: number

  constructor (baseUrl: string, maxSockets = 32) {
    const u = new URL(baseUrl)
    this.host = u.hostname
    this.port = Number(u.port || 80)
    this.agent = new Agent({ keepAlive: true, maxSockets })
  }

  async json<T = unknown> (method: string, path: string, token?: string, body?: unknown): Promise<HttpResult<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (token) headers.authorization = `Bearer ${token}`
    if (payload !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(payload))
    }
    return await new Promise((resolve, reject) => {
      const t0 = performance.now()
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const ms = performance.now() - t0
          const raw = Buffer.concat(chunks)
          const text = raw.toString()
          let parsed: unknown = text
          try { parsed = text ? JSON.parse(text) : null } catch { /* keep raw text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, ms, bytes: raw.length })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)))
      req.end(payload)
    })
  }

  close (): void { this.agent.destroy() }
}

/** Runs fn over items with at most `concurrency` in flight; results keep input order. */
export async function pool<T, R> (items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return out
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until true or `timeoutMs` elapses; returns whether it became true. */
export async function waitUntil (check: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > end) return false
    await sleep(everyMs)
  }
  return true
}

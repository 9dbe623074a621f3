// Scenario `attachments`: photo uploads (about 1 MB JPEGs) at a fixed concurrency; uploads/s and latency against the relay's plain multipart upload that stores nothing.
import { Agent, request } from 'node:http'
import sharp from 'sharp'
import { createChats, runTag } from '../lib/fixtures.js'
import { pool } from '../lib/http.js'
import { ratio, round, summarize, type LatencySummary } from '../lib/stats.js'
import { defaultResultsDir, describeMachine, table, writeResults } from '../lib/results.js'
import { noLog, resolveTargets, withTarget, type CommonOptions } from '../lib/common.js'
import type { TargetKind } from '../lib/target.js'

export interface AttachmentsOptions extends CommonOptions {
  /** uploads per target (default 200) */
  uploads?: number
  /** uploads in flight at once (default 8) */
  concurrency?: number
  /** size the test photo aims for, in bytes (default 1 MB) */
  photoBytes?: number
}

export interface AttachmentsTargetResult {
  kind: TargetKind
  uploads: number
  ok: number
  errors: Record<string, number>
  uploadsPerSec: number
  latency: LatencySummary
}

const BOUNDARY = '----chat-bench-attachments'

/** A JPEG of noise (incompressible, like a real photo's detail) close to `bytes` long, with EXIF for the stripping path. */
async function photo (bytes: number): Promise<Buffer> {
  let side = 400
  for (;;) {
    const width = Math.round(side * 4 / 3)
    const pixels = Buffer.alloc(width * side * 3)
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24
    const jpeg = await sharp(pixels, { raw: { width, height: side, channels: 3 } })
      .withExif({ IFD0: { Make: 'BenchCam' } }).jpeg({ quality: 90 }).toBuffer()
    if (jpeg.length >= bytes || side >= 4000) return jpeg
    side = Math.ceil(side * Math.sqrt(bytes / jpeg.length) * 1.05)
  }
}

function multipartBody (file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  ])
}

async function post (agent: Agent, baseUrl: string, path: string, token: string, body: Buffer): Promise<{ status: number, ms: number, code: string | null }> {
  const u = new URL(baseUrl)
  return await new Promise((resolve, reject) => {
    const t0 = performance.now()
    const req = request({
      host: u.hostname,
      port: Number(u.port || 80),
      method: 'POST',
      path,
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(body.length)
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        let code: string | null = null
        if ((res.statusCode ?? 0) >= 400) {
          try { code = (JSON.parse(Buffer.concat(chunks).toString()) as { error?: { code?: string } }).error?.code ?? null } catch {}
        }
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, code })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error('upload timed out')))
    req.end(body)
  })
}

export async function attachments (opts: AttachmentsOptions = {}): Promise<{ table: string, path: string, targets: AttachmentsTargetResult[] }> {
  const log = opts.log ?? noLog
  const uploads = opts.uploads ?? 200
  const concurrency = opts.concurrency ?? 8
  const file = await photo(opts.photoBytes ?? 1024 * 1024)
  const body = multipartBody(file)
  log(`test photo: ${file.length} bytes`)
  const results: AttachmentsTargetResult[] = []
  for (const kind of resolveTargets(opts)) {
    results.push(await withTarget(kind, opts, async (target) => {
      const chats = await createChats(target, concurrency, runTag())
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
      const latencies: number[] = []
      const errors: Record<string, number> = {}
      const t0 = performance.now()
      try {
        await pool(Array.from({ length: uploads }, (_, i) => i), concurrency, async (i) => {
          const chat = chats[i % chats.length]
          if (chat === undefined) return
          const r = await post(agent, target.baseUrl, `/api/chat/chats/${chat.id}/attachments`, chat.buyer.token, body)
          if (r.status === 201) latencies.push(r.ms)
          else errors[r.code ?? String(r.status)] = (errors[r.code ?? String(r.status)] ?? 0) + 1
        })
      } finally {
        agent.destroy()
      }
      const seconds = (performance.now() - t0) / 1000
      const result = { kind, uploads, ok: latencies.length, errors, uploadsPerSec: round(latencies.length / seconds, 1), latency: summarize(latencies) }
      log(`[${kind}] ${result.ok}/${uploads} uploads, ${result.uploadsPerSec}/s, p99 ${round(result.latency.p99, 1)} ms`)
      return result
    }))
  }
  const base = results.find((r) => r.kind === 'relay')
  const text = table(
    ['target', 'uploads', 'ok', 'errors', 'uploads/s', 'p50 ms', 'p99 ms', 'uploads/s vs relay', 'p99 vs relay'],
    results.map((r) => [
      r.kind, r.uploads, r.ok, Object.keys(r.errors).length === 0 ? 0 : JSON.stringify(r.errors), r.uploadsPerSec,
      round(r.latency.p50, 1), round(r.latency.p99, 1),
      r.kind === 'relay' ? null : ratio(r.uploadsPerSec, base?.uploadsPerSec),
      r.kind === 'relay' ? null : ratio(r.latency.p99, base?.latency.p99)
    ])
  )
  const data = { scenario: 'attachments', startedAt: new Date().toISOString(), machine: await describeMachine(opts.databaseUrl), photoBytes: file.length, concurrency, targets: results, table: text }
  return { table: text, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'attachments', data), targets: results }
}

// Owns the app's Prometheus metrics: one registry per app, the metric objects other parts update, and the HTTP timing hook.
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Live counts the WebSocket layer keeps (ConnectionRegistry.stats()); read at scrape time so they cannot drift. */
export interface RealtimeReadings {
  chatConnections: number
  inboxConnections: number
  /** Distinct users with at least one open connection to this instance. */
  onlineUsers: number
  messagesReceived: number
  heartbeatTimeouts: number
  slowConsumerCloses: number
}

export interface Metrics {
  registry: Registry
  /** One per newly stored message (duplicates of a retried client_message_id are not counted). */
  messagesStored: Counter
  /** Messages per statement that stored them (group commit: how much concurrent sends were batched). */
  sendBatchMessages: Histogram
  /** WebSocket frames answered with an error frame or a close, by reason (the error code, too_large, too_many_queued). */
  framesRejected: Counter<'reason'>
  /** Seconds from a message's commit to its frame being written to a recipient's socket. */
  deliveryLatency: Histogram
  openConnections: Gauge<'kind'>
  onlineUsers: Gauge
  httpDuration: Histogram<'method' | 'route' | 'status_code'>
  /** Hands the WebSocket layer's live counts to the gauges and counters read at scrape time. */
  readRealtime: (read: () => RealtimeReadings) => void
  /** Hands the broker's Redis state to chat_redis_up, read at scrape time. */
  readRedis: (read: () => 'up' | 'down' | 'disabled') => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

export function createMetrics (poolStats: () => { total: number, idle: number, waiting: number }): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  let realtime: (() => RealtimeReadings) | null = null
  let redis: (() => 'up' | 'down' | 'disabled') | null = null

  const metrics: Metrics = {
    registry,
    messagesStored: new Counter({
      name: 'chat_messages_stored_total',
      help: 'Messages stored (retries of an already stored client_message_id are not counted)',
      registers: [registry]
    }),
    sendBatchMessages: new Histogram({
      name: 'chat_send_batch_messages',
      help: 'Messages stored per database statement (concurrent sends are grouped into one statement)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry]
    }),
    framesRejected: new Counter({
      name: 'chat_ws_frames_rejected_total',
      help: 'WebSocket frames rejected, by reason',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    deliveryLatency: new Histogram({
      name: 'chat_message_delivery_seconds',
      help: 'Seconds from a message being stored to its frame being written to a recipient socket',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    }),
    openConnections: new Gauge({
      name: 'chat_ws_connections_open',
      help: 'Open WebSocket connections on this instance, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect () {
        const stats = realtime?.()
        this.set({ kind: 'chat' }, stats?.chatConnections ?? 0)
        this.set({ kind: 'inbox' }, stats?.inboxConnections ?? 0)
      }
    }),
    onlineUsers: new Gauge({
      name: 'chat_online_users',
      help: 'Distinct users with at least one open WebSocket connection to this instance',
      registers: [registry],
      collect () {
        this.set(realtime?.().onlineUsers ?? 0)
      }
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request durations, by route pattern (never the raw URL, which would explode the label set)',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    }),
    readRealtime (readings) { realtime = readings },
    readRedis (read) { redis = read }
  }

  // Without REDIS_URL there is no series at all, so an alert on chat_redis_up == 0 never fires for a single instance.
  new Gauge({ // eslint-disable-line no-new
    name: 'chat_redis_up',
    help: '1 while Redis answers, 0 while it does not (fan-out across instances is paused); absent without REDIS_URL',
    registers: [registry],
    collect () {
      const state = redis?.() ?? 'disabled'
      if (state === 'disabled') this.reset()
      else this.set(state === 'up' ? 1 : 0)
    }
  })

  const pool = (name: string, help: string, read: (stats: ReturnType<typeof poolStats>) => number): Gauge => new Gauge({
    name,
    help,
    registers: [registry],
    collect () { this.set(read(poolStats())) }
  })
  pool('chat_db_pool_connections', 'Database connections open in the pool', (stats) => stats.total)
  pool('chat_db_pool_idle_connections', 'Database connections idle in the pool', (stats) => stats.idle)
  pool('chat_db_pool_waiting_requests', 'Queries waiting for a free database connection', (stats) => stats.waiting)

  // Counts the registry keeps itself: exposed as counters, set to its running totals at each scrape.
  const realtimeCounter = (name: string, help: string, read: (stats: RealtimeReadings) => number): Counter => new Counter({
    name,
    help,
    registers: [registry],
    collect () {
      this.reset()
      this.inc(realtime === null ? 0 : read(realtime()))
    }
  })
  realtimeCounter('chat_ws_messages_received_total', 'Message frames received over WebSockets', (stats) => stats.messagesReceived)
  realtimeCounter('chat_ws_heartbeat_timeouts_total', 'WebSocket connections dropped for missing a heartbeat', (stats) => stats.heartbeatTimeouts)
  realtimeCounter('chat_ws_slow_consumer_closes_total', 'WebSocket connections closed for reading too slowly (1013)', (stats) => stats.slowConsumerCloses)
  return metrics
}

export default fp(async (app) => {
  const metrics = createMetrics(() => app.database.poolStats())
  app.decorate('metrics', metrics)
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe({
      method: request.method,
      // 404s have no route; one label for all of them keeps scanners from creating series.
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
}, { name: 'metrics', dependencies: ['database'] })

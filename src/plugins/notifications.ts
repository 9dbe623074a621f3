// Owns the app's notifications: the per-instance worker (started when ready, stopped in onClose), its metrics, push subscriptions and the webhook outbox entry point.
import fp from 'fastify-plugin'
import { safetyWebhookEvents } from '../notify/safety-webhooks.js'
import { Counter, Gauge } from 'prom-client'
import type { Db } from '../chat/chat-repository.js'
import type { Config } from '../config.js'
import { NotifyWorker } from '../notify/notify-worker.js'
import * as outbox from '../notify/outbox-repository.js'
import { PushSubscriptions } from '../notify/push-subscriptions.js'
import { createWebhookSender } from '../notify/webhook-sender.js'

export interface Notifications {
  /** Webhook URL or VAPID keys are set: the send statement records pending unread and the worker runs. */
  enabled: boolean
  /**
   * Queues a webhook event in `db` (pass the transaction of the change it reports); a no-op without NOTIFY_WEBHOOK_URL.
   * Other events (chat.reported, spam.suspected, ...) go through here too.
   */
  enqueueWebhook: (db: Db, type: string, data: Record<string, unknown>) => Promise<void>
  pushSubscriptions: PushSubscriptions
  /** Runs one worker pass now (tests and the admin re-drive use it to avoid waiting a poll interval). */
  runOnce: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    notifications: Notifications
  }
}

export function notificationsEnabled (config: Config): boolean {
  return config.notify.webhookUrl !== null || config.notify.webPush !== null
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const settings = config.notify
  const enabled = notificationsEnabled(config)
  const registers = [app.metrics.registry]
  const delivered = new Counter({ name: 'chat_notifications_delivered_total', help: 'Notifications delivered (2xx), by channel', labelNames: ['channel'] as const, registers })
  const failed = new Counter({ name: 'chat_notification_attempts_failed_total', help: 'Notification delivery attempts that failed and will be retried or dead-lettered, by channel', labelNames: ['channel'] as const, registers })
  const deadLettered = new Counter({ name: 'chat_notifications_dead_lettered_total', help: 'Notifications moved to the dead-letter table after their retry window, by channel', labelNames: ['channel'] as const, registers })
  const db = app.db
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'chat_notification_dead_letters',
    help: 'Notifications in the dead-letter table now (all instances); re-drive them with POST /admin/notifications/dead-letters/retry',
    registers,
    async collect () {
      try {
        this.set(await outbox.countDeadLetters(db))
      } catch {
        // The database is away: the scrape still answers, with the last value.
      }
    }
  })

  const webhook = settings.webhookUrl !== null && settings.webhookSecret !== null
    ? createWebhookSender({ url: settings.webhookUrl, secret: settings.webhookSecret, timeoutMs: settings.webhookTimeoutMs })
    : null
  const push = settings.webPush === null
    ? null
    : (await import('../notify/push-sender.js')).createPushSender({ vapid: settings.webPush, allowInsecure: settings.allowInsecurePushEndpoints, timeoutMs: settings.webhookTimeoutMs })
  const worker = new NotifyWorker({
    db,
    presence: app.presence,
    config: settings,
    log: app.log,
    counters: {
      delivered: (channel) => { delivered.inc({ channel }) },
      failedAttempt: (channel) => { failed.inc({ channel }) },
      deadLettered: (channel) => { deadLettered.inc({ channel }) }
    },
    webhook,
    push
  })

  app.decorate('notifications', {
    enabled,
    async enqueueWebhook (target, type, data) {
      if (webhook === null) return
      await outbox.enqueueWebhook(target, type, data)
    },
    pushSubscriptions: new PushSubscriptions({ db, enabled: settings.webPush !== null, allowInsecure: settings.allowInsecurePushEndpoints }),
    async runOnce () { await worker.tick() }
  } satisfies Notifications)

  // Reports and spam holds reach the marketplace through the same signed, retried outbox as unread notifications.
  if (webhook !== null) {
    app.safetyEvents = safetyWebhookEvents(async (type, data) => { await outbox.enqueueWebhook(db, type, data) }, app.log)
  }

  if (!enabled) return
  // An embedded database opened in the background (src/server.ts) is not there yet at onReady: start once it is.
  app.addHook('onReady', async () => { app.databaseReady.then(() => { worker.start() }, () => {}) })
  app.addHook('onClose', async () => { await worker.close() })
}, { name: 'notifications', dependencies: ['database', 'broker', 'metrics', 'safety-guard'] })

// Owns the app's attachment service (app.attachments): storage, image processing bound, URL signing, and the timer that sweeps unused uploads.
import fp from 'fastify-plugin'
import { AttachmentService } from '../attachments/attachment-service.js'
import { ImageProcessor } from '../attachments/image-processor.js'
import { createStorage } from '../attachments/storage.js'
import { UrlSigner } from '../attachments/url-signer.js'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    attachments: AttachmentService
  }
}

/** Two images decoded at once (sharp uses libuv threads and several cores per image); a few more wait. */
const PROCESSING_CONCURRENCY = 2
const PROCESSING_MAX_WAITING = 16

export default fp<{ config: Config, now?: () => number }>(async (app, { config, now = Date.now }) => {
  const storage = await createStorage(config.attachments, app.db)
  const service = new AttachmentService({
    db: app.db,
    storage,
    processor: new ImageProcessor({ concurrency: PROCESSING_CONCURRENCY, maxWaiting: PROCESSING_MAX_WAITING }),
    signer: new UrlSigner(config.auth, config.attachments.urlTtlSeconds, now),
    now,
    unusedTtlSeconds: config.attachments.unusedTtlSeconds,
    urlTtlSeconds: config.attachments.urlTtlSeconds,
    // Resolved at call time: the chat service is registered after this plugin and itself uses app.attachments.
    participantChat: async (identity, chatId) => await app.chat.participantChat(identity, chatId)
  })
  app.decorate('attachments', service)

  let sweeping: Promise<void> | null = null
  const sweep = (): void => {
    if (sweeping !== null) return
    sweeping = service.sweepUnused()
      .then((deleted) => { if (deleted > 0) app.log.info({ deleted }, 'deleted unused attachments') })
      .catch((error: unknown) => { app.log.warn({ err: error }, 'attachment sweep failed; retrying at the next interval') })
      .finally(() => { sweeping = null })
  }
  const timer = setInterval(sweep, config.attachments.sweepIntervalMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await sweeping
    await storage.close()
  })
}, { name: 'attachments', dependencies: ['database'] })

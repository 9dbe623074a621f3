// Owns sending one webhook attempt: Standard Webhooks headers signed with the whsec_ secret, a bounded wait, and what the answer means.
import { Webhook } from 'standardwebhooks'

export type DeliveryResult =
  | { kind: 'delivered' }
  /** The receiver said this will never succeed (webhook 410; push 404/410): stop, keep nothing. */
  | { kind: 'gone' }
  | { kind: 'failed', error: string }

export interface WebhookSender {
  send: (eventId: string, body: string) => Promise<DeliveryResult>
}

export function createWebhookSender (options: { url: string, secret: string, timeoutMs: number }): WebhookSender {
  const signer = new Webhook(options.secret)
  return {
    async send (eventId, body) {
      // A fresh timestamp per attempt keeps it inside receivers' tolerance window; the id stays the event's.
      const now = new Date()
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'marketplace-chat-webhooks',
        'webhook-id': eventId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(eventId, now, body)
      }
      try {
        const response = await fetch(options.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) })
        await response.body?.cancel()
        if (response.status >= 200 && response.status < 300) return { kind: 'delivered' }
        if (response.status === 410) return { kind: 'gone' }
        return { kind: 'failed', error: `HTTP ${response.status}` }
      } catch (error) {
        return { kind: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
      }
    }
  }
}

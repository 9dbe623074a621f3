// Owns sending one Web Push message: RFC 8291 aes128gcm encryption and VAPID by web-push, sent to the endpoint's checked, pinned address.
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import webpush from 'web-push'
import { checkPushEndpoint, EndpointRefused, type Resolver } from './endpoint-check.js'
import type { DeliveryResult } from './webhook-sender.js'

export interface PushTarget {
  endpoint: string
  p256dh: string
  auth: string
}

export interface PushSender {
  send: (target: PushTarget, payload: string) => Promise<DeliveryResult>
}

/** Push services keep an undelivered message this long for a browser that is offline. */
const PUSH_TTL_SECONDS = 24 * 3600

export function createPushSender (options: {
  vapid: { publicKey: string, privateKey: string, subject: string }
  allowInsecure: boolean
  timeoutMs: number
  resolve?: Resolver
}): PushSender {
  return {
    async send (target, payload) {
      let checked
      try {
        // Again at send time: the name may resolve elsewhere now than when the browser subscribed.
        checked = await checkPushEndpoint(target.endpoint, { allowInsecure: options.allowInsecure, resolve: options.resolve })
      } catch (error) {
        if (error instanceof EndpointRefused) return { kind: 'gone' }
        throw error
      }
      const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
        vapidDetails: options.vapid,
        TTL: PUSH_TTL_SECONDS,
        contentEncoding: 'aes128gcm'
      })
      // The connection goes to the address just checked, whatever DNS answers next (no rebinding between check and connect).
      const pinned: LookupFunction = (_host, lookupOptions, callback) => {
        if ((lookupOptions as { all?: boolean }).all === true) {
          (callback as unknown as (err: null, addresses: Array<{ address: string, family: number }>) => void)(null, [{ address: checked.address, family: checked.family }])
        } else {
          callback(null, checked.address, checked.family)
        }
      }
      const transport = checked.url.protocol === 'https:' ? https : http
      return await new Promise<DeliveryResult>((resolve) => {
        const request = transport.request(checked.url, {
          method: details.method,
          headers: details.headers as http.OutgoingHttpHeaders,
          lookup: pinned,
          timeout: options.timeoutMs
        }, (response) => {
          response.resume()
          const status = response.statusCode ?? 0
          if (status >= 200 && status < 300) resolve({ kind: 'delivered' })
          else if (status === 404 || status === 410) resolve({ kind: 'gone' })
          else resolve({ kind: 'failed', error: `HTTP ${status}` })
        })
        request.on('timeout', () => { request.destroy(new Error('push service timed out')) })
        request.on('error', (error) => { resolve({ kind: 'failed', error: `${error.name}: ${error.message}` }) })
        request.end(details.body)
      })
    }
  }
}

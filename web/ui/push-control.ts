// Owns the opt-in "Notify me about replies" control: shown only when the service has VAPID keys, the browser has
// serviceWorker and PushManager, and the host page said where its service worker is served (a worker must come from
// the marketplace's own origin); on, it subscribes and hands subscription.toJSON() to the service; off, it undoes both.
import type { Ctx } from '../core/context.js'
import type { NotifyStrings } from '../locales/notify.js'
import { h } from './dom.js'

export const PUSH_CSS = '.ntf{padding:8px 14px;border-top:1px solid #e4e6eb;font-size:13px;flex:none}' +
  '.ntf label{display:flex;gap:8px;align-items:center;cursor:pointer}.ntf input{width:16px;height:16px;margin:0;accent-color:var(--chat-accent,#0a66c2)}' +
  '.nmsg{display:block;color:#b3261e}.nmsg:empty{display:none}'

/** The service worker's path on the host page's origin: the option, else data-chat-sw on the script tag; null: none. */
export const swPath = (opt: unknown, script: Element | null): string | null =>
  typeof opt === 'string' && opt ? opt : script?.getAttribute('data-chat-sw') ?? null

/** base64url (the service's public key) to the bytes pushManager.subscribe takes everywhere (Safari wants bytes). */
const keyBytes = (key: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(key.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

/** pushManager.subscribe needs an active worker; a first registration is still installing. */
function activeWorker (reg: ServiceWorkerRegistration): Promise<unknown> {
  const w = reg.installing ?? reg.waiting
  if (reg.active || !w) return Promise.resolve()
  return new Promise((resolve) => { w.addEventListener('statechange', () => { if (w.state === 'activated') resolve(0) }) })
}

/** The control (hidden until it can work). ctx speaks for the person the notifications are for. */
export function pushControl (ctx: Ctx, sw: string | null, t: NotifyStrings): HTMLElement {
  const box = h('input', { type: 'checkbox' })
  const msg = h('span', { class: 'nmsg', role: 'status' })
  const el = h('div', { class: 'ntf', hidden: true }, [h('label', {}, [box, h('span', { text: t.notifyMe })]), msg])
  const workers = navigator.serviceWorker as ServiceWorkerContainer | undefined
  if (!sw || !workers || !('PushManager' in window)) return el
  let key = ''
  const current = async (): Promise<PushSubscription | null | undefined> => await (await workers.getRegistration(sw))?.pushManager.getSubscription()
  // 404 push_not_configured (no VAPID keys) or no service: the control stays hidden.
  ctx.api<{ public_key: string }>('GET', '/push/public-key').then(async (r) => {
    key = r.public_key
    const sub = await current().catch(() => null)
    box.checked = !!sub
    el.hidden = false
    // Handed over again for whoever is signed in now (200 when known): a claim or login does not move subscriptions.
    if (sub) await ctx.api('POST', '/push/subscriptions', sub.toJSON())
  }).catch(() => {})
  box.addEventListener('change', () => {
    const on = box.checked
    box.disabled = true
    msg.textContent = ''
    void (async () => {
      if (on) {
        const reg = await workers.register(sw)
        await activeWorker(reg)
        // Permission is asked here, after the person's click, never on page load.
        const sub = await reg.pushManager.getSubscription() ?? await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) })
        await ctx.api('POST', '/push/subscriptions', sub.toJSON())
      } else {
        const sub = await current()
        // The service forgets it first: a browser subscription the service still held would keep notifying.
        if (sub) { await ctx.api('DELETE', '/push/subscriptions', { endpoint: sub.endpoint }); await sub.unsubscribe() }
      }
    })().catch(() => {
      box.checked = !on
      msg.textContent = typeof Notification !== 'undefined' && Notification.permission === 'denied' ? t.notifyBlocked : t.notifyFailed
    }).then(() => { box.disabled = false })
  })
  return el
}

/**
 * The chat a notification click asked for: static/chat-sw.js opens `<scope>?chat=<id>` when no tab of the site is open.
 * Read once per page; the widget opens it as soon as it knows the chat is the caller's.
 */
export const notifiedChat = (): string | null => {
  try {
    return new URLSearchParams(location.search).get('chat') || null
  } catch {
    return null
  }
}

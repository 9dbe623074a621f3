// The host page hands the widgets a fresh token (MarketChat.setToken): open sockets get {"type":"auth"}, REST and
// reconnects use it; a socket closed with 4001 (token_expired) asks the host and waits, never retrying the old token.
import t from 'tap'
import type { Page, WebSocketRoute } from 'playwright-core'
import { noChromium, openBuyerChat, sendMessage, SELLER_ID, startHarness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'

interface Recorded { urls: string[], auth: string[], routes: WebSocketRoute[] }

/** Records, in the page, the token each socket offers as its Sec-WebSocket-Protocol (the URL no longer carries it). */
const RECORD_PROTOCOLS = `(() => {
  if (window.__wsTokens) return
  const W = window.WebSocket
  window.__wsTokens = []
  const Wrapped = function (url, protocols) {
    window.__wsTokens.push([String(url), Array.isArray(protocols) ? protocols[0] : protocols])
    return new W(url, protocols)
  }
  Object.assign(Wrapped, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })
  Wrapped.prototype = W.prototype
  window.WebSocket = Wrapped
})()`

/** The tokens the page's sockets matching `pattern` offered, oldest first; and none of their URLs carried one. */
async function offeredTokens (t: { notOk: (value: unknown, message: string) => unknown }, page: Page, pattern: RegExp): Promise<string[]> {
  const all = await page.evaluate('window.__wsTokens') as Array<[string, string]>
  const mine = all.filter(([url]) => pattern.test(url))
  t.notOk(mine.some(([url]) => url.includes('token=')), 'no token in any socket URL')
  return mine.map(([, token]) => token)
}

/**
 * Sits between the page and the service on the sockets matching `pattern`, recording each connection's URL and the
 * tokens of the auth frames sent, which reach the service; with `olderService` it answers them itself as a service
 * from before in-socket refresh would (unknown_type).
 */
async function recordSockets (page: Page, pattern: RegExp, olderService = false): Promise<Recorded & { until: (check: (r: Recorded) => boolean) => Promise<void> }> {
  const recorded: Recorded = { urls: [], auth: [], routes: [] }
  const waiters: Array<{ check: (r: Recorded) => boolean, resolve: () => void }> = []
  const changed = (): void => {
    for (const w of waiters.slice()) if (w.check(recorded)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  }
  await page.addInitScript(RECORD_PROTOCOLS)
  await page.evaluate(RECORD_PROTOCOLS)
  await page.routeWebSocket(pattern, (ws) => {
    recorded.urls.push(ws.url())
    recorded.routes.push(ws)
    const server = ws.connectToServer()
    ws.onMessage((message) => {
      const frame = JSON.parse(String(message)) as { type: string, token?: string }
      if (frame.type === 'auth') {
        recorded.auth.push(frame.token ?? '')
        if (olderService) {
          // What a service from before in-socket refresh answers: the frame type is unknown to it.
          ws.send(JSON.stringify({ type: 'error', code: 'unknown_type', message: 'Unknown frame type "auth"' }))
          changed()
          return
        }
      }
      server.send(message)
      changed()
    })
    changed()
  })
  return Object.assign(recorded, {
    until: async (check: (r: Recorded) => boolean) => {
      if (check(recorded)) return
      await new Promise<void>((resolve) => { waiters.push({ check, resolve }) })
    }
  })
}

/** What a marketplace page does when its login refreshed the user's token. */
async function setToken (page: Page, token: string): Promise<void> {
  await page.evaluate(`window.MarketChat.setToken(${JSON.stringify(token)})`)
}

const CHAT_SOCKET = /\/api\/chat\/ws\/(?!inbox)/

t.test('setToken: the open socket is re-authenticated in place, and REST moves to the new token', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const first = registeredUser('buyer-ivan', { expiresInSeconds: 600 })
  const fresh = registeredUser('buyer-ivan', { expiresInSeconds: 7200 })
  const { page: buyer } = await h.open()
  await buyer.addInitScript(`window.ChatConfig = { token: ${JSON.stringify(first.token)} }`)
  const sockets = await recordSockets(buyer, CHAT_SOCKET)
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Before the refresh')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()

  await setToken(buyer, fresh.token)
  await sockets.until((r) => r.auth.length === 1)
  t.same(sockets.auth, [fresh.token], 'one auth frame, with the new token, on the open socket')
  await sendMessage(buyer, 'After the refresh')
  await buyer.locator('.msg.mine[data-seq="2"]').waitFor()
  t.equal(sockets.urls.length, 1, 'the socket was kept: the next message went over it')
  t.ok(await buyer.locator('.panel .err').isHidden(), 'no error shown')

  const request = buyer.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/chat/chats'))
  await buyer.evaluate("window.chatManager.openChat('demo-seller', 'lamp-7')")
  t.equal((await request).headers().authorization, `Bearer ${fresh.token}`, 'REST calls carry the new token')
  await sockets.until((r) => r.urls.length === 2)
  t.equal((await offeredTokens(t, buyer, CHAT_SOCKET)).at(-1), fresh.token, 'and so does the next socket')
})

t.test('setToken against an older service without in-socket auth: the widget reconnects with the new token', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const first = registeredUser('buyer-ivan', { expiresInSeconds: 600 })
  const fresh = registeredUser('buyer-ivan', { expiresInSeconds: 7200 })
  const { page: buyer } = await h.open()
  await buyer.addInitScript(`window.ChatConfig = { token: ${JSON.stringify(first.token)} }`)
  const sockets = await recordSockets(buyer, CHAT_SOCKET, true)
  await openBuyerChat(buyer, h.url)

  await setToken(buyer, fresh.token)
  await sockets.until((r) => r.urls.length === 2)
  t.same(sockets.auth, [fresh.token], 'the auth frame was tried first')
  t.equal((await offeredTokens(t, buyer, CHAT_SOCKET)).at(-1), fresh.token, 'refused as unknown, it reconnected with the new token in the handshake')
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  await sendMessage(buyer, 'Still here')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()
  t.ok(await buyer.locator('.panel .err').isHidden(), 'the refusal was handled, not shown')
})

t.test('closed with 4001: the host is asked, the expired token is never retried, a fresh one resumes', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const first = registeredUser('buyer-ivan', { expiresInSeconds: 600 })
  const fresh = registeredUser('buyer-ivan', { expiresInSeconds: 7200 })
  const { page: buyer } = await h.open()
  await buyer.addInitScript(`window.ChatConfig = { token: ${JSON.stringify(first.token)} };
    window.__expired = 0; addEventListener('marketchat:tokenexpired', () => { window.__expired++ })`)
  await buyer.clock.install()
  const sockets = await recordSockets(buyer, CHAT_SOCKET)
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Before it expired')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()

  // What the service does at the token's exp when no auth frame came in time.
  await sockets.routes[0]?.close({ code: 4001, reason: 'token_expired' })
  await buyer.waitForFunction(() => (globalThis as unknown as { __expired?: number }).__expired === 1)
  await buyer.locator('.panel .status[data-state="expired"]').waitFor()
  t.match(await buyer.locator('.panel .status').textContent(), /expired/, 'the buyer is told')
  await buyer.clock.runFor(120_000) // longer than any backoff
  t.equal(sockets.urls.length, 1, 'no reconnect with the expired token, however long it waits')
  t.equal(await buyer.evaluate('window.__expired'), 1, 'and the host was asked once')

  await setToken(buyer, fresh.token)
  await sockets.until((r) => r.urls.length === 2)
  t.equal((await offeredTokens(t, buyer, CHAT_SOCKET)).at(-1), fresh.token, 'the fresh token reconnects')
  t.match(sockets.urls[1], 'after_seq=1', 'resuming after what it holds')
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  await sendMessage(buyer, 'After the new token')
  await buyer.locator('.msg.mine[data-seq="2"]').waitFor()
})

t.test('closed with 4001 and a getToken option: the widget fetches the fresh token itself', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const tokens = [registeredUser('buyer-ivan', { expiresInSeconds: 600 }).token, registeredUser('buyer-ivan', { expiresInSeconds: 7200 }).token]
  const { page: buyer } = await h.open()
  await buyer.addInitScript(`window.__tokens = ${JSON.stringify(tokens)}; window.__asked = 0
    window.ChatConfig = { getToken: () => { window.__asked++; return Promise.resolve(window.__tokens[Math.min(window.__asked, 2) - 1]) } }`)
  const sockets = await recordSockets(buyer, CHAT_SOCKET)
  await openBuyerChat(buyer, h.url)
  t.equal((await offeredTokens(t, buyer, CHAT_SOCKET))[0], tokens[0])

  await sockets.routes[0]?.close({ code: 4001, reason: 'token_expired' })
  await sockets.until((r) => r.urls.length === 2)
  t.equal((await offeredTokens(t, buyer, CHAT_SOCKET)).at(-1), tokens[1], 'reconnected with what getToken returned')
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
})

t.test('the seller inbox takes a fresh token the same way', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const fresh = registeredUser(SELLER_ID, { expiresInSeconds: 7200 })
  const { page: sellerPage } = await h.open()
  const inbox = await recordSockets(sellerPage, /\/api\/chat\/ws\/inbox/)
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.getByText('No conversations yet').waitFor()
  await inbox.until((r) => r.urls.length === 1)
  await setToken(sellerPage, fresh.token)
  await inbox.until((r) => r.auth.length === 1)
  t.same(inbox.auth, [fresh.token], 'the inbox socket got the auth frame')
  const request = sellerPage.waitForRequest((r) => r.url().includes('/api/chat/chats/my'))
  await inbox.routes[0]?.close({ code: 1012 }) // an ordinary drop: the reconnect reloads the list
  t.equal((await request).headers().authorization, `Bearer ${fresh.token}`, 'its REST calls use the new token')
  await inbox.until((r) => r.urls.length === 2)
  t.equal((await offeredTokens(t, sellerPage, /\/api\/chat\/ws\/inbox/)).at(-1), fresh.token, 'and so does its reconnect')
})

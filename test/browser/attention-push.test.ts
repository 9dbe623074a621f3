// Attention while the tab is hidden and the opt-in Web Push control (issue #13 §2), in both widgets: the title counts new
// messages and is restored when the tab is shown, a beep only when the page opted in, and "Notify me about replies"
// subscribing through a stubbed pushManager (Chromium's push service is unreachable here) to a loopback push service.
import t from 'tap'
import webpush from 'web-push'
import type { Page } from 'playwright-core'
import { noChromium, openBuyerChat, seller, sendMessage, startHarness, type Harness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'
import { pushReceiver } from '../fixtures/push-receiver.js'

interface Summary { id: string, listing_id: string }

/** What a person sees when they switch tabs: visibilityState and the visibilitychange event (headless tabs stay visible). */
async function setHidden (page: Page, hidden: boolean): Promise<void> {
  await page.evaluate(`(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => ${hidden ? '"hidden"' : '"visible"'} })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${String(hidden)} })
    document.dispatchEvent(new Event('visibilitychange'))
  })()`)
}

async function titleIs (page: Page, title: string): Promise<void> {
  // A function, not a string: Playwright evals a string predicate again on every poll, which the page's CSP refuses.
  await page.waitForFunction((want) => (globalThis as unknown as { document: { title: string } }).document.title === want, title, { timeout: 15_000 })
}

/** A WebAudio stand-in that counts the beeps started (a headless browser has nothing to listen with). */
const AUDIO_STUB = `window.__beeps = 0
window.AudioContext = class {
  constructor () { this.currentTime = 0; this.destination = {} }
  resume () { return Promise.resolve() }
  createOscillator () { return { frequency: {}, connect: (g) => g, start: () => { window.__beeps++ }, stop () {} } }
  createGain () { return { gain: { setValueAtTime () {}, exponentialRampToValueAtTime () {} }, connect: (d) => d } }
}`

async function bikeChat (h: Harness): Promise<string> {
  const { chats } = await h.rest<{ chats: Summary[] }>(seller.token, 'GET', '/chats/my?role=seller')
  const chat = chats.find((c) => c.listing_id === 'bike-42')
  if (!chat) throw new Error('no bike chat')
  return chat.id
}

t.test('buyer: a hidden tab counts new messages in its title, beeps only when the page opted in, and is restored when shown', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const pages: Record<'quiet' | 'sound', Page> = { quiet: (await h.open()).page, sound: (await h.open()).page }
  await pages.quiet.addInitScript(AUDIO_STUB)
  await pages.sound.addInitScript(AUDIO_STUB + '\nwindow.ChatConfig = { sound: true }')
  for (const [name, buyer] of Object.entries(pages)) {
    await openBuyerChat(buyer, h.url)
    await sendMessage(buyer, `Hello from the ${name} buyer`)
    await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
    const original = await buyer.title()
    const { chats } = await h.rest<{ chats: Array<Summary & { last_message: string }> }>(seller.token, 'GET', '/chats/my?role=seller')
    const chat = chats.find((c) => c.last_message === `Hello from the ${name} buyer`)
    if (!chat) throw new Error('no chat')

    await setHidden(buyer, true)
    await h.rest(seller.token, 'POST', `/chats/${chat.id}/messages`, { message_text: 'First answer' })
    await titleIs(buyer, '(1) ' + original)
    await h.rest(seller.token, 'POST', `/chats/${chat.id}/messages`, { message_text: 'Second answer' })
    await titleIs(buyer, '(2) ' + original)
    t.equal(await buyer.evaluate('window.__beeps'), name === 'sound' ? 2 : 0, `${name}: ${name === 'sound' ? 'a beep per message' : 'silent by default'}`)
    t.equal(await buyer.locator('.msg .txt', { hasText: 'Second answer' }).count(), 1, `${name}: the message is in the open chat`)

    await setHidden(buyer, false)
    await titleIs(buyer, original)
    t.pass(`${name}: the title is back to "${original}"`)
  }
})

t.test('seller inbox: a hidden tab counts new messages in its title, restored when shown', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.getByText('No conversations yet').waitFor()
  const original = await sellerPage.title()
  await setHidden(sellerPage, true)

  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Is the bike still for sale?')
  await titleIs(sellerPage, '(1) ' + original)
  await sendMessage(buyer, 'I can come today')
  await titleIs(sellerPage, '(2) ' + original)
  await setHidden(sellerPage, false)
  await titleIs(sellerPage, original)
  t.pass('the seller page title counted 2 and is restored')
})

t.test('both widgets on one page share one count in the title', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  // demo-seller also buys: their chat about another seller's listing, which the buyer widget follows with the same token.
  const other = registeredUser('other-seller')
  const bought = await h.rest<Summary>(seller.token, 'POST', '/chats', { listing_id: 'chair-3', seller_id: other.id })
  await h.rest(seller.token, 'POST', `/chats/${bought.id}/messages`, { message_text: 'Is the chair still there?' })
  const guest = await (await fetch(h.url + '/api/chat/anonymous', { method: 'POST' })).json() as { token: string }
  const sold = await h.rest<Summary>(guest.token, 'POST', '/chats', { listing_id: 'bike-42', seller_id: seller.id })

  const { page } = await h.open()
  await page.goto(h.url + '/demo/seller')
  await page.getByText('No conversations yet').waitFor()
  await page.addScriptTag({ url: h.url + '/static/chat.js' }) // the marketplace's layout carries the buyer widget too
  await page.locator('.launcher').waitFor()
  const original = await page.title()
  await setHidden(page, true)
  await h.rest(guest.token, 'POST', `/chats/${sold.id}/messages`, { message_text: 'Is the bike still for sale?' })
  await titleIs(page, '(1) ' + original)
  await h.rest(other.token, 'POST', `/chats/${bought.id}/messages`, { message_text: 'Yes, come and see it' })
  await titleIs(page, '(2) ' + original)
  await setHidden(page, false)
  await titleIs(page, original)
  t.pass('one "(2) " for a message to each widget, then restored')
})

// A service worker and push manager as the page sees them: subscribe() answers with a subscription at the loopback push
// service and records what it was asked; getRegistration() knows the worker once it is registered.
const pushStub = (subscription: object): string => `(() => {
  const sub = ${JSON.stringify(subscription)}
  const push = window.__push = { registered: [], asked: null, unsubscribed: 0 }
  let current = null
  const reg = { active: {}, installing: null, waiting: null, pushManager: {
    getSubscription: async () => current,
    subscribe: async (opts) => {
      push.asked = { userVisibleOnly: opts.userVisibleOnly, key: Array.from(new Uint8Array(opts.applicationServerKey)) }
      current = { endpoint: sub.endpoint, toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
        unsubscribe: async () => { current = null; push.unsubscribed++; return true } }
      return current
    }
  } }
  Object.defineProperty(navigator, 'serviceWorker', { configurable: true, value: {
    register: async (url) => { push.registered.push(url); return reg },
    getRegistration: async () => push.registered.length ? reg : undefined,
    addEventListener: (type, fn) => { if (type === 'message') window.__swMessage = (data) => fn(new MessageEvent('message', { data })) }
  } })
  if (!('PushManager' in window)) window.PushManager = function () {}
})()`

const keys = webpush.generateVAPIDKeys()
const PUSH_ENV = {
  WEB_PUSH_PUBLIC_KEY: keys.publicKey,
  WEB_PUSH_PRIVATE_KEY: keys.privateKey,
  WEB_PUSH_SUBJECT: 'mailto:ops@example.com',
  WEB_PUSH_ALLOW_INSECURE_ENDPOINTS: 'true', // the loopback push service
  NOTIFY_DELAY_SECONDS: '0',
  NOTIFY_POLL_INTERVAL_MS: '20'
}

const isSubscriptions = (method: string) => (r: { url: () => string, request: () => { method: () => string } }): boolean =>
  r.url().endsWith('/api/chat/push/subscriptions') && r.request().method() === method

t.test('buyer: "Notify me about replies" subscribes, the service gets the subscription, and a reply is pushed to it', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, PUSH_ENV)
  const receiver = await pushReceiver(t, keys.publicKey)
  const subscription = receiver.subscription('/buyer-browser')
  const { context, page: buyer } = await h.open()
  await buyer.addInitScript(pushStub(subscription) + '\nwindow.ChatConfig = { serviceWorker: "/chat-sw.js" }')
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Is the bike still for sale?')
  await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
  const bike = await bikeChat(h)

  await buyer.locator('.panel .back').click() // the list of chats carries the control
  const toggle = buyer.getByRole('checkbox', { name: 'Notify me about replies' })
  await toggle.waitFor()
  t.equal(await toggle.isChecked(), false, 'off until the buyer turns it on')
  const posted = buyer.waitForResponse(isSubscriptions('POST'))
  await toggle.check()
  const post = await posted
  t.equal(post.status(), 201, 'the service stored a new subscription')
  t.same(post.request().postDataJSON(), { ...subscription, expirationTime: null }, 'the body is subscription.toJSON()')
  const asked = await buyer.evaluate('window.__push') as { registered: string[], asked: { userVisibleOnly: boolean, key: number[] } }
  t.same(asked.registered, ['/chat-sw.js'], 'the worker the page declared was registered')
  t.same(asked.asked, { userVisibleOnly: true, key: Array.from(Buffer.from(keys.publicKey, 'base64url')) }, 'subscribed with the service\'s public key')
  await buyer.locator('.ntf input:checked:enabled').waitFor()

  const deleted = buyer.waitForResponse(isSubscriptions('DELETE'))
  await toggle.uncheck()
  const del = await deleted
  t.equal(del.status(), 204)
  t.same(del.request().postDataJSON(), { endpoint: subscription.endpoint }, 'DELETE names the endpoint')
  t.equal(await buyer.evaluate('window.__push.unsubscribed'), 1, 'and the browser subscription is gone')
  await buyer.locator('.ntf input:not(:checked):enabled').waitFor()

  const again = buyer.waitForResponse(isSubscriptions('POST'))
  await toggle.check()
  t.equal((await again).status(), 201, 'on again: new to the service (the DELETE removed it)')
  await buyer.locator('.ntf input:checked:enabled').waitFor()

  // A notification clicked while this tab is open: static/chat-sw.js posts the chat's id to the tab, which opens it.
  await buyer.evaluate(`window.__swMessage({ type: 'chat-notification-click', chat_id: ${JSON.stringify(bike)} })`)
  await buyer.locator('.panel .msg .txt', { hasText: 'Is the bike still for sale?' }).waitFor()
  t.equal(await buyer.locator('.panel .name').textContent(), 'Vintage road bicycle', 'the notified chat opened')

  // The buyer leaves (no socket, so not online); the seller's reply goes to the buyer's push subscription.
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat .dot.on').waitFor()
  await context.close()
  await sellerPage.locator('.chat .dot:not(.on)').waitFor()
  await h.rest(seller.token, 'POST', `/chats/${bike}/messages`, { message_text: 'Yes, still for sale' })
  await receiver.waitFor(() => receiver.received.length > 0)
  const [pushed] = receiver.received
  t.equal(pushed?.path, '/buyer-browser', 'pushed to the subscription the widget handed over')
  t.same(pushed?.problems, [], 'a valid VAPID, aes128gcm push')
  t.match(pushed?.payload, { type: 'message.unread', chat_id: bike, role: 'buyer', unread_count: 1, preview: 'Yes, still for sale' })
})

t.test('seller inbox: the control subscribes the seller', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, PUSH_ENV)
  const receiver = await pushReceiver(t, keys.publicKey)
  const subscription = receiver.subscription('/seller-browser')
  const { page: sellerPage } = await h.open()
  // The demo page sets ChatConfig itself once it has a token: the worker's path is added to what it sets.
  await sellerPage.addInitScript(pushStub(subscription) + `
    let cfg
    Object.defineProperty(window, 'ChatConfig', { configurable: true, get: () => cfg, set: (v) => { cfg = Object.assign({}, v, { serviceWorker: '/chat-sw.js' }) } })`)
  await sellerPage.goto(h.url + '/demo/seller')
  const toggle = sellerPage.getByRole('checkbox', { name: 'Notify me about replies' })
  await toggle.waitFor()
  const posted = sellerPage.waitForResponse(isSubscriptions('POST'))
  await toggle.check()
  const post = await posted
  t.equal(post.status(), 201)
  t.same(post.request().postDataJSON(), { ...subscription, expirationTime: null })
  const jwt = (post.request().headers().authorization ?? '').replace(/^Bearer /, '').split('.')[1] ?? ''
  t.match(JSON.parse(Buffer.from(jwt, 'base64url').toString()), { sub: 'demo-seller' }, 'as the seller')
})

t.test('the control stays hidden without a declared service worker or without VAPID keys, and nothing breaks', { skip: noChromium }, async (t) => {
  const withKeys = await startHarness(t, PUSH_ENV)
  const { page: noWorker } = await withKeys.open()
  await noWorker.addInitScript(pushStub({ endpoint: 'https://push.example.com/x', keys: {} }))
  await openBuyerChat(noWorker, withKeys.url)
  await sendMessage(noWorker, 'Hello')
  await noWorker.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
  await noWorker.locator('.panel .back').click()
  await noWorker.locator('.panel .row').waitFor()
  t.equal(await noWorker.getByRole('checkbox', { name: 'Notify me about replies' }).count(), 0, 'no sw option: no control')

  const noKeys = await startHarness(t)
  const { page: buyer } = await noKeys.open()
  await buyer.addInitScript(pushStub({ endpoint: 'https://push.example.com/x', keys: {} }) + '\nwindow.ChatConfig = { serviceWorker: "/chat-sw.js" }')
  await openBuyerChat(buyer, noKeys.url)
  await sendMessage(buyer, 'Hello')
  await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
  const keyAnswer = buyer.waitForResponse((r) => r.url().endsWith('/api/chat/push/public-key'))
  await buyer.locator('.panel .back').click()
  t.equal((await keyAnswer).status(), 404, 'the service has no VAPID keys')
  await buyer.locator('.panel .row').waitFor()
  t.equal(await buyer.getByRole('checkbox', { name: 'Notify me about replies' }).count(), 0, 'no keys: no control')
  t.same(await buyer.evaluate('window.__push.registered'), [], 'and no worker was registered')
})

// Errors that say what is wrong (issue #19 item 7): the guest-token limit counts down and retries by itself, a site
// missing from CORS_ORIGINS is named in the console; and a large seller inbox loads by pages with its total (item 12).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { noChromium, SELLER_ID, startHarness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'

t.test('the guest-token limit: "trying again in N s", then it connects by itself', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page } = await h.open()
  let refused = 0
  // What a shared office or carrier address meets: the service's per-address limit on new guest sessions.
  await page.route('**/api/chat/anonymous', async (route) => {
    if (refused++ > 0) { await route.continue(); return }
    await route.fulfill({ status: 429, headers: { 'retry-after': '2', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'rate_limited', message: 'Too many requests' } }) })
  })
  await page.goto(h.url + '/demo/')
  await page.click('[data-chat-listing="bike-42"]')
  const note = page.locator('.panel [role="status"]', { hasText: 'Trying again in' })
  await note.waitFor()
  t.match(await note.textContent(), /Trying again in [12] s/, 'a countdown, not "you are sending too fast"')
  await page.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  t.equal(refused, 2, 'retried once by itself, and connected')
})

t.test('an origin missing from CORS_ORIGINS is named in the console', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page } = await h.open()
  // A marketplace page on another origin (a real loopback server: Chromium keeps public pages off loopback entirely).
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>
      <button data-chat-seller="demo-seller" data-chat-listing="bike-42">Chat</button><script src="${h.url}/static/chat.js"></script></body></html>`)
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { server.close() })
  const shop = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  await page.goto(shop + '/product')
  await page.click('[data-chat-listing="bike-42"]')
  await page.locator('.panel .err', { hasText: 'not available on this site' }).waitFor()
  t.ok(errors.some((e) => e.includes('CORS_ORIGINS') && e.includes(shop)), 'the console names the setting and the origin')
  t.notOk(errors.some((e) => /check your internet/i.test(e)), 'no misleading network text')
})

t.test('a large inbox loads by pages from the grouped endpoint, says how many chats there are, more on scroll', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, { RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' })
  const LISTINGS = 24
  // Older chats about item-0, below every listing's head: the server's walk for the last page stops among them, and
  // the page after it would hold no listing (nothing the widget needs, once it holds every chat of the inbox).
  const OLDER = 40
  for (let i = 0; i < OLDER; i++) {
    const buyer = registeredUser(`older-buyer-${i}`)
    const chat = await h.rest<{ id: string }>(buyer.token, 'POST', '/chats', { listing_id: 'item-0', seller_id: SELLER_ID })
    await h.rest(buyer.token, 'POST', `/chats/${chat.id}/messages`, { message_text: `older ${i}`, client_message_id: `o-${i}` })
  }
  for (let i = 0; i < LISTINGS; i++) {
    const buyer = registeredUser(`buyer-${i}`)
    const chat = await h.rest<{ id: string }>(buyer.token, 'POST', '/chats', { listing_id: `item-${i}`, seller_id: SELLER_ID })
    await h.rest(buyer.token, 'POST', `/chats/${chat.id}/messages`, { message_text: `about item ${i}`, client_message_id: `m-${i}` })
  }
  const { page } = await h.open({ viewport: { width: 1280, height: 500 } })
  const pages: string[] = []
  page.on('request', (r) => { if (r.url().includes('/grouped')) pages.push(r.url()) })
  const listingsPerPage: number[] = []
  page.on('response', (r) => {
    if (r.url().includes('/grouped')) void r.json().then((b: { groups: unknown[] }) => listingsPerPage.push(b.groups.length), () => {})
  })
  // The demo sets ChatConfig itself; this adds a small page size to whatever it sets.
  await page.addInitScript(`Object.defineProperty(window, 'ChatConfig', { configurable: true,
    set (v) { this.__cfg = Object.assign(v, { inboxPageSize: 4 }) }, get () { return this.__cfg } })`)
  await page.goto(h.url + '/demo/seller')
  // Pages of 4 load until the 600 px list is full (and 200 px beyond), not further.
  await page.locator('.group').nth(7).waitFor()
  await page.locator('.more').waitFor({ state: 'hidden' })
  t.equal(await page.locator('h2 .all').textContent(), `${LISTINGS + OLDER} chats`, 'the whole inbox is counted')
  t.ok(await page.locator('.group').count() < LISTINGS, 'not everything at once')
  t.match(pages[0], /\/grouped\?limit=4$/, 'the first page from the grouped endpoint')
  for (let i = 0; i < 20 && await page.locator('.group').count() < LISTINGS; i++) {
    await page.locator('.side').evaluate((el) => { el.scrollTop = el.scrollHeight })
    await page.locator('.group').nth(Math.min(LISTINGS - 1, (i + 4) * 4 - 1)).waitFor({ state: 'attached' })
  }
  t.equal(await page.locator('.group').count(), LISTINGS, 'every listing after scrolling')
  // At the end of the list once more: the scroll handler runs before the next frames are drawn, and any page it
  // asks for shows the loading row until it arrives.
  await page.locator('.side').evaluate(async (el) => {
    el.scrollTop = el.scrollHeight
    const frame = (globalThis as unknown as { requestAnimationFrame: (run: () => void) => void }).requestAnimationFrame
    await new Promise<void>((resolve) => frame(() => frame(resolve)))
  })
  await page.locator('.more').waitFor({ state: 'hidden' })
  await page.waitForFunction((n) => performance.getEntriesByType('resource').filter((e) => e.name.includes('/grouped')).length === n, pages.length)
  t.same(listingsPerPage.filter((n) => n === 0), [], 'no page asked for past the last listing')
  t.ok(pages.filter((u) => /cursor=/.test(u)).length >= (LISTINGS / 4) - 1, 'later pages by cursor')
  t.equal(await page.locator('.group[data-listing-id="item-11"] .prev').textContent(), 'about item 11', 'newest first')
})

// WCAG 2.2 AA checks (issue #19 item 3) with axe-core in real Chromium: the open chat (desktop and phone) and the
// seller inbox; the message list is a log with each sender spoken; the phone's full-screen panel is a modal dialog.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import t from 'tap'
import webpush from 'web-push'
import type { Page } from 'playwright-core'
import { computedStyle, DESKTOP, noChromium, openBuyerChat, PHONE, sendMessage, startHarness } from '../fixtures/browser.js'

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface Violation { id: string, impact: string, help: string, nodes: Array<{ target: unknown, failureSummary: string }> }

/** Serious and critical axe violations inside the chat widgets (the demo page around them is not ours to judge). */
async function widgetViolations (page: Page): Promise<string[]> {
  await page.evaluate(await axeSource)
  const violations = await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    .then((r) => r.passes.length > 0 ? r.violations : [{ id: 'axe-did-not-run', impact: 'critical', nodes: [{ target: ['market-chat'], failureSummary: '' }] }])`) as Violation[]
  const out: string[] = []
  for (const v of violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue
    for (const n of v.nodes) {
      const target = JSON.stringify(n.target)
      if (/market-chat/.test(target)) out.push(`${v.id} (${v.impact}) at ${target}: ${n.failureSummary}`)
    }
  }
  return out
}

t.test('axe finds nothing serious in the open chat, on a desktop and on a phone', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    const { page: buyer } = await h.open(viewport)
    await openBuyerChat(buyer, h.url)
    await sendMessage(buyer, 'Is it still available? https://example.com/bike')
    await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
    await buyer.locator('textarea').fill('x'.repeat(1900)) // the counter shows too
    t.same(await widgetViolations(buyer), [], `${name}: no serious or critical violation`)

    const log = buyer.locator('.panel [role="log"]')
    t.equal(await log.count(), 1, `${name}: the message list is a log`)
    t.match(await buyer.locator('.msg.mine').textContent(), /^You: Is it still available/, `${name}: the sender is in the accessible text`)
    const size = await computedStyle(buyer, '.panel textarea', 'fontSize')
    if (name === 'phone') t.equal(size, '16px', 'phone: a 16 px text box, so iOS does not zoom')
  }
})

t.test('the phone panel is a modal dialog that keeps focus; the desktop panel is not modal', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: phone } = await h.open(PHONE)
  await openBuyerChat(phone, h.url)
  t.equal(await phone.locator('.panel').getAttribute('aria-modal'), 'true', 'phone: aria-modal')
  t.equal(await phone.locator('.panel').getAttribute('role'), 'dialog')
  await phone.locator('.panel textarea').focus()
  const inside = '(() => { const r = document.querySelector("market-chat-widget").shadowRoot; return !!r.activeElement && r.querySelector(".panel").contains(r.activeElement) })()'
  for (let i = 0; i < 8; i++) {
    await phone.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab')
    t.equal(await phone.evaluate(inside), true, `focus still inside the panel after key ${i + 1}`)
  }
  const { page: desk } = await h.open(DESKTOP)
  await openBuyerChat(desk, h.url)
  t.equal(await desk.locator('.panel').getAttribute('aria-modal'), null, 'desktop: the panel sits beside the page, not modal')
})

t.test('axe finds nothing serious in the seller inbox, list and open chat', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Hello there')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    const { page: sellerPage } = await h.open(viewport)
    await sellerPage.goto(h.url + '/demo/seller')
    await sellerPage.locator('.chat').waitFor()
    t.same(await widgetViolations(sellerPage), [], `${name}: the inbox list`)
    await sellerPage.locator('.chat').click()
    await sellerPage.locator('.main .msg').waitFor()
    t.same(await widgetViolations(sellerPage), [], `${name}: the open conversation`)
  }
})

t.test('axe finds nothing serious in the buyer\'s list of chats with the notify control, or in the inbox\'s control', { skip: noChromium }, async (t) => {
  const keys = webpush.generateVAPIDKeys()
  const h = await startHarness(t, { WEB_PUSH_PUBLIC_KEY: keys.publicKey, WEB_PUSH_PRIVATE_KEY: keys.privateKey, WEB_PUSH_SUBJECT: 'mailto:ops@example.com' })
  // Enough of a service worker and push manager for the control to show (headless Chromium cannot reach a push service).
  const stub = `Object.defineProperty(navigator, 'serviceWorker', { configurable: true, value: { register: async () => ({}), getRegistration: async () => undefined, addEventListener: () => {} } })
    if (!('PushManager' in window)) window.PushManager = function () {}`
  const { page: buyer } = await h.open()
  await buyer.addInitScript(stub + '\nwindow.ChatConfig = { serviceWorker: "/chat-sw.js" }')
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Hello there')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await buyer.locator('.panel .back').click()
  await buyer.getByRole('checkbox', { name: 'Notify me about replies' }).waitFor()
  t.same(await widgetViolations(buyer), [], 'the buyer\'s list and its control')

  const { page: sellerPage } = await h.open()
  await sellerPage.addInitScript(stub + `
    let cfg
    Object.defineProperty(window, 'ChatConfig', { configurable: true, get: () => cfg, set: (v) => { cfg = Object.assign({}, v, { serviceWorker: '/chat-sw.js' }) } })`)
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').waitFor()
  await sellerPage.getByRole('checkbox', { name: 'Notify me about replies' }).waitFor()
  t.same(await widgetViolations(sellerPage), [], 'the inbox with its control')
})

// A buyer sends a photo through the real widget in Chromium: the seller sees the thumbnail live and after a reload,
// and the full-size viewer opens from the keyboard and closes with Escape, focus back on the thumbnail; offline, Retry.
import sharp from 'sharp'
import t from 'tap'
import { eventually, noChromium, openBuyerChat, seller, sendMessage, startHarness } from '../fixtures/browser.js'

/** Whether the element is the focused one inside its own (shadow) root. */
const focusedInRoot = (el: unknown): boolean => {
  const e = el as { getRootNode: () => { activeElement: unknown } }
  return e.getRootNode().activeElement === el
}

t.test('a photo goes from the buyer to the seller and opens in the viewer', { skip: noChromium }, async (t) => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer()
  const h = await startHarness(t)
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.getByText('No conversations yet').waitFor()

  const { context: buyerContext, page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Here is the scratch')
  const row = sellerPage.locator('.group[data-listing-id="bike-42"] .chat')
  await row.click()
  await sellerPage.locator('.main .msg .txt', { hasText: 'Here is the scratch' }).waitFor()

  // The attach button has a name; the picker takes the file and the photo is uploaded and sent on its own.
  t.equal(await buyer.getByRole('button', { name: 'Attach a photo' }).count(), 1, 'an attach button with an accessible name')
  await buyer.locator('.panel input[type="file"]').setInputFiles({ name: 'scratch.png', mimeType: 'image/png', buffer: png })
  const mine = buyer.locator('.msg.mine .pics img')
  await mine.waitFor()
  t.equal(await mine.getAttribute('alt'), 'Your photo', 'the buyer\'s own thumbnail says whose it is')
  await buyer.locator('.ups .up').waitFor({ state: 'detached' }) // the upload row is gone once sent

  // The seller, already in the chat, sees it live: a sized <img> with alt text naming the buyer, loaded.
  const thumb = sellerPage.locator('.main .msg:not(.mine) .pics img')
  await thumb.waitFor()
  t.match(await thumb.getAttribute('alt'), /^Photo from .+/, 'alt text names the sender')
  t.equal(await thumb.getAttribute('width'), '64', 'width set (small photos are not enlarged)')
  t.equal(await thumb.getAttribute('height'), '48', 'height set')
  await sellerPage.waitForFunction((el) => (el as { complete: boolean, naturalWidth: number }).complete &&
    (el as { naturalWidth: number }).naturalWidth > 0, await thumb.elementHandle())

  // After a reload the photo comes back with the history (fresh signed URLs).
  await sellerPage.reload()
  await row.click()
  await thumb.waitFor()
  await sellerPage.waitForFunction((el) => (el as { naturalWidth: number }).naturalWidth > 0, await thumb.elementHandle())

  // Keyboard: focus the thumbnail, Enter opens the viewer (full size, named), Escape closes it, focus returns.
  const button = sellerPage.locator('.main .msg:not(.mine) .pics button.pic')
  await button.focus()
  await button.press('Enter')
  const viewer = sellerPage.getByRole('dialog', { name: 'Photo' })
  await viewer.waitFor()
  const full = viewer.locator('img')
  t.match(await full.getAttribute('src'), /\/api\/chat\/attachments\/[^/]+\?exp=/, 'the full-size URL, not the thumbnail')
  await sellerPage.waitForFunction((el) => (el as { naturalWidth: number }).naturalWidth === 64, await full.elementHandle())
  await sellerPage.keyboard.press('Escape')
  await viewer.waitFor({ state: 'hidden' })
  t.ok(await button.evaluate(focusedInRoot), 'focus is back on the thumbnail')

  // Offline, a photo is not queued: the row says photos need a connection and offers Retry, which sends it once back.
  await buyerContext.setOffline(true)
  await buyer.locator('.panel input[type="file"]').setInputFiles({ name: 'second.png', mimeType: 'image/png', buffer: png })
  const failed = buyer.locator('.ups .up.bad')
  await failed.getByText('Photos need a connection').waitFor()
  await buyerContext.setOffline(false)
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  await failed.getByRole('button', { name: 'Retry' }).click()
  await failed.waitFor({ state: 'detached' })
  await sellerPage.locator('.main .msg:not(.mine) .pics img').nth(1).waitFor()
  t.equal(await sellerPage.locator('.main .msg:not(.mine) .pics img').count(), 2, 'the retried photo arrives, once')

  // Pasting an image into the text box attaches it too (a paste event carrying a file, as a browser makes it).
  await buyer.locator('.panel textarea').evaluate((el, bytes) => {
    type Ctor = new (...args: unknown[]) => { items: { add: (f: unknown) => void } }
    const w = globalThis as unknown as { DataTransfer: Ctor, File: Ctor, ClipboardEvent: Ctor }
    const data = new w.DataTransfer()
    data.items.add(new w.File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }))
    ;(el as { dispatchEvent: (e: unknown) => void }).dispatchEvent(new w.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  }, Array.from(png))
  await sellerPage.locator('.main .msg:not(.mine) .pics img').nth(2).waitFor()
  t.equal(await buyer.locator('.panel textarea').inputValue(), '', 'the image is not pasted as text')
})

t.test('a photo being uploaded shows its preview and can be cancelled; a dropped photo is sent', { skip: noChromium }, async (t) => {
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 40, g: 160, b: 40 } } }).png().toBuffer()
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Photos follow')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()

  // An upload that never finishes (a slow network): the row shows the photo itself and a Cancel button.
  let held = 0
  await buyer.route('**/api/chat/chats/*/attachments', () => { held++ }) // neither answered nor passed on
  await buyer.locator('.panel input[type="file"]').setInputFiles({ name: 'slow.png', mimeType: 'image/png', buffer: png })
  const row = buyer.locator('.ups .up')
  const preview = row.locator('img.prev')
  await preview.waitFor()
  t.match(await preview.getAttribute('src'), /^blob:/, 'the preview is the picked file itself, before any upload')
  await buyer.waitForFunction((el) => (el as { naturalWidth: number }).naturalWidth === 32, await preview.elementHandle())
  await row.getByRole('button', { name: 'Cancel' }).click()
  await row.waitFor({ state: 'detached' })
  t.equal(held, 1, 'the upload had started')
  await buyer.unroute('**/api/chat/chats/*/attachments')

  // Dropped on the conversation, as from a desktop folder: uploaded and sent like a picked one.
  await buyer.evaluate(`(() => {
    const conv = document.querySelector('market-chat-widget').shadowRoot.querySelector('.conv')
    const bytes = Uint8Array.from(atob(${JSON.stringify(png.toString('base64'))}), (c) => c.charCodeAt(0))
    const data = new DataTransfer()
    data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }))
    conv.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }))
    conv.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }))
  })()`)
  await buyer.locator('.msg.mine[data-seq="2"] .pics img').waitFor()
  const { chats } = await h.rest<{ chats: Array<{ id: string, last_seq: number }> }>(seller.token, 'GET', '/chats/my?role=seller')
  t.equal(chats[0]?.last_seq, 2, 'the cancelled photo was never sent; the dropped one was')
})

t.test('a photo whose signed URL expired while the chat stayed open still opens full size', { skip: noChromium }, async (t) => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 40, b: 200 } } }).png().toBuffer()
  const h = await startHarness(t, { ATTACHMENT_URL_TTL_SECONDS: '10' })
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'A photo follows')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()
  await buyer.locator('.panel input[type="file"]').setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: png })
  const thumb = buyer.locator('.msg.mine .pics img')
  await thumb.waitFor()
  const signed = await thumb.getAttribute('src') ?? ''
  // The chat stays open past the URLs' lifetime (the shortest the service allows).
  await eventually('the signed URL has expired', async () => (await fetch(signed)).status === 404, 30_000)
  await buyer.locator('.msg.mine .pics button.pic').click()
  const full = buyer.getByRole('dialog', { name: 'Photo' }).locator('img')
  await full.waitFor()
  await buyer.waitForFunction((el) => (el as { naturalWidth: number }).naturalWidth === 64, await full.elementHandle())
  t.pass('the viewer fetched the photo again with the widget\'s token and shows it')
})

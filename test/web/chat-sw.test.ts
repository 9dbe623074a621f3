// Tests static/chat-sw.js in a VM with a fake service-worker global: a message.unread push shows a notification, a click opens the chat.
import { readFile } from 'node:fs/promises'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { buildTestApp } from '../fixtures/app.js'

async function loadWorker () {
  const listeners = new Map<string, (event: any) => void>()
  const shown: Array<{ title: string, options: any }> = []
  const opened: string[] = []
  const self = {
    addEventListener: (type: string, listener: (event: any) => void) => { listeners.set(type, listener) },
    registration: {
      scope: 'https://market.example/',
      showNotification: async (title: string, options: any) => { shown.push({ title, options }) }
    },
    clients: { matchAll: async () => [], openWindow: async (url: string) => { opened.push(url) } }
  }
  runInNewContext(await readFile(new URL('../../static/chat-sw.js', import.meta.url), 'utf8'), { self, URL })
  const dispatch = async (type: string, event: any): Promise<void> => {
    const waits: Array<Promise<unknown>> = []
    listeners.get(type)?.({ ...event, waitUntil: (p: Promise<unknown>) => waits.push(p) })
    await Promise.all(waits)
  }
  return { shown, opened, dispatch }
}

t.test('a message.unread push shows the count and preview; clicking opens the chat', async (t) => {
  const worker = await loadWorker()
  const payload = { type: 'message.unread', chat_id: 'c-1', listing_id: 'bike-1', role: 'buyer', preview: '<b>Yes</b>, still for sale', unread_count: 2 }
  await worker.dispatch('push', { data: { json: () => payload } })
  t.equal(worker.shown.length, 1)
  t.equal(worker.shown[0]?.title, '2 unread messages')
  t.equal(worker.shown[0]?.options.body, '<b>Yes</b>, still for sale', 'the preview as plain text')
  t.equal(worker.shown[0]?.options.tag, 'chat-c-1', 'one notification per chat, replaced by the next')

  await worker.dispatch('push', { data: { json: () => { throw new Error('not JSON') } } })
  await worker.dispatch('push', { data: { json: () => ({ type: 'something.else' }) } })
  t.equal(worker.shown.length, 1, 'other or broken pushes show nothing')

  let closed = false
  await worker.dispatch('notificationclick', { notification: { data: { chat_id: 'c-1' }, close: () => { closed = true } } })
  t.ok(closed)
  t.same(worker.opened, ['https://market.example/?chat=c-1'])
})

t.test('the service serves the worker for the marketplace to copy or proxy', async (t) => {
  const app = await buildTestApp(t)
  const reply = await app.inject({ url: '/static/chat-sw.js' })
  t.equal(reply.statusCode, 200)
  t.match(reply.headers['content-type'], /javascript/)
  t.match(reply.body, /showNotification/)
})

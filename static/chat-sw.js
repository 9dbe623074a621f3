// Marketplace chat service worker: shows a Web Push "unread messages" notification and opens the chat page when it is clicked.
// Serve it from the marketplace's own origin (a service worker's scope is its own origin and path), e.g. as /chat-sw.js.
/* eslint-env serviceworker */
'use strict'

self.addEventListener('push', (event) => {
  let data = {}
  try {
    data = event.data ? event.data.json() : {}
  } catch (_) {
    data = {}
  }
  if (data.type !== 'message.unread') return
  const count = Number(data.unread_count) || 1
  const title = count > 1 ? count + ' unread messages' : 'New message'
  // The preview is plain text; notifications never interpret markup.
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.preview === 'string' ? data.preview : '',
    tag: 'chat-' + String(data.chat_id || ''),
    renotify: true,
    data: { chat_id: data.chat_id, listing_id: data.listing_id, role: data.role }
  }))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const chat = event.notification.data || {}
  // The page that registered this worker decides where a chat opens; it gets ?chat=<id> (or focuses an open tab).
  const target = new URL(self.registration.scope)
  if (chat.chat_id) target.searchParams.set('chat', String(chat.chat_id))
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    for (const client of windows) {
      if ('focus' in client) {
        client.postMessage({ type: 'chat-notification-click', chat_id: chat.chat_id, listing_id: chat.listing_id })
        return client.focus()
      }
    }
    return self.clients.openWindow(target.href)
  }))
})

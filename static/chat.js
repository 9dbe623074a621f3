/* chat.js: the buyer's Chat button and floating panel, plus the shared client core (sockets, chat sessions,
   conversation view) that seller-chats.js reuses. Plain browser JavaScript, no build step. */
(function () {
  'use strict'
  var script = document.currentScript
  if (window.MarketChat) { if (!window.chatManager && !coreOnly()) window.MarketChat.startBuyer(script); return }

  function coreOnly () { return !!(script && script.hasAttribute('data-core-only')) }

  // ---------- strings ----------
  var STRINGS = {
    en: {
      chat: 'Chat', chatWithSeller: 'Chat with the seller', close: 'Close chat', send: 'Send',
      placeholder: 'Write a message…', typing: 'typing…', connecting: 'Connecting…', reconnecting: 'Reconnecting…',
      pending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent', online: 'online', offline: 'offline',
      seller: 'Seller', you: 'You', guest: 'guest', loadingOlder: 'Loading earlier messages…',
      empty: 'No messages yet. Say hello!', newMessage: 'New message from {who}: {text}', unread: '{n} unread',
      noChats: 'No conversations yet', back: 'Back to chats', chats: 'Chats', selectChat: 'Select a conversation',
      listing: 'Listing {id}', buyer: 'Buyer', messages: 'Messages',
      e: {
        rate_limited: 'You are sending messages too fast. Please wait a moment.',
        message_too_long: 'The message is too long (2000 characters at most).',
        empty_message: 'The message is empty.', validation_failed: 'This message cannot be sent.',
        cannot_chat_with_self: 'This is your own listing.', listing_not_found: 'This listing no longer exists.',
        listing_inactive: 'This listing is no longer active.', chat_not_found: 'This conversation is not available.',
        unauthorized: 'Your session has expired. Please reload the page.',
        network: 'No connection. Please check your internet.', generic: 'Something went wrong. Please try again.'
      }
    },
    ru: {
      chat: 'Чат', chatWithSeller: 'Чат с продавцом', close: 'Закрыть чат', send: 'Отправить',
      placeholder: 'Напишите сообщение…', typing: 'печатает…', connecting: 'Подключение…', reconnecting: 'Переподключение…',
      pending: 'Отправляется…', sent: 'Отправлено', read: 'Прочитано', failed: 'Не отправлено', online: 'в сети',
      offline: 'не в сети', seller: 'Продавец', you: 'Вы', guest: 'гость', loadingOlder: 'Загрузка ранних сообщений…',
      empty: 'Сообщений пока нет. Напишите первым!', newMessage: 'Новое сообщение от {who}: {text}',
      unread: 'Непрочитанных: {n}', noChats: 'Пока нет переписок', back: 'К списку чатов', chats: 'Чаты',
      selectChat: 'Выберите переписку', listing: 'Объявление {id}', buyer: 'Покупатель', messages: 'Сообщения',
      e: {
        rate_limited: 'Вы отправляете сообщения слишком часто. Подождите немного.',
        message_too_long: 'Сообщение слишком длинное (не больше 2000 символов).',
        empty_message: 'Сообщение пустое.', validation_failed: 'Это сообщение нельзя отправить.',
        cannot_chat_with_self: 'Это ваше собственное объявление.', listing_not_found: 'Объявление не найдено.',
        listing_inactive: 'Объявление больше не активно.', chat_not_found: 'Переписка недоступна.',
        unauthorized: 'Сессия истекла. Обновите страницу.',
        network: 'Нет соединения. Проверьте интернет.', generic: 'Что-то пошло не так. Попробуйте ещё раз.'
      }
    },
    uk: {
      chat: 'Чат', chatWithSeller: 'Чат із продавцем', close: 'Закрити чат', send: 'Надіслати',
      placeholder: 'Напишіть повідомлення…', typing: 'друкує…', connecting: 'Підключення…', reconnecting: 'Перепідключення…',
      pending: 'Надсилається…', sent: 'Надіслано', read: 'Прочитано', failed: 'Не надіслано', online: 'у мережі',
      offline: 'не в мережі', seller: 'Продавець', you: 'Ви', guest: 'гість',
      loadingOlder: 'Завантаження попередніх повідомлень…', empty: 'Повідомлень ще немає. Напишіть першим!',
      newMessage: 'Нове повідомлення від {who}: {text}', unread: 'Непрочитаних: {n}', noChats: 'Поки немає листувань',
      back: 'До списку чатів', chats: 'Чати', selectChat: 'Виберіть листування', listing: 'Оголошення {id}',
      buyer: 'Покупець', messages: 'Повідомлення',
      e: {
        rate_limited: 'Ви надсилаєте повідомлення занадто часто. Зачекайте трохи.',
        message_too_long: 'Повідомлення задовге (не більше 2000 символів).',
        empty_message: 'Повідомлення порожнє.', validation_failed: 'Це повідомлення не можна надіслати.',
        cannot_chat_with_self: 'Це ваше власне оголошення.', listing_not_found: 'Оголошення не знайдено.',
        listing_inactive: 'Оголошення більше не активне.', chat_not_found: 'Листування недоступне.',
        unauthorized: 'Сесія завершилася. Оновіть сторінку.',
        network: 'Немає з’єднання. Перевірте інтернет.', generic: 'Щось пішло не так. Спробуйте ще раз.'
      }
    }
  }

  function strings (lang) {
    var code = String(lang || document.documentElement.lang || 'en').toLowerCase().slice(0, 2)
    var t = STRINGS[code] || STRINGS.en
    t.lang = STRINGS[code] ? code : 'en'
    return t
  }
  function fill (s, vars) { return s.replace(/\{(\w+)\}/g, function (_, k) { return vars[k] }) }
  function errText (t, code) { return t.e[code] || t.e.generic }

  // ---------- small helpers ----------
  function h (tag, attrs, kids) {
    var el = document.createElement(tag)
    for (var k in attrs || {}) {
      if (k === 'text') el.textContent = attrs[k]
      else if (k === 'class') el.className = attrs[k]
      else if (attrs[k] !== false && attrs[k] != null) el.setAttribute(k, attrs[k] === true ? '' : attrs[k])
    }
    ;(kids || []).forEach(function (c) { if (c) el.appendChild(c) })
    return el
  }
  function store (key, value) {
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(key) || 'null')
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, JSON.stringify(value))
    } catch (e) { return null } // storage disabled (private mode): the widget still works for this page view
  }
  function newId () {
    var b = crypto.getRandomValues(new Uint8Array(12)) // works outside secure contexts, unlike randomUUID
    return 'c-' + Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1) }).join('')
  }
  function fmtTime (t, iso) {
    if (!iso) return ''
    var d = new Date(iso); var now = new Date()
    var sameDay = d.toDateString() === now.toDateString()
    return new Intl.DateTimeFormat(t.lang, sameDay ? { hour: '2-digit', minute: '2-digit' }
      : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d)
  }
  function baseFrom (el, cfg) {
    var b = cfg.api || (el && el.getAttribute('data-api')) || (el && el.src ? new URL('..', el.src).href : location.origin)
    return b.replace(/\/+$/, '')
  }
  function chatIcon () {
    var ns = 'http://www.w3.org/2000/svg'
    var svg = document.createElementNS(ns, 'svg'); var path = document.createElementNS(ns, 'path')
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('width', '26'); svg.setAttribute('height', '26')
    svg.setAttribute('aria-hidden', 'true'); svg.setAttribute('fill', 'currentColor')
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z')
    svg.appendChild(path)
    return svg
  }
  function adoptStyles (root, css) {
    // Constructed sheets keep working under a host CSP that forbids inline <style>.
    try { var s = new CSSStyleSheet(); s.replaceSync(css); root.adoptedStyleSheets = [s] } catch (e) {
      root.appendChild(h('style', { text: css }))
    }
  }

  function ChatError (code, status) { this.code = code; this.status = status }

  function api (ctx, method, path, body) {
    var headers = {}
    if (ctx.token) headers.Authorization = 'Bearer ' + ctx.token
    if (body) headers['Content-Type'] = 'application/json'
    return fetch(ctx.base + '/api/chat' + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .catch(function () { throw new ChatError('network', 0) })
      .then(function (res) {
        if (res.status === 204) return null
        return res.json().catch(function () { return null }).then(function (data) {
          if (!res.ok) throw new ChatError((data && data.error && data.error.code) || 'generic', res.status)
          return data
        })
      })
  }

  // ---------- a WebSocket that comes back: exponential backoff with jitter ----------
  function Socket (urlFn, handlers) {
    this.urlFn = urlFn; this.h = handlers; this.attempt = 0; this.state = 'idle'; this.stopped = true
    var self = this
    this.onOnline = function () { // retry at once, abandoning an attempt that started while offline
      self.attempt = 0
      if (self.ws && self.ws.readyState !== 1) self.lost(self.ws)
      self.connect()
    }
    this.onOffline = function () { self.drop() } // the browser knows before TCP does
  }
  Socket.prototype.start = function () {
    if (!this.stopped) return
    this.stopped = false
    window.addEventListener('online', this.onOnline)
    window.addEventListener('offline', this.onOffline)
    this.connect()
  }
  Socket.prototype.setState = function (s) { if (this.state !== s) { this.state = s; this.h.state && this.h.state(s) } }
  Socket.prototype.connect = function () {
    var self = this
    clearTimeout(this.timer)
    if (this.stopped || this.ws) return
    this.setState(this.everOpen ? 'reconnecting' : 'connecting')
    var ws
    try { ws = new WebSocket(this.urlFn()) } catch (e) { return this.lost(null) }
    this.ws = ws
    ws.onopen = function () {
      self.everOpen = true; self.rx = Date.now()
      self.beat = setInterval(function () {
        if (Date.now() - self.rx > 45000) return self.drop() // silent half-open connection
        self.send({ type: 'ping' })
      }, 20000)
      self.h.open && self.h.open()
    }
    ws.onmessage = function (e) {
      self.rx = Date.now()
      var f; try { f = JSON.parse(e.data) } catch (err) { return }
      if (f && f.type !== 'pong') self.h.frame(f)
    }
    ws.onclose = function (e) { self.lost(ws, e.code) }
  }
  Socket.prototype.lost = function (ws, code) {
    if (ws && ws !== this.ws) return
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = null }
    this.ws = null
    clearInterval(this.beat)
    if (this.stopped) return
    this.setState(this.everOpen ? 'reconnecting' : 'connecting')
    this.h.lost && this.h.lost(code)
    var cap = Math.min(30000, 500 * Math.pow(2, this.attempt++))
    var self = this
    this.timer = setTimeout(function () { self.connect() }, cap / 2 + Math.random() * cap / 2)
  }
  // Owner calls this once the stream is usable again (after history), so a flapping socket keeps backing off.
  Socket.prototype.ready = function () { this.attempt = 0; this.setState('open') }
  Socket.prototype.drop = function () { var ws = this.ws; if (!ws) return; this.lost(ws); try { ws.close() } catch (e) {} }
  Socket.prototype.send = function (obj) {
    if (!this.ws || this.ws.readyState !== 1) return false
    this.ws.send(JSON.stringify(obj)); return true
  }
  Socket.prototype.stop = function () {
    this.stopped = true
    window.removeEventListener('online', this.onOnline)
    window.removeEventListener('offline', this.onOffline)
    clearTimeout(this.timer); clearInterval(this.beat)
    var ws = this.ws; this.ws = null
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = null; try { ws.close(1000) } catch (e) {} }
  }

  // ---------- one conversation: history, pending queue, typing, reads, presence ----------
  var MAX_LEN = 2000

  function ChatSession (ctx, chat) {
    this.ctx = ctx; this.chat = chat; this.id = chat.id
    this.me = chat.role === 'seller' ? chat.seller_id : chat.buyer_id
    this.other = chat.counterpart_id
    this.msgs = new Map()
    this.myRead = chat.my_last_read_seq || 0
    this.otherRead = chat.other_last_read_seq || 0
    this.online = []; this.typing = false; this.error = null; this.hasMore = chat.last_seq > 0
    this.pendingKey = 'mchat:pending:' + chat.id + ':' + this.me
    this.pending = store(this.pendingKey) || []
    this.listeners = []
    var self = this
    this.sock = new Socket(function () {
      var after = self.maxSeq()
      return ctx.base.replace(/^http/, 'ws') + '/api/chat/ws/' + encodeURIComponent(chat.id) +
        '?token=' + encodeURIComponent(ctx.token) + (after ? '&after_seq=' + after : '')
    }, {
      frame: function (f) { self.onFrame(f) },
      state: function () { self.emit('state') },
      lost: function () { self.settle(); self.setTyping(false); if (self.sock.attempt === 3) self.checkAccess() }
    })
    this.sock.start()
  }
  ChatSession.prototype.on = function (fn) { this.listeners.push(fn) }
  ChatSession.prototype.emit = function (kind, data) { this.listeners.forEach(function (fn) { fn(kind, data) }) }
  ChatSession.prototype.maxSeq = function () { var m = 0; this.msgs.forEach(function (_, s) { if (s > m) m = s }); return m }
  ChatSession.prototype.minSeq = function () { var m = Infinity; this.msgs.forEach(function (_, s) { if (s < m) m = s }); return m }
  ChatSession.prototype.sorted = function () { return Array.from(this.msgs.values()).sort(function (a, b) { return a.seq - b.seq }) }
  ChatSession.prototype.unread = function () {
    var n = 0; var self = this
    this.msgs.forEach(function (m) { if (m.sender_id !== self.me && m.seq > self.myRead) n++ })
    return n
  }
  ChatSession.prototype.add = function (m) {
    var isNew = !this.msgs.has(m.seq)
    this.msgs.set(m.seq, m)
    if (m.sender_id === this.me) {
      if (m.is_read && m.seq > this.otherRead) this.otherRead = m.seq
      if (m.client_message_id) this.unqueue(m.client_message_id) // acked on another connection or before a drop
    }
    return isNew
  }
  // Read-modify-write on storage, so two tabs of one buyer never overwrite each other's queued messages.
  ChatSession.prototype.queue = function (p) {
    this.pending.push(p)
    store(this.pendingKey, (store(this.pendingKey) || []).concat([p]))
  }
  ChatSession.prototype.unqueue = function (cid) {
    function keep (x) { return x.client_message_id !== cid }
    this.pending = this.pending.filter(keep)
    if (this.inFlight === cid) { this.settle(); this.pump() }
    var saved = (store(this.pendingKey) || []).filter(keep)
    store(this.pendingKey, saved.length ? saved : null)
  }
  ChatSession.prototype.onFrame = function (f) {
    var self = this
    switch (f.type) {
      case 'history':
        (f.messages || []).forEach(function (m) { self.add(m) })
        if (this.msgs.size && this.minSeq() <= 1) this.hasMore = false
        if (f.complete) {
          var reconnect = this.resumedOnce; this.resumedOnce = true
          this.sock.ready(); this.settle(); this.pump()
          if (reconnect) this.refreshSummary()
        }
        this.emit('history'); break
      case 'ack':
        this.unqueue(f.client_message_id); this.add(f.message); this.error = null; this.emit('message', f.message); break
      case 'message':
        if (this.add(f.message) && f.message.sender_id !== this.me) { this.setTyping(false); this.emit('incoming', f.message) }
        this.emit('message', f.message); break
      case 'typing':
        if (f.user_id !== this.me) this.setTyping(f.is_typing); break
      case 'read':
        if (f.user_id === this.me) this.myRead = Math.max(this.myRead, f.last_read_seq)
        else this.otherRead = Math.max(this.otherRead, f.last_read_seq)
        this.emit('read'); break
      case 'presence':
        this.online = f.online || []; this.emit('presence'); break
      case 'error': this.onError(f); break
    }
  }
  ChatSession.prototype.onError = function (f) {
    var self = this
    this.error = f.code
    if (f.client_message_id && (f.code === 'rate_limited' || f.code === 'internal_error')) {
      this.settle() // transient: keep it queued and resend (same client_message_id) shortly
      this.retry = setTimeout(function () { self.retry = null; self.pump() }, 3000)
    } else if (f.client_message_id) {
      var p = this.pending.find(function (x) { return x.client_message_id === f.client_message_id })
      this.unqueue(f.client_message_id)
      if (p) this.emit('rejected', p)
      this.pump()
    }
    this.emit('error', f.code)
  }
  ChatSession.prototype.setTyping = function (on) {
    var self = this
    clearTimeout(this.typingTimer)
    if (on) this.typingTimer = setTimeout(function () { self.setTyping(false) }, 6000)
    if (this.typing !== !!on) { this.typing = !!on; this.emit('typing') }
  }
  // One message in flight at a time, the next after its ack: a refused or lost one can never be overtaken.
  ChatSession.prototype.pump = function () {
    var self = this; var p = this.pending[0]
    if (!p || this.inFlight || this.sock.state !== 'open' || this.retry) return
    if (!this.sock.send({ type: 'message', message_text: p.message_text, client_message_id: p.client_message_id })) return
    this.inFlight = p.client_message_id
    // No ack: reconnect, which resends it under the same client_message_id, so at most once stored.
    this.ackTimer = setTimeout(function () { self.sock.drop() }, 15000)
  }
  ChatSession.prototype.settle = function () {
    this.inFlight = null
    clearTimeout(this.ackTimer); clearTimeout(this.retry); this.retry = null
  }
  /** Queues a message (persisted) and sends it when the stream is up. Returns an error code or null. */
  ChatSession.prototype.send = function (text) {
    text = text.replace(/\s+$/, '')
    if (!text.trim()) return 'empty_message'
    if (text.length > MAX_LEN) { this.error = 'message_too_long'; this.emit('error'); return this.error }
    var p = { client_message_id: newId(), message_text: text, created_at: new Date().toISOString() }
    this.queue(p)
    this.error = null
    this.sendTyping(false)
    this.emit('queued', p)
    this.pump()
    return null
  }
  ChatSession.prototype.sendTyping = function (on) {
    var now = Date.now()
    if (on && this.typingSent && now - this.typingSent < 3000) return // the server expires it after 6 s
    this.typingSent = on ? now : 0
    if (on || this.typingOn) this.sock.send({ type: 'typing', is_typing: on })
    this.typingOn = on
  }
  ChatSession.prototype.markRead = function () {
    var top = 0; var self = this
    this.msgs.forEach(function (m) { if (m.sender_id !== self.me && m.seq > top) top = m.seq })
    if (top > this.myRead && this.sock.send({ type: 'read', up_to_seq: top })) {
      this.myRead = top; this.emit('read-sent')
    }
  }
  ChatSession.prototype.loadOlder = function () {
    var self = this
    if (this.loading || !this.hasMore || !this.msgs.size) return
    this.loading = true; this.emit('loading')
    api(this.ctx, 'GET', '/chats/' + encodeURIComponent(this.id) + '/messages?limit=50&before_seq=' + this.minSeq())
      .then(function (r) { r.messages.forEach(function (m) { self.add(m) }); self.hasMore = r.has_more })
      .catch(function (e) { self.error = e.code })
      .then(function () { self.loading = false; self.emit('older') })
  }
  ChatSession.prototype.refreshSummary = function () {
    var self = this
    api(this.ctx, 'GET', '/chats/' + encodeURIComponent(this.id)).then(function (c) {
      self.chat = c
      self.otherRead = Math.max(self.otherRead, c.other_last_read_seq || 0)
      self.myRead = Math.max(self.myRead, c.my_last_read_seq || 0)
      self.emit('read')
    }).catch(function () {})
  }
  // The browser hides why a handshake was refused; ask REST so a lost chat or token stops the retries.
  ChatSession.prototype.checkAccess = function () {
    var self = this
    api(this.ctx, 'GET', '/chats/' + encodeURIComponent(this.id)).catch(function (e) {
      if (e.code !== 'chat_not_found' && e.code !== 'unauthorized') return
      self.sock.stop(); self.error = e.code; self.emit('error', e.code)
    })
  }
  ChatSession.prototype.close = function () { this.sock.stop(); this.settle(); clearTimeout(this.typingTimer); this.listeners = [] }

  // ---------- the conversation view, shared by the buyer panel and the seller inbox ----------
  var VIEW_CSS = [
    '.conv{display:flex;flex-direction:column;height:100%;min-height:0;background:#fff;color:#1c1e21}',
    '.hd{display:flex;align-items:center;gap:8px;padding:10px 12px;border-bottom:1px solid #e4e6eb;flex:none}',
    '.ttl{flex:1;min-width:0}.name{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
    '.sub{display:flex;align-items:center;gap:6px;font-size:12px;color:#65676b}',
    '.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#bcc0c4;flex:none}.dot.on{background:#31a24c}',
    '.ib{border:0;background:transparent;font:inherit;font-size:20px;line-height:1;padding:6px 8px;border-radius:6px;cursor:pointer;color:#444}',
    '.ib:hover{background:#f0f2f5}',
    '.status{font-size:12px;padding:4px 12px;background:#fff4ce;color:#6b5400;flex:none}',
    '.list{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;min-height:0;background:#f7f8fa}',
    '.note{text-align:center;font-size:12px;color:#65676b;padding:6px}',
    '.msg{max-width:80%;padding:7px 10px;border-radius:14px;background:#fff;border:1px solid #e4e6eb;align-self:flex-start}',
    '.msg.mine{align-self:flex-end;background:#0a66c2;border-color:#0a66c2;color:#fff}',
    '.msg.pending{opacity:.65}.msg.failed{background:#fdecea;border-color:#f5c2c0;color:#8a1c1c}',
    '.txt{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}',
    '.meta{display:block;text-align:right;font-size:11px;opacity:.75;margin-top:2px}',
    '.tick{margin-left:4px;letter-spacing:-3px}.tick.read{color:#9fe3ff}',
    '.typing{font-size:12px;color:#65676b;padding:2px 14px;min-height:20px;font-style:italic;flex:none;background:#f7f8fa}',
    '.err{font-size:13px;color:#b3261e;padding:4px 12px;flex:none}',
    '.compose{display:flex;gap:8px;padding:8px 10px;border-top:1px solid #e4e6eb;align-items:flex-end;flex:none}',
    'textarea{flex:1;resize:none;font:inherit;border:1px solid #ccd0d5;border-radius:18px;padding:8px 12px;max-height:120px;min-height:20px;line-height:20px;outline:none;background:#fff;color:inherit}',
    'textarea:focus{border-color:#0a66c2;box-shadow:0 0 0 2px rgba(10,102,194,.2)}',
    '.send{border:0;border-radius:18px;background:#0a66c2;color:#fff;font:inherit;font-weight:600;padding:8px 14px;cursor:pointer}',
    '.send:hover{background:#004182}',
    'button:focus-visible,.list:focus-visible{outline:2px solid #0a66c2;outline-offset:2px}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    '[hidden]{display:none!important}'
  ].join('\n')

  /** opts: {t, title, sub, otherLabel, onClose, onBack} */
  function ConversationView (session, opts) {
    var t = opts.t; var self = this
    this.s = session; this.t = t; this.opts = opts; this.els = new Map(); this.active = false
    this.dot = h('span', { class: 'dot', 'aria-hidden': 'true' })
    this.presence = h('span', { class: 'presence' })
    this.status = h('div', { class: 'status', role: 'status', hidden: true })
    this.older = h('div', { class: 'note older', hidden: true, text: t.loadingOlder })
    this.emptyNote = h('div', { class: 'note', hidden: true, text: t.empty })
    this.list = h('div', { class: 'list', tabindex: '0', 'aria-label': t.messages }, [this.older, this.emptyNote])
    this.typing = h('div', { class: 'typing', 'aria-hidden': 'true' })
    this.err = h('div', { class: 'err', role: 'alert', hidden: true })
    this.input = h('textarea', { rows: '1', placeholder: t.placeholder, 'aria-label': t.placeholder, maxlength: String(MAX_LEN + 500) })
    this.live = h('div', { class: 'sr', 'aria-live': 'polite' })
    var form = h('form', { class: 'compose' }, [this.input, h('button', { class: 'send', type: 'submit', text: t.send })])
    var head = h('div', { class: 'hd' }, [
      opts.onBack && h('button', { class: 'ib back', type: 'button', 'aria-label': t.back, text: '←' }),
      h('div', { class: 'ttl' }, [h('span', { class: 'name', text: opts.title }),
        h('span', { class: 'sub' }, [this.dot, this.presence])]),
      opts.onClose && h('button', { class: 'ib close', type: 'button', 'aria-label': t.close, text: '×' })
    ])
    this.el = h('div', { class: 'conv' }, [head, this.status, this.list, this.typing, this.err, form, this.live])
    if (opts.onBack) head.querySelector('.back').addEventListener('click', opts.onBack)
    if (opts.onClose) head.querySelector('.close').addEventListener('click', opts.onClose)

    form.addEventListener('submit', function (e) { e.preventDefault(); self.submit() })
    this.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.submit() }
    })
    this.input.addEventListener('input', function () {
      self.grow(); session.sendTyping(self.input.value.trim() !== '')
    })
    this.list.addEventListener('scroll', function () { if (self.list.scrollTop < 60) session.loadOlder() })
    this.onVis = function () { self.maybeRead() }
    document.addEventListener('visibilitychange', this.onVis)
    session.on(function (kind, data) { self.update(kind, data) })
    this.update('init')
  }
  ConversationView.prototype.grow = function () {
    this.input.style.height = 'auto'
    this.input.style.height = Math.min(this.input.scrollHeight, 120) + 'px'
  }
  ConversationView.prototype.submit = function () {
    var code = this.s.send(this.input.value)
    if (code) return
    this.input.value = ''; this.grow(); this.input.focus()
  }
  ConversationView.prototype.showError = function (code) {
    this.err.textContent = code ? errText(this.t, code) : ''
    this.err.hidden = !code
  }
  ConversationView.prototype.setActive = function (on) { this.active = on; if (on) { this.stick(); this.maybeRead() } }
  ConversationView.prototype.maybeRead = function () {
    if (this.active && document.visibilityState === 'visible') this.s.markRead()
  }
  ConversationView.prototype.stick = function () { this.list.scrollTop = this.list.scrollHeight }
  ConversationView.prototype.update = function (kind, data) {
    var s = this.s; var t = this.t
    if (kind === 'rejected' && !this.input.value) { this.input.value = data.message_text; this.grow() }
    if (kind === 'incoming') {
      this.live.textContent = fill(t.newMessage, { who: this.opts.otherLabel, text: data.message_text.slice(0, 140) })
    }
    var on = s.online.indexOf(s.other) >= 0
    this.dot.classList.toggle('on', on)
    this.presence.textContent = (this.opts.sub ? this.opts.sub + ' · ' : '') + (on ? t.online : t.offline)
    this.status.hidden = s.sock.state === 'open'
    this.status.textContent = s.sock.state === 'reconnecting' ? t.reconnecting : t.connecting
    this.status.setAttribute('data-state', s.sock.state)
    this.typing.textContent = s.typing ? this.opts.otherLabel + ' ' + t.typing : ''
    this.showError(s.error)
    this.older.hidden = !s.loading
    this.renderList(kind)
    this.maybeRead()
  }
  ConversationView.prototype.renderList = function (kind) {
    var s = this.s; var self = this; var list = this.list
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80
    var oldHeight = list.scrollHeight; var oldTop = list.scrollTop
    var items = s.sorted().map(function (m) { return { key: 's' + m.seq, m: m } })
    s.pending.forEach(function (p) { items.push({ key: 'p' + p.client_message_id, m: p, pending: true }) })
    this.emptyNote.hidden = items.length > 0 || s.sock.state !== 'open'
    var keep = new Set()
    var cursor = this.emptyNote.nextSibling
    items.forEach(function (it) {
      keep.add(it.key)
      var el = self.els.get(it.key) || self.makeMsg(it)
      self.els.set(it.key, el)
      self.paintMeta(el, it)
      if (el !== cursor) list.insertBefore(el, cursor); else cursor = cursor.nextSibling
    })
    this.els.forEach(function (el, key) { if (!keep.has(key)) { el.remove(); self.els.delete(key) } })
    if (kind === 'older') list.scrollTop = oldTop + (list.scrollHeight - oldHeight) // keep the reader's place
    else if (nearBottom || kind === 'queued' || kind === 'init') this.stick()
  }
  ConversationView.prototype.makeMsg = function (it) {
    var mine = it.pending || it.m.sender_id === this.s.me
    var el = h('div', { class: 'msg' + (mine ? ' mine' : ''), 'data-seq': it.pending ? null : String(it.m.seq) })
    if (it.pending) el.setAttribute('data-cid', it.m.client_message_id)
    el.appendChild(h('p', { class: 'txt', text: it.m.message_text })) // textContent only: user text is never markup
    el.appendChild(h('span', { class: 'meta' }, [h('time', { datetime: it.m.created_at, text: fmtTime(this.t, it.m.created_at) }),
      mine ? h('span', { class: 'tick' }) : null]))
    return el
  }
  ConversationView.prototype.paintMeta = function (el, it) {
    el.classList.toggle('pending', !!it.pending)
    var tick = el.querySelector('.tick')
    if (!tick) return
    var read = !it.pending && it.m.seq <= this.s.otherRead
    tick.className = 'tick' + (read ? ' read' : '')
    tick.textContent = it.pending ? ' ' + this.t.pending : read ? '✓✓' : '✓'
    tick.setAttribute('aria-label', it.pending ? this.t.pending : read ? this.t.read : this.t.sent)
    tick.setAttribute('data-tick', it.pending ? 'pending' : read ? 'read' : 'sent')
  }
  ConversationView.prototype.destroy = function () {
    document.removeEventListener('visibilitychange', this.onVis)
    this.el.remove()
  }

  // ---------- the buyer widget ----------
  var PANEL_CSS = VIEW_CSS + [
    // Page rules can still reach the host element, so the real reset is on the wrappers inside the shadow root.
    ':host{all:initial}',
    '.launcher,.panel{all:initial;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1c1e21}',
    '*{box-sizing:border-box}',
    '.launcher{display:grid;place-items:center;position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#0a66c2;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}',
    '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e41e3f;color:#fff;font:600 12px/20px system-ui,sans-serif}',
    '.panel{position:fixed;right:20px;bottom:20px;width:370px;height:560px;max-height:calc(100vh - 40px);border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;z-index:2147483001;display:flex;flex-direction:column}',
    '.panel > .note{margin:auto}',
    '@media (max-width:480px){.panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}}'
  ].join('\n')

  function BuyerWidget (script) {
    this.cfg = window.ChatConfig || {}
    this.base = baseFrom(script, this.cfg)
    this.t = strings(this.cfg.lang)
    this.lastKey = 'mchat:last:' + this.base
    this.anonKey = 'mchat:anon:' + this.base
    var self = this
    document.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('[data-chat-seller]')
      if (!b) return
      e.preventDefault()
      self.openChat(b.getAttribute('data-chat-seller'), b.getAttribute('data-chat-listing'),
        { listingTitle: b.getAttribute('data-chat-title') || undefined })
    })
    var last = store(this.lastKey)
    // A returning buyer gets the panel back as it was; a queued message is sent even with the panel closed.
    if (last) this.resume(last, last.open ? 'restore' : 'quiet')
  }
  BuyerWidget.prototype.mount = function () {
    if (this.root) return
    var self = this; var t = this.t
    this.host = h('market-chat-widget')
    this.root = this.host.attachShadow({ mode: 'open' })
    adoptStyles(this.root, PANEL_CSS)
    this.badge = h('span', { class: 'badge', hidden: true })
    this.launcher = h('button', { class: 'launcher', type: 'button', 'aria-label': t.chatWithSeller, hidden: true }, [
      chatIcon(), this.badge])
    this.panel = h('div', { class: 'panel', role: 'dialog', 'aria-label': t.chatWithSeller, hidden: true })
    this.launcher.addEventListener('click', function () { if (self.last) self.resume(self.last, 'open') })
    this.panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.stopPropagation(); self.close() } })
    this.root.appendChild(this.launcher); this.root.appendChild(this.panel)
    document.body.appendChild(this.host)
  }
  BuyerWidget.prototype.token = function () {
    var cfg = window.ChatConfig || {}; var self = this
    if (cfg.token) return Promise.resolve(cfg.token)
    if (typeof cfg.getToken === 'function') {
      return Promise.resolve(cfg.getToken()).then(function (tok) { return tok || self.anonToken() })
    }
    return this.anonToken()
  }
  BuyerWidget.prototype.anonToken = function (fresh) {
    var self = this
    var saved = !fresh && store(this.anonKey)
    if (saved && saved.token) return Promise.resolve(saved.token)
    return api({ base: this.base }, 'POST', '/anonymous').then(function (r) { store(self.anonKey, r); self.anon = true; return r.token })
  }
  /** Runs fn(ctx); an expired anonymous identity is replaced once (a registered token is the host's business). */
  BuyerWidget.prototype.withCtx = function (fn) {
    var self = this
    return this.token().then(function (tok) {
      var ctx = { base: self.base, token: tok }
      return fn(ctx).catch(function (e) {
        var cfg = window.ChatConfig || {}
        if (e.code !== 'unauthorized' || cfg.token || cfg.getToken) throw e
        store(self.anonKey, null)
        return self.anonToken(true).then(function (tok2) { ctx.token = tok2; return fn(ctx) })
      }).then(function (chat) { return { ctx: ctx, chat: chat } })
    })
  }
  BuyerWidget.prototype.openChat = function (sellerId, listingId, opts) {
    var self = this
    var title = (opts && opts.listingTitle) || ''
    this.show(this.view ? this.view.el : h('div', { class: 'note', text: this.t.connecting }))
    return this.withCtx(function (ctx) {
      return api(ctx, 'POST', '/chats', { listing_id: String(listingId), seller_id: String(sellerId) })
    }).then(function (r) {
      self.attach(r.ctx, r.chat, title, 'open')
    }).catch(function (e) { self.fail(e) })
  }
  BuyerWidget.prototype.resume = function (last, mode) {
    var self = this; var quiet = mode === 'quiet'
    this.last = last
    if (this.session && this.session.id === last.chat_id) return this.attach(this.session.ctx, this.session.chat, last.title, mode)
    if (!quiet) this.show(h('div', { class: 'note', text: this.t.connecting }))
    return this.withCtx(function (ctx) { return api(ctx, 'GET', '/chats/' + encodeURIComponent(last.chat_id)) })
      .then(function (r) { self.attach(r.ctx, r.chat, last.title, mode) })
      .catch(function (e) {
        if (e.code === 'chat_not_found' || e.code === 'unauthorized') { store(self.lastKey, null); self.last = null }
        if (quiet) return
        self.fail(e)
      })
  }
  /** mode: 'open' (user asked: focus the input), 'restore' (after a reload: no focus theft), 'quiet' (closed). */
  BuyerWidget.prototype.attach = function (ctx, chat, title, mode) {
    var self = this; var t = this.t; var quiet = mode === 'quiet'
    if (!this.session || this.session.id !== chat.id) {
      if (this.session) { this.session.close(); this.view.destroy() }
      this.session = new ChatSession(ctx, chat)
      this.view = new ConversationView(this.session, {
        t: t, title: title || t.chatWithSeller, sub: t.seller, otherLabel: t.seller, onClose: function () { self.close() }
      })
      this.session.on(function () { self.paintBadge() })
    }
    this.last = { chat_id: chat.id, me: this.session.me, title: title, open: !quiet }
    store(this.lastKey, this.last)
    this.mount()
    if (quiet) return this.paintBadge()
    this.show(this.view.el)
    this.view.setActive(true)
    if (mode !== 'restore') this.view.input.focus()
  }
  BuyerWidget.prototype.show = function (content) {
    this.mount()
    if (this.panel.hidden) this.returnFocus = document.activeElement
    if (this.panel.firstChild !== content) { this.panel.textContent = ''; this.panel.appendChild(content) }
    this.panel.hidden = false
    this.paintBadge()
  }
  BuyerWidget.prototype.fail = function (e) {
    var self = this
    var close = h('button', { class: 'ib close', type: 'button', 'aria-label': this.t.close, text: '×' })
    close.addEventListener('click', function () { self.close() })
    this.show(h('div', { class: 'conv' }, [h('div', { class: 'hd' }, [h('div', { class: 'ttl' }, [
      h('span', { class: 'name', text: this.t.chatWithSeller })]), close]),
    h('div', { class: 'err', role: 'alert', text: errText(this.t, e.code) })]))
    close.focus()
  }
  BuyerWidget.prototype.close = function () {
    if (!this.panel || this.panel.hidden) return
    this.panel.hidden = true
    if (this.view) this.view.setActive(false)
    if (this.last) { this.last.open = false; store(this.lastKey, this.last) }
    this.paintBadge()
    var back = this.returnFocus
    if (back && back !== document.body && back.isConnected && back !== this.host) back.focus()
    else if (!this.launcher.hidden) this.launcher.focus()
  }
  BuyerWidget.prototype.paintBadge = function () {
    if (!this.root) return
    var closed = this.panel.hidden
    this.launcher.hidden = !closed || !this.session
    var n = this.session ? this.session.unread() : 0
    this.badge.hidden = !closed || n === 0
    this.badge.textContent = n > 99 ? '99+' : String(n)
    this.launcher.setAttribute('aria-label', this.t.chatWithSeller + (n ? ', ' + fill(this.t.unread, { n: n }) : ''))
  }

  function startBuyer (s) {
    var w = new BuyerWidget(s || script)
    window.chatManager = {
      openChat: function (sellerId, listingId, opts) { return w.openChat(sellerId, listingId, opts) },
      close: function () { w.close() }
    }
  }

  window.MarketChat = {
    strings: strings, fill: fill, errText: errText, h: h, fmtTime: fmtTime, baseFrom: baseFrom, adoptStyles: adoptStyles,
    api: api, Socket: Socket, ChatSession: ChatSession, ConversationView: ConversationView, VIEW_CSS: VIEW_CSS,
    startBuyer: startBuyer
  }
  if (!coreOnly()) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { startBuyer() })
    else startBuyer()
  }
})()

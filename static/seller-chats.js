/* seller-chats.js: the seller's live inbox (chats grouped by listing, unread counts, previews, online dots) with the
   conversation shown inline. Loads chat.js from the same folder for the shared core when the page lacks it. */
(function () {
  'use strict'
  var script = document.currentScript
  var coreReady

  function loadCore () {
    if (window.MarketChat) return Promise.resolve(window.MarketChat)
    if (!coreReady) {
      coreReady = new Promise(function (resolve, reject) {
        var s = document.createElement('script')
        s.src = new URL('chat.js', script ? script.src : location.href).href
        s.setAttribute('data-core-only', '')
        s.onload = function () { resolve(window.MarketChat) }
        s.onerror = function () { reject(new Error('chat.js failed to load')) }
        document.head.appendChild(s)
      })
    }
    return coreReady
  }

  var INBOX_CSS = [
    ':host{all:initial;display:block;container-type:inline-size}',
    '*{box-sizing:border-box}',
    // Page rules can still reach the host element; the reset that sticks is on the wrapper inside the shadow root.
    '.inbox{all:initial;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1c1e21;display:flex;height:var(--mchat-height,600px);border:1px solid #e4e6eb;border-radius:10px;overflow:hidden;background:#fff}',
    '.side{width:340px;flex:none;border-right:1px solid #e4e6eb;overflow-y:auto;background:#fff}',
    '.main{flex:1;min-width:0;display:flex;flex-direction:column}',
    '.main > .note{margin:auto}',
    'h2{font-size:16px;margin:0;padding:12px 14px;border-bottom:1px solid #e4e6eb;display:flex;align-items:center;gap:8px}',
    '.group h3{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#65676b;margin:0;padding:10px 14px 4px;display:flex;gap:8px;align-items:center}',
    '.group h3 .lt{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    'ul{list-style:none;margin:0;padding:0}',
    '.chat{display:grid;grid-template-columns:10px 1fr auto;grid-template-rows:auto auto;column-gap:8px;width:100%;text-align:left;border:0;background:transparent;font:inherit;color:inherit;padding:8px 14px;cursor:pointer;align-items:center}',
    '.chat:hover{background:#f0f2f5}.chat[aria-current="true"]{background:#e7f0fa}',
    '.chat .dot{grid-row:1}.who{font-weight:600;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '.guest{font-weight:400;color:#65676b}',
    '.time{font-size:11px;color:#65676b}',
    '.prev{grid-column:2;font-size:13px;color:#65676b;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '.chat.unread .prev{color:#1c1e21;font-weight:600}',
    '.count{grid-column:3;justify-self:end;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e41e3f;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;text-transform:none;letter-spacing:0}',
    '.empty{padding:20px 14px;color:#65676b}',
    '.back{display:none}',
    '@container (max-width:640px){.side{width:100%;border-right:0}.main{display:none}',
    '  .inbox.open .side{display:none}.inbox.open .main{display:flex}.back{display:inline-block}}'
  ].join('\n')

  function activity (c) { return Date.parse(c.last_message_time || c.updated_at || c.created_at) || 0 }

  /** opts: {container, token | getToken, api, lang, getListingTitle(listingId) → string | Promise<string>} */
  function SellerChatsManager (opts) {
    this.opts = opts || {}
    this.chats = new Map(); this.online = new Set(); this.titles = new Map()
    var self = this
    this.ready = loadCore().then(function (C) { return self.start(C) })
  }

  SellerChatsManager.prototype.start = function (C) {
    var o = this.opts; var cfg = window.ChatConfig || {}; var self = this
    this.C = C; this.t = C.strings(o.lang || cfg.lang)
    var base = C.baseFrom(o.api ? null : script, { api: o.api || cfg.api })
    return Promise.resolve(o.token || (o.getToken && o.getToken())).then(function (token) {
      self.ctx = { base: base, token: token }
      self.render0()
      self.load() // the list shows even before (or without) the live stream
      self.sock = new C.Socket(function () {
        return base.replace(/^http/, 'ws') + '/api/chat/ws/inbox?token=' + encodeURIComponent(token)
      }, {
        // Reload on every connect too: updates missed before or between streams; the server re-sends who is online.
        open: function () { self.online.clear(); self.sock.ready(); self.load() },
        frame: function (f) { self.onFrame(f) }
      })
      self.sock.start()
    })
  }

  SellerChatsManager.prototype.render0 = function () {
    var C = this.C; var h = C.h; var t = this.t
    this.host = h('div', { class: 'market-chat-inbox' })
    this.opts.container.appendChild(this.host)
    var root = this.host.attachShadow({ mode: 'open' })
    C.adoptStyles(root, C.VIEW_CSS + '\n' + INBOX_CSS)
    this.total = h('span', { class: 'count', hidden: true })
    this.groups = h('div', { class: 'groups' })
    this.side = h('nav', { class: 'side', 'aria-label': t.chats }, [h('h2', {}, [h('span', { text: t.chats }), this.total]), this.groups])
    this.main = h('section', { class: 'main' }, [h('p', { class: 'note', text: t.selectChat })])
    this.box = h('div', { class: 'inbox' }, [this.side, this.main])
    root.appendChild(this.box)
    var self = this
    this.groups.addEventListener('click', function (e) {
      var b = e.target.closest('.chat')
      if (b) self.open(b.getAttribute('data-chat-id'))
    })
    root.addEventListener('keydown', function (e) { if (e.key === 'Escape' && self.current) self.back() })
  }

  SellerChatsManager.prototype.load = function () {
    var self = this; var all = []
    var live = this.live = new Map() // frames that arrive while the snapshot loads are newer than it
    var page = function (offset) {
      return self.C.api(self.ctx, 'GET', '/chats/my?role=seller&limit=100&offset=' + offset).then(function (r) {
        all = all.concat(r.chats)
        if (r.chats.length && all.length < r.total && offset < 900) return page(offset + 100)
      })
    }
    return page(0).then(function () {
      if (self.live !== live) return // a newer reload superseded this one
      self.chats = new Map(all.map(function (c) { return [c.id, c] }))
      live.forEach(function (c, id) { self.chats.set(id, c) })
      self.live = null; self.loaded = true; self.renderList()
    }).catch(function (e) { self.showError(e.code) })
  }

  SellerChatsManager.prototype.onFrame = function (f) {
    if (f.type === 'chat_updated' && f.chat && f.chat.role === 'seller') {
      this.chats.set(f.chat.id, f.chat)
      if (this.live) this.live.set(f.chat.id, f.chat)
      this.renderList()
    } else if (f.type === 'presence') {
      if (f.online) this.online.add(f.user_id); else this.online.delete(f.user_id)
      this.renderList()
    }
  }

  SellerChatsManager.prototype.title = function (listingId) {
    var self = this; var fn = this.opts.getListingTitle || (window.ChatConfig || {}).getListingTitle
    if (!this.titles.has(listingId) && fn) {
      this.titles.set(listingId, null)
      Promise.resolve(fn(listingId)).then(function (title) {
        if (title) { self.titles.set(listingId, String(title)); self.renderList() }
      }).catch(function () {})
    }
    return this.titles.get(listingId) || this.C.fill(this.t.listing, { id: listingId })
  }

  SellerChatsManager.prototype.unread = function (c) {
    // The open conversation is being read right now; don't flash a count the next read frame will clear.
    return this.current && this.current.id === c.id && document.visibilityState === 'visible' ? 0 : c.unread_count
  }

  SellerChatsManager.prototype.buyerName = function (c) { return c.buyer_label || c.buyer_id }

  SellerChatsManager.prototype.renderList = function () {
    var C = this.C; var h = C.h; var t = this.t; var self = this
    var groups = new Map()
    Array.from(this.chats.values()).sort(function (a, b) { return activity(b) - activity(a) }).forEach(function (c) {
      if (!groups.has(c.listing_id)) groups.set(c.listing_id, [])
      groups.get(c.listing_id).push(c)
    })
    var focused = this.host.shadowRoot.activeElement
    var focusId = focused && focused.getAttribute('data-chat-id')
    var total = 0
    this.groups.textContent = ''
    groups.forEach(function (chats, listingId) {
      var n = chats.reduce(function (sum, c) { return sum + self.unread(c) }, 0)
      total += n
      var ul = h('ul')
      chats.forEach(function (c) { ul.appendChild(h('li', {}, [self.chatButton(c)])) })
      self.groups.appendChild(h('section', { class: 'group', 'data-listing-id': listingId }, [
        h('h3', {}, [h('span', { class: 'lt', text: self.title(listingId) }),
          n ? h('span', { class: 'count', text: String(n), 'aria-label': C.fill(t.unread, { n: n }) }) : null]), ul]))
    })
    if (this.loaded && !groups.size) this.groups.appendChild(h('p', { class: 'empty', text: t.noChats }))
    this.total.hidden = !total
    this.total.textContent = String(total)
    this.total.setAttribute('aria-label', C.fill(t.unread, { n: total }))
    if (focusId) {
      var again = this.groups.querySelector('[data-chat-id="' + CSS.escape(focusId) + '"]')
      if (again) again.focus()
    }
  }

  SellerChatsManager.prototype.chatButton = function (c) {
    var C = this.C; var h = C.h; var t = this.t
    var n = this.unread(c); var on = this.online.has(c.buyer_id)
    var who = h('span', { class: 'who', text: this.buyerName(c) })
    if (!c.buyer_is_registered) who.appendChild(h('span', { class: 'guest', text: ' (' + t.guest + ')' }))
    var preview = c.last_message == null ? '' : (c.last_message_sender_id === c.seller_id ? t.you + ': ' : '') + c.last_message
    return h('button', {
      class: 'chat' + (n ? ' unread' : ''), type: 'button', 'data-chat-id': c.id,
      'aria-current': this.current && this.current.id === c.id ? 'true' : false
    }, [
      h('span', { class: 'dot' + (on ? ' on' : ''), title: on ? t.online : t.offline, 'aria-label': on ? t.online : t.offline }),
      who,
      h('time', { class: 'time', datetime: c.last_message_time || '', text: C.fmtTime(t, c.last_message_time) }),
      h('span', { class: 'prev', text: preview }), // textContent: a buyer's text is never markup
      n ? h('span', { class: 'count', text: String(n), 'aria-label': C.fill(t.unread, { n: n }) }) : null
    ])
  }

  SellerChatsManager.prototype.open = function (chatId) {
    var c = this.chats.get(chatId); var self = this; var C = this.C
    if (!c) return
    if (!this.current || this.current.id !== chatId) {
      this.closeCurrent()
      var session = new C.ChatSession(this.ctx, c)
      var label = this.buyerName(c) + (c.buyer_is_registered ? '' : ' (' + this.t.guest + ')')
      this.view = new C.ConversationView(session, {
        t: this.t, title: label, sub: this.title(c.listing_id), otherLabel: label, onBack: function () { self.back() }
      })
      session.on(function (kind) {
        if (kind === 'read-sent') { var cur = self.chats.get(chatId); if (cur) cur.unread_count = 0; self.renderList() }
      })
      this.current = session
      this.main.textContent = ''
      this.main.appendChild(this.view.el)
    }
    this.box.classList.add('open')
    this.view.setActive(true)
    this.renderList()
    this.view.input.focus()
  }

  SellerChatsManager.prototype.closeCurrent = function () {
    if (!this.current) return
    this.current.close(); this.view.destroy()
    this.current = this.view = null
  }

  SellerChatsManager.prototype.back = function () {
    var id = this.current && this.current.id
    this.closeCurrent()
    this.box.classList.remove('open')
    this.main.textContent = ''
    this.main.appendChild(this.C.h('p', { class: 'note', text: this.t.selectChat }))
    this.renderList()
    var b = id && this.groups.querySelector('[data-chat-id="' + CSS.escape(id) + '"]')
    if (b) b.focus()
  }

  SellerChatsManager.prototype.showError = function (code) {
    this.groups.textContent = ''
    this.groups.appendChild(this.C.h('p', { class: 'err', role: 'alert', text: this.C.errText(this.t, code) }))
  }

  SellerChatsManager.prototype.destroy = function () {
    var self = this
    return this.ready.then(function () {
      if (self.sock) self.sock.stop()
      self.closeCurrent()
      if (self.host) self.host.remove()
    })
  }

  window.SellerChatsManager = SellerChatsManager

  function autoStart () {
    var page = document.getElementById('profilePage'); var cfg = window.ChatConfig || {}
    if (!page || !cfg.token || window.sellerChats) return
    window.sellerChats = new SellerChatsManager({
      container: page.querySelector('[data-seller-chats]') || page, token: cfg.token, getListingTitle: cfg.getListingTitle
    })
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoStart)
  else autoStart()
})()

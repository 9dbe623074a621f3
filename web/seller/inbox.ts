// Owns the seller's live inbox: chats grouped by listing (loaded by pages from the grouped endpoint, more on scroll),
// unread counts, previews and presence, with the conversation shown inline (one pane at a time in a narrow container);
// a hidden tab's title counts new messages, and an opt-in control subscribes the seller to Web Push.
import { askHost, baseFrom, Ctx, onHostToken, type ChatError } from '../core/context.js'
import type { ChatSummary, InFrame } from '../core/protocol.js'
import type { GroupedInboxPage, ListingGroup } from '../../src/chat/schemas.js'
import { ChatSession } from '../core/session.js'
import { Socket } from '../core/socket.js'
import { errText, fill, pickLocale, type Locale } from '../locales/index.js'
import { ConversationView, VIEW_CSS } from '../ui/conversation-view.js'
import { adoptStyles, fmtTime, h } from '../ui/dom.js'
import type { ChatConfig } from '../buyer/widget.js'
import { attention, soundWanted, type Bump } from '../ui/attention.js'
import { PUSH_CSS, notifiedChat, pushControl, swPath } from '../ui/push-control.js'
import { notifyStrings } from '../locales/notify.js'

const INBOX_CSS = [
  ':host{all:initial;display:block;container-type:inline-size}',
  '*{box-sizing:border-box}',
  // Page rules can still reach the host element; the reset that sticks is on the wrapper inside the shadow root.
  '.inbox{all:initial;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1c1e21;display:flex;height:var(--mchat-height,600px);border:1px solid #e4e6eb;border-radius:10px;overflow:hidden;background:#fff}',
  '.side{width:340px;flex:none;border-inline-end:1px solid #e4e6eb;overflow-y:auto;background:#fff}',
  '.main{flex:1;min-width:0;display:flex;flex-direction:column}',
  '.main > .note{margin:auto}',
  'h2{font-size:16px;margin:0;padding:12px 14px;border-bottom:1px solid #e4e6eb;display:flex;align-items:center;gap:8px}',
  '.all{font-size:12px;font-weight:400;color:#595c61;flex:1}',
  '.more{padding:10px 14px;color:#595c61;font-size:12px;text-align:center}',
  '.group h3{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#595c61;margin:0;padding:10px 14px 4px;display:flex;gap:8px;align-items:center}',
  '.group h3 .lt{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
  '.group h3 .thumb{width:28px;height:28px;object-fit:cover;border-radius:4px;flex:none;background:#eceef1}',
  'ul{list-style:none;margin:0;padding:0}',
  '.chat{display:grid;grid-template-columns:10px 1fr auto;grid-template-rows:auto auto;column-gap:8px;width:100%;text-align:start;border:0;background:transparent;font:inherit;color:inherit;padding:8px 14px;cursor:pointer;align-items:center}',
  '.chat:hover{background:#f0f2f5}.chat[aria-current="true"]{background:#e7f0fa}',
  '.chat .dot{grid-row:1}.who{font-weight:600;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
  '.nm{display:flex;min-width:0;gap:4px;white-space:nowrap}',
  '.guest,.pres{font-weight:400;color:#595c61}.pres.on{color:#1e7b34}',
  '.time{font-size:11px;color:#595c61}',
  '.prev{grid-column:2;font-size:13px;color:#595c61;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
  '.chat.unread .prev{color:#1c1e21;font-weight:600}',
  '.count{grid-column:3;justify-self:end;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d0102f;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;text-transform:none;letter-spacing:0}',
  '.empty{padding:20px 14px;color:#595c61}',
  '.back{display:none}',
  PUSH_CSS, '.side .ntf{border-top:0;border-bottom:1px solid #e4e6eb}',
  '@container (max-width:640px){.side{width:100%;border-inline-end:0}.main{display:none}',
  '  .inbox.open .side{display:none}.inbox.open .main{display:flex}.back{display:inline-block}}'
].join('\n')

export interface InboxOptions {
  container: HTMLElement
  token?: string
  getToken?: ChatConfig['getToken']
  api?: string
  lang?: string
  getListingTitle?: ChatConfig['getListingTitle']
  /** The signed-in seller's id, for the grouped inbox endpoint; found from the seller's own chats when not given. */
  sellerId?: string
  /** Listings per page of the inbox (default 30); the next page loads when the list is scrolled near its end. */
  pageSize?: number
  /** A short, quiet beep for a new message while the tab is hidden (default off; ChatConfig.sound or data-chat-sound="true" too). */
  sound?: boolean
  /** Where the host page serves static/chat-sw.js on its own origin (ChatConfig.serviceWorker or data-chat-sw too): enables the notify control. */
  serviceWorker?: string
}

const activity = (c: ChatSummary): number => Date.parse(c.last_message_time ?? c.updated_at ?? c.created_at) || 0

export class SellerChatsManager {
  readonly ready: Promise<void>
  private readonly opts: InboxOptions
  private chats = new Map<string, ChatSummary>()
  private readonly online = new Set<string>()
  private readonly titles = new Map<string, string | null>()
  private live: Map<string, ChatSummary> | null = null
  private loaded = false
  private sellerId: string | null = null
  /** The grouped endpoint's cursor for the next page (null: all loaded), pages held, and chats in the whole inbox. */
  private next: string | null = null
  private pages = 1
  private totalChats = 0
  private loadingMore = false
  private side!: HTMLElement
  private all!: HTMLElement
  private more!: HTMLElement
  private t!: Locale
  private ctx!: Ctx
  private sock: Socket | null = null
  private host!: HTMLElement
  private total!: HTMLElement
  private groups!: HTMLElement
  private main!: HTMLElement
  private box!: HTMLElement
  private current: ChatSession | null = null
  private view: ConversationView | null = null
  private bump!: Bump
  private sw: string | null = null
  /** A chat named by a notification click (?chat=<id>), opened once the list has loaded. */
  private wanted: string | null = notifiedChat()

  constructor (opts: InboxOptions, script: HTMLScriptElement | null = null) {
    this.opts = opts
    this.ready = this.start(script)
  }

  private async start (script: HTMLScriptElement | null): Promise<void> {
    const o = this.opts
    const cfg = window.ChatConfig ?? {}
    this.t = pickLocale(o.lang ?? cfg.lang ?? document.documentElement.lang)
    this.bump = attention(soundWanted(o.sound ?? cfg.sound, script))
    this.sw = swPath(o.serviceWorker ?? cfg.serviceWorker, script)
    const base = baseFrom(o.api ? null : script, o.api ?? cfg.api)
    const token = o.token ?? (o.getToken ? await o.getToken() : null) ?? null
    this.ctx = new Ctx(base, token, () => { askHost(this.ctx, this.opts.getToken ?? config().getToken, 'seller') })
    onHostToken((fresh) => { this.ctx.setToken(fresh) })
    // A click on a push notification (static/chat-sw.js) focuses an open tab and names the chat: it opens here.
    navigator.serviceWorker?.addEventListener('message', (e) => {
      const d = (e as MessageEvent<{ type?: string, chat_id?: string } | null>).data
      if (d?.type === 'chat-notification-click') this.open(String(d.chat_id))
    })
    this.render0()
    void this.load() // the list shows even before (or without) the live stream
    const sock: Socket = this.sock = new Socket(this.ctx, () => this.ctx.wsUrl('inbox'), {
      // Reload on every connect too: updates missed before or between streams; the server re-sends who is online.
      open: () => { this.online.clear(); sock.ready(); void this.load() },
      frame: (f) => { this.onFrame(f) }
    })
    sock.start()
  }

  /** The embed API's setToken for this inbox: REST, the inbox socket and an open conversation move to it. */
  setToken (token: string): void { this.ctx.setToken(token) }

  private render0 (): void {
    const t = this.t
    this.host = h('div', { class: 'market-chat-inbox' })
    this.opts.container.appendChild(this.host)
    const root = this.host.attachShadow({ mode: 'open' })
    adoptStyles(root, VIEW_CSS + '\n' + INBOX_CSS)
    this.total = h('span', { class: 'count', hidden: true })
    this.all = h('span', { class: 'all' })
    this.groups = h('div', { class: 'groups' })
    this.more = h('p', { class: 'more', role: 'status', hidden: true, text: t.loadingMore })
    const side = this.side = h('nav', { class: 'side', 'aria-label': t.chats }, [h('h2', {}, [h('span', { text: t.chats }), this.all, this.total]),
      pushControl(this.ctx, this.sw, notifyStrings(t.lang)), this.groups, this.more])
    this.main = h('section', { class: 'main' }, [h('p', { class: 'note', text: t.selectChat })])
    this.box = h('div', { class: 'inbox', dir: t.dir, lang: t.lang }, [side, this.main])
    side.addEventListener('scroll', () => { this.maybeMore() })
    root.appendChild(this.box)
    this.groups.addEventListener('click', (e) => {
      const b = (e.target as Element).closest('.chat')
      if (b) this.open(b.getAttribute('data-chat-id') ?? '')
    })
    root.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Escape' && this.current) this.back() })
  }

  /** The seller's id for the grouped endpoint: the option, else the seller side of any of the seller's chats. */
  private async findSeller (): Promise<string | null> {
    if (this.sellerId) return this.sellerId
    if (this.opts.sellerId) return (this.sellerId = this.opts.sellerId)
    const r = await this.ctx.api<{ chats: ChatSummary[] }>('GET', '/chats/my?role=seller&limit=1')
    return (this.sellerId = r.chats[0]?.seller_id ?? null)
  }

  private async page (cursor: string | null): Promise<{ groups: ListingGroup[], next: string | null, total: number }> {
    const seller = await this.findSeller()
    if (seller === null) return { groups: [], next: null, total: 0 }
    const r = await this.ctx.api<GroupedInboxPage | ListingGroup[]>('GET', '/chats/seller/' + encodeURIComponent(seller) +
      '/grouped?limit=' + String(this.opts.pageSize ?? 30) + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''))
    if (Array.isArray(r)) return { groups: r, next: null, total: r.reduce((n, g) => n + g.chats.length, 0) } // a server without paging
    return { groups: r.groups, next: r.next_cursor, total: r.total_chats }
  }

  /** (Re)loads as many pages as are shown: a reconnect refreshes what the seller sees without shrinking the list. */
  private async load (): Promise<void> {
    let all: ChatSummary[] = []
    const live = this.live = new Map<string, ChatSummary>() // frames that arrive while the snapshot loads are newer than it
    let next: string | null = null
    let total = 0
    try {
      for (let n = 0; n < this.pages; n++) {
        const r = await this.page(next)
        for (const g of r.groups) all = all.concat(g.chats)
        total = r.total
        next = all.length >= total ? null : r.next
        if (next === null) break
      }
    } catch (e) {
      this.showError((e as ChatError).code)
      return
    }
    if (this.live !== live) return // a newer reload superseded this one
    this.chats = new Map(all.map((c) => [c.id, c]))
    for (const [id, c] of live) this.chats.set(id, c)
    this.live = null
    this.next = next
    this.totalChats = Math.max(total, this.chats.size)
    this.loaded = true
    this.renderList()
    this.maybeMore()
    void this.openWanted()
  }

  /** Opens the chat a notification named: from the loaded pages, or fetched by id (the server says whose it is). */
  private async openWanted (): Promise<void> {
    const id = this.wanted
    if (!id) return
    this.wanted = null
    if (!this.chats.has(id)) {
      try {
        this.chats.set(id, await this.ctx.api<ChatSummary>('GET', '/chats/' + encodeURIComponent(id)))
      } catch {
        return // not this seller's chat, or gone: the inbox shows as usual
      }
    }
    this.open(id)
  }

  /** The next page, when the list is scrolled near its end (or does not fill its box yet). */
  private maybeMore (): void {
    const side = this.side
    if (!this.loaded || this.next === null || this.loadingMore || this.live) return
    if (side.scrollHeight - side.scrollTop - side.clientHeight > 200) return
    this.loadingMore = true
    this.more.hidden = false
    const cursor = this.next
    this.page(cursor).then((r) => {
      if (this.next !== cursor) return // a reload replaced the list meanwhile
      for (const g of r.groups) for (const c of g.chats) if (!this.chats.has(c.id)) this.chats.set(c.id, c)
      // A page may hold fewer listings than asked, even none (the server walks a bounded stretch of the inbox per
      // page): once every chat of the inbox is here, the cursors past the last listing need not be followed.
      this.next = this.chats.size >= r.total ? null : r.next
      this.pages++
      this.totalChats = Math.max(r.total, this.chats.size)
      this.renderList()
    }).catch(() => {}).then(() => {
      this.loadingMore = false
      this.more.hidden = true
      if (this.next !== null && this.next !== cursor) this.maybeMore()
    })
  }

  private onFrame (f: InFrame): void {
    if (f.type === 'chat_updated' && f.chat.role === 'seller') {
      const was = this.chats.get(f.chat.id)
      if (f.chat.unread_count > 0 && f.chat.last_message_sender_id === f.chat.counterpart_id && f.chat.last_seq > (was?.last_seq ?? 0)) {
        this.bump(Math.max(1, f.chat.unread_count - (was?.unread_count ?? 0))) // counted in the title while the tab is hidden
      }
      if (!was && this.loaded && !this.live) this.totalChats++ // a new conversation (an older one would be on a later page)
      this.chats.set(f.chat.id, f.chat)
      this.view?.safety?.update(f.chat) // a block or unblock shows in the open conversation at once
      if (this.live) this.live.set(f.chat.id, f.chat)
      this.renderList()
    } else if (f.type === 'chat_merged') {
      // A buyer claimed their guest chat into their account's: the old one is gone, its chat_updated follows.
      this.chats.delete(f.from_chat_id)
      this.live?.delete(f.from_chat_id)
      this.renderList()
    } else if (f.type === 'presence' && 'user_id' in f) {
      if (f.online) this.online.add(f.user_id)
      else this.online.delete(f.user_id)
      this.paintDots(f.user_id) // presence changes one buyer's dots, nothing else
    }
  }

  private title (listingId: string, known?: string | null): string {
    // The marketplace's own title (listing lookup) wins over asking the host page.
    if (known) return known
    const fn = this.opts.getListingTitle ?? config().getListingTitle
    if (!this.titles.has(listingId) && fn) {
      this.titles.set(listingId, null)
      Promise.resolve(fn(listingId)).then((title) => {
        if (title) { this.titles.set(listingId, String(title)); this.renderList() }
      }).catch(() => {})
    }
    return this.titles.get(listingId) ?? fill(this.t.listing, { id: listingId })
  }

  private unread (c: ChatSummary): number {
    // The open conversation is being read right now; don't flash a count the next read frame will clear.
    return this.current && this.current.id === c.id && document.visibilityState === 'visible' ? 0 : c.unread_count
  }

  /** Their name from their token; for a guest, "Buyer N" in the page's language (buyer_label is the English one). */
  private buyerName (c: ChatSummary): string {
    return c.buyer_display_name ?? (c.buyer_number != null ? this.t.buyer + ' ' + String(c.buyer_number) : null) ?? c.buyer_label ?? c.buyer_id
  }

  private renderList (): void {
    const t = this.t
    const groups = new Map<string, ChatSummary[]>()
    for (const c of Array.from(this.chats.values()).sort((a, b) => activity(b) - activity(a))) {
      const g = groups.get(c.listing_id)
      if (g) g.push(c)
      else groups.set(c.listing_id, [c])
    }
    const focused = this.host.shadowRoot?.activeElement
    const focusId = focused?.getAttribute('data-chat-id')
    let total = 0
    this.groups.textContent = ''
    for (const [listingId, chats] of groups) {
      const n = chats.reduce((sum, c) => sum + this.unread(c), 0)
      total += n
      const ul = h('ul', {}, chats.map((c) => h('li', {}, [this.chatButton(c)])))
      // The marketplace's own picture of the listing (its lookup answer; never anything a buyer sent), decorative.
      const image = chats[0]?.listing?.image_url
      this.groups.appendChild(h('section', { class: 'group', 'data-listing-id': listingId }, [
        h('h3', {}, [image ? h('img', { class: 'thumb', src: image, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' }) : null,
          h('span', { class: 'lt', text: this.title(listingId, chats[0]?.listing?.title) }),
          ...this.countBadge(n)]), ul]))
    }
    if (this.loaded && !groups.size) this.groups.appendChild(h('p', { class: 'empty', text: t.noChats }))
    this.all.textContent = this.loaded ? fill(t.chatsTotal, { n: Math.max(this.totalChats, this.chats.size) }) : ''
    this.total.hidden = !total
    this.total.textContent = String(total)
    this.total.setAttribute('title', fill(t.unread, { n: total }))
    if (focusId) this.groups.querySelector<HTMLElement>('[data-chat-id="' + CSS.escape(focusId) + '"]')?.focus()
  }

  /** An unread count: the number to the eye, "3 unread" to a screen reader (aria-label is not for a plain span). */
  private countBadge (n: number): HTMLElement[] {
    return n ? [h('span', { class: 'count', 'aria-hidden': 'true', text: String(n) }), h('span', { class: 'sr', text: fill(this.t.unread, { n }) })] : []
  }

  /** Presence by shape and text as well as colour: a filled dot and the word "online", or a ring. */
  private paintDot (dot: Element, on: boolean): void {
    dot.className = 'dot' + (on ? ' on' : '')
    dot.setAttribute('title', on ? this.t.online : this.t.offline)
    const word = dot.parentElement?.querySelector('.pres')
    if (word) { word.className = 'pres' + (on ? ' on' : ''); word.textContent = on ? ' · ' + this.t.online : '' }
  }

  private paintDots (userId: string): void {
    const on = this.online.has(userId)
    for (const b of Array.from(this.groups.querySelectorAll('.chat'))) {
      const c = this.chats.get(b.getAttribute('data-chat-id') ?? '')
      const dot = b.querySelector('.dot')
      if (c && dot && c.buyer_id === userId) this.paintDot(dot, on)
    }
  }

  private chatButton (c: ChatSummary): HTMLElement {
    const t = this.t
    const n = this.unread(c)
    const who = h('span', { class: 'who' }, [h('bdi', { text: this.buyerName(c) })])
    if (!c.buyer_is_registered) who.appendChild(h('span', { class: 'guest', text: ' (' + t.guest + ')' }))
    const name = h('span', { class: 'nm' }, [who, h('span', { class: 'pres' })])
    const preview = c.last_message == null ? '' : (c.last_message_sender_id === c.seller_id ? t.you + ': ' : '') + c.last_message
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' })
    const button = h('button', {
      class: 'chat' + (n ? ' unread' : ''), type: 'button', 'data-chat-id': c.id,
      'aria-current': this.current && this.current.id === c.id ? 'true' : false
    }, [
      dot,
      name,
      h('time', { class: 'time', datetime: c.last_message_time ?? '', text: fmtTime(t.lang, c.last_message_time) }),
      h('span', { class: 'prev', dir: 'auto', text: preview }), // textContent: a buyer's text is never markup
      ...this.countBadge(n)
    ])
    this.paintDot(dot, this.online.has(c.buyer_id))
    return button
  }

  open (chatId: string): void {
    const c = this.chats.get(chatId)
    if (!c) return
    if (!this.current || !this.view || this.current.id !== chatId) {
      this.closeCurrent()
      const session = new ChatSession(this.ctx, c)
      const label = this.buyerName(c) + (c.buyer_is_registered ? '' : ' (' + this.t.guest + ')')
      this.view = new ConversationView(session, {
        t: this.t, title: label, sub: this.title(c.listing_id), otherLabel: label, onBack: () => { this.back() }
      })
      session.on((kind) => {
        if (kind !== 'read-sent') return
        const cur = this.chats.get(chatId)
        if (cur) cur.unread_count = 0
        this.renderList()
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

  private closeCurrent (): void {
    this.current?.close()
    this.view?.destroy()
    this.current = this.view = null
  }

  private back (): void {
    const id = this.current?.id
    this.closeCurrent()
    this.box.classList.remove('open')
    this.main.textContent = ''
    this.main.appendChild(h('p', { class: 'note', text: this.t.selectChat }))
    this.renderList()
    if (id) this.groups.querySelector<HTMLElement>('[data-chat-id="' + CSS.escape(id) + '"]')?.focus()
  }

  private showError (code: string): void {
    this.groups.textContent = ''
    this.groups.appendChild(h('p', { class: 'err', role: 'alert', text: errText(this.t, code) }))
  }

  async destroy (): Promise<void> {
    await this.ready
    this.sock?.stop()
    this.closeCurrent()
    this.host.remove()
  }
}

const config = (): ChatConfig => window.ChatConfig ?? {}

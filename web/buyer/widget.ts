// Owns the buyer's side: the Chat buttons on a product page, the floating panel, the launcher with the unread total over
// all the buyer's chats, the list of those chats, the buyer's identity (host token, or an anonymous one kept in
// localStorage) and resuming after a reload.
import { askHost, baseFrom, ChatError, Ctx, onHostToken } from '../core/context.js'
import type { ChatSummary } from '../core/protocol.js'
import { ChatSession } from '../core/session.js'
import { load, save } from '../core/storage.js'
import { errText, fill, pickLocale, type Locale } from '../locales/index.js'
import { ConversationView, VIEW_CSS } from '../ui/conversation-view.js'
import { adoptStyles, chatIcon, h } from '../ui/dom.js'
import { claimStoredGuest, forgetEverything } from './claim.js'
import { trapFocus } from '../ui/focus-trap.js'
import { attention, soundWanted, type Bump } from '../ui/attention.js'
import { notifiedChat, swPath } from '../ui/push-control.js'
import { withScript } from '../ui/script-loader.js'
import type { ChatList } from './chat-list.js'
import { myChats, type MyChats } from './my-chats.js'

/** What a marketplace page may set before the script runs (window.ChatConfig). */
export interface ChatConfig {
  token?: string
  getToken?: () => string | null | undefined | Promise<string | null | undefined>
  lang?: string
  api?: string
  getListingTitle?: (listingId: string) => string | Promise<string>
  /** Which bottom corner the launcher and panel sit in (default right; mirrored for right-to-left languages). */
  position?: 'left' | 'right'
  /** z-index of the launcher (the panel gets one more); default 2147483000, above nearly any host page layer. */
  zIndex?: number
  /** Seller inbox: listings per page of the grouped inbox (default 30). */
  inboxPageSize?: number
  /** A short, quiet beep for a new message while the tab is hidden (default off; or data-chat-sound="true"). */
  sound?: boolean
  /** Where the host page serves static/chat-sw.js on its own origin, e.g. '/chat-sw.js' (or data-chat-sw): enables the notify control. */
  serviceWorker?: string
}

declare global {
  interface Window { ChatConfig?: ChatConfig }
}

const config = (): ChatConfig => window.ChatConfig ?? {}

const PANEL_CSS = VIEW_CSS + [
  // Page rules can still reach the host element, so the real reset is on the wrappers inside the shadow root.
  ':host{all:initial}',
  // `all` leaves direction alone: the wrappers carry their own dir attribute, so a host's body{direction:rtl} stays out.
  '.launcher,.panel{all:initial;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1c1e21}',
  '*{box-sizing:border-box}',
  '.launcher{display:grid;place-items:center;position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--chat-accent,#0a66c2);color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:var(--chat-z-index,2147483000)}',
  '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d0102f;color:#fff;font:600 12px/20px system-ui,sans-serif}',
  '.panel{position:fixed;right:20px;bottom:20px;width:370px;height:560px;max-height:calc(100vh - 40px);border-radius:var(--chat-radius,12px);overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;z-index:calc(var(--chat-z-index,2147483000) + 1);display:flex;flex-direction:column}',
  ':host([data-position=left]) .launcher,:host([data-position=left]) .panel{right:auto;left:20px}',
  '.panel > .note{margin:auto}',
  '.back{position:relative}.back[data-n]:not([data-n="0"])::after{content:attr(data-n);position:absolute;top:-2px;right:-4px;min-width:16px;height:16px;padding:0 4px;border-radius:8px;background:#d0102f;color:#fff;font:600 11px/16px system-ui,sans-serif}',
  '@media (max-width:480px){.panel,:host([data-position=left]) .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}}'
].join('\n')

/** page: the path the panel was opened on; a phone restores it full screen only there. */
interface Last { chat_id: string, me: string, title: string, open: boolean, page?: string }

/** The phone layout: the panel covers the screen, so it is a modal dialog. */
const isPhone = (): boolean => typeof matchMedia === 'function' && matchMedia('(max-width:480px)').matches
type Mode = 'open' | 'restore' | 'quiet'

export class BuyerWidget {
  private readonly base: string
  private readonly t: Locale
  private readonly lastKey: string
  private readonly anonKey: string
  private readonly ctx: Ctx
  /** The newest token the host handed over with MarketChat.setToken: it beats ChatConfig.token from then on. */
  private hostToken: string | null = null
  private last: Last | null = null
  private session: ChatSession | null = null
  private view: ConversationView | null = null
  private host: HTMLElement | null = null
  private root: ShadowRoot | null = null
  private launcher!: HTMLButtonElement
  private badge!: HTMLElement
  private panel!: HTMLElement
  private returnFocus: Element | null = null
  /** Left open on another page of the site (phone): collapsed here, still open there. */
  private keepOpen = false
  /** All the buyer's chats, live (null until the buyer has an identity). */
  private chats: MyChats | null = null
  /** A chat named by a notification click (?chat=<id>), opened once the buyer's list shows it is theirs. */
  private wanted: string | null = notifiedChat()
  private list: ChatList | null = null
  /** The list was asked for and nothing else since: its file may still be loading. */
  private listing = false
  private readonly bump: Bump
  private readonly titlesKey: string

  constructor (private readonly script: HTMLScriptElement | null) {
    const cfg = config()
    this.bump = attention(soundWanted(cfg.sound, script))
    this.base = baseFrom(script, cfg.api)
    this.titlesKey = 'mchat:titles:' + this.base
    this.t = pickLocale(cfg.lang ?? document.documentElement.lang)
    this.lastKey = 'mchat:last:' + this.base
    this.anonKey = 'mchat:anon:' + this.base
    this.ctx = new Ctx(this.base, null, () => { askHost(this.ctx, config().getToken, 'buyer') })
    onHostToken((token) => { this.hostToken = token; this.ctx.setToken(token) })
    document.addEventListener('click', (e) => {
      const target = e.target as Element | null
      const b = target?.closest?.('[data-chat-seller]')
      if (!b) return
      e.preventDefault()
      void this.openChat(b.getAttribute('data-chat-seller') ?? '', b.getAttribute('data-chat-listing') ?? '',
        { listingTitle: b.getAttribute('data-chat-title') ?? undefined })
    })
    const last = load<Last>(this.lastKey)
    // A returning buyer gets the panel back as it was; a queued message is sent even with the panel closed.
    // On a phone the panel covers the page: it comes back open only on the page it was left open on.
    const reopen = last?.open === true && (!isPhone() || last.page === undefined || last.page === location.pathname)
    this.keepOpen = last?.open === true && !reopen
    if (last) void this.resume(last, reopen ? 'restore' : 'quiet')
    void this.startList().catch(() => {})
    // A click on a push notification (static/chat-sw.js) focuses an open tab and names the chat: it opens here.
    navigator.serviceWorker?.addEventListener('message', (e) => {
      const d = (e as MessageEvent<{ type?: string, chat_id?: string } | null>).data
      const c = d?.type === 'chat-notification-click' ? this.chats?.all.get(String(d.chat_id)) : undefined
      if (c) this.attach(c, this.titleOf(c), 'open')
    })
  }

  /** A returning buyer (host token or stored guest): the launcher and its total show before any chat is opened. */
  private async startList (): Promise<void> {
    const cfg = config()
    // getToken is documented to be called when a chat opens: with it alone, the list starts with the first chat shown.
    const registered = this.hostToken ?? cfg.token
    if (!registered && typeof cfg.getToken === 'function') return
    if (registered) await this.claimGuest(registered)
    const token = registered ?? load<{ token?: string }>(this.anonKey)?.token
    if (!token) return // never asked anything here: no guest identity is made just to find no chats
    this.ctx.setToken(token)
    this.listen()
  }

  /** Follows all the buyer's chats over the inbox socket, as the identity ctx holds now. */
  private listen (): void {
    this.chats ??= myChats(this.ctx, (incoming) => {
      this.bump(incoming)
      if (this.chats?.all.size) this.mount()
      const wanted = this.wanted === null ? undefined : this.chats?.all.get(this.wanted)
      if (wanted) { this.wanted = null; this.attach(wanted, this.titleOf(wanted), 'open') }
      this.list?.update(this.chats?.sorted() ?? [])
      this.paintBadge()
    })
  }

  private stopList (): void {
    this.chats?.stop()
    this.chats = this.list = null
  }

  /** A chat's unread count: an open session's own count once it has its history (it may be ahead), else the summary's. */
  private unreadOf (c: ChatSummary): number {
    const s = this.session
    return s && s.id === c.id && s.sock.state === 'open' ? s.unread() : c.unread_count
  }

  private titleOf (c: ChatSummary): string {
    return c.listing?.title || load<Record<string, string>>(this.titlesKey)?.[c.id] || fill(this.t.listing, { id: c.listing_id })
  }

  private showList (): void {
    this.listing = true
    this.view?.setActive(false)
    if (!this.list) this.show(h('div', { class: 'note', text: this.t.connecting }))
    withScript(this.base, 'chat-list.js', () => window.MarketChatList, (make) => {
      if (!this.listing || !this.root) return // the buyer went elsewhere while the file loaded
      this.list ??= make({
        t: this.t, ctx: this.ctx, root: this.root, sw: swPath(config().serviceWorker, this.script),
        title: (c) => this.titleOf(c), unread: (c) => this.unreadOf(c),
        onOpen: (c) => { this.attach(c, this.titleOf(c), 'open') }, onClose: () => { this.close() }
      })
      this.list.update(this.chats?.sorted() ?? [])
      this.show(this.list.el)
      const el = this.list.el
      ;(el.querySelector<HTMLElement>('.row') ?? el.querySelector<HTMLElement>('.close'))?.focus()
    })
  }

  private mount (): void {
    if (this.root) return
    const t = this.t
    const cfg = config()
    this.host = h('market-chat-widget', { 'data-position': cfg.position === 'left' || cfg.position === 'right' ? cfg.position : (t.dir === 'rtl' ? 'left' : 'right') })
    if (typeof cfg.zIndex === 'number' && Number.isFinite(cfg.zIndex)) this.host.style.setProperty('--chat-z-index', String(Math.trunc(cfg.zIndex)))
    this.root = this.host.attachShadow({ mode: 'open' })
    adoptStyles(this.root, PANEL_CSS)
    this.badge = h('span', { class: 'badge', hidden: true })
    this.launcher = h('button', { class: 'launcher', type: 'button', dir: t.dir, 'aria-label': t.chatWithSeller, hidden: true }, [chatIcon(), this.badge])
    this.panel = h('div', { class: 'panel', role: 'dialog', dir: t.dir, lang: t.lang, 'aria-label': t.chatWithSeller, hidden: true })
    trapFocus(this.panel, this.root, isPhone)
    // One chat opens at once; with more, the list of them.
    this.launcher.addEventListener('click', () => {
      if (this.last && (this.chats?.all.size ?? 0) < 2) void this.resume(this.last, 'open')
      else this.showList()
    })
    this.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); this.close() } })
    this.root.appendChild(this.launcher)
    this.root.appendChild(this.panel)
    document.body.appendChild(this.host)
  }

  /** A signed-in user's token from the host, or null for an anonymous buyer. */
  private async hostIdentity (): Promise<string | null> {
    const cfg = config()
    if (this.hostToken) return this.hostToken
    if (cfg.token) return cfg.token
    if (typeof cfg.getToken === 'function') return (await cfg.getToken()) ?? null
    return null
  }

  private async anonToken (fresh = false): Promise<string> {
    const saved = fresh ? null : load<{ token?: string }>(this.anonKey)
    if (saved?.token) return saved.token
    const r = await new Ctx(this.base, null).api<{ token: string }>('POST', '/anonymous')
    save(this.anonKey, r)
    return r.token
  }

  /** Runs fn with the context; an expired anonymous identity is replaced once (a registered token is the host's business). */
  private async withCtx<T> (fn: (ctx: Ctx) => Promise<T>): Promise<T> {
    const registered = await this.hostIdentity()
    if (registered) await this.claimGuest(registered)
    this.ctx.setToken(registered ?? await this.anonToken())
    try {
      return await fn(this.ctx)
    } catch (e) {
      if (registered || (e as ChatError).code !== 'unauthorized') throw e
      save(this.anonKey, null)
      this.ctx.setToken(await this.anonToken(true))
      return await fn(this.ctx)
    }
  }

  async openChat (sellerId: string, listingId: string, opts?: { listingTitle?: string }): Promise<void> {
    const title = opts?.listingTitle ?? ''
    this.show(this.view ? this.view.el : h('div', { class: 'note', text: this.t.connecting }))
    try {
      const chat = await this.withCtx(async (ctx) => await ctx.api<ChatSummary>('POST', '/chats', { listing_id: String(listingId), seller_id: String(sellerId) }))
      this.attach(chat, title, 'open')
    } catch (e) {
      const err = e as ChatError
      // The guest-token limit counts per address: many visitors behind one office or carrier address share it.
      if (err.code === 'rate_limited' && !this.view) { this.waitAndRetry(err.retryAfter || 10, () => { void this.openChat(sellerId, listingId, opts) }); return }
      this.fail(err)
    }
  }

  /** "Trying again in N s", counted down on screen, then the same action again by itself. */
  private waitAndRetry (seconds: number, again: () => void): void {
    const note = h('div', { class: 'note', role: 'status' })
    const close = h('button', { class: 'ib close', type: 'button', 'aria-label': this.t.close, text: '×' })
    let left = Math.max(1, Math.ceil(seconds))
    const tick = (): void => {
      if (this.panel.hidden || !note.isConnected) return // closed or replaced: no retry behind the person's back
      if (left <= 0) { again(); return }
      note.textContent = fill(this.t.retryIn, { s: left-- })
      setTimeout(tick, 1000)
    }
    close.addEventListener('click', () => { this.close() })
    this.show(h('div', { class: 'conv' }, [
      h('div', { class: 'hd' }, [h('div', { class: 'ttl' }, [h('span', { class: 'name', text: this.t.chatWithSeller })]), close]), note]))
    tick()
  }

  private async resume (last: Last, mode: Mode): Promise<void> {
    const quiet = mode === 'quiet'
    this.last = last
    if (this.session && this.session.id === last.chat_id) { this.attach(this.session.chat, last.title, mode); return }
    if (!quiet) this.show(h('div', { class: 'note', text: this.t.connecting }))
    try {
      // this.last, not last: a claim inside withCtx may have moved the conversation to a new id.
      const chat = await this.withCtx(async (ctx) => await ctx.api<ChatSummary>('GET', '/chats/' + encodeURIComponent((this.last ?? last).chat_id)))
      this.attach(chat, last.title, mode)
    } catch (e) {
      const code = (e as ChatError).code
      if (code === 'chat_not_found' || code === 'unauthorized') { save(this.lastKey, null); this.last = null }
      if (!quiet) this.fail(e as ChatError)
    }
  }

  /** mode: 'open' (user asked: focus the input), 'restore' (after a reload: no focus theft), 'quiet' (closed). */
  private attach (chat: ChatSummary, title: string, mode: Mode): void {
    const t = this.t
    const quiet = mode === 'quiet'
    if (!this.session || !this.view || this.session.id !== chat.id) {
      if (this.session) this.session.close()
      if (this.view) this.view.destroy()
      this.session = new ChatSession(this.ctx, chat)
      this.view = new ConversationView(this.session, {
        // The seller's name from their marketplace token when the service has it; "Seller" otherwise.
        t, title: title || t.chatWithSeller, sub: chat.seller_display_name ?? t.seller, otherLabel: chat.seller_display_name ?? t.seller, onClose: () => { this.close() }, onBack: () => { this.showList() }
      })
      // The badge shows unread messages; typing and presence cannot change it.
      this.session.on((kind) => { if (kind !== 'typing' && kind !== 'presence') this.paintBadge() })
    }
    if (!quiet) this.keepOpen = this.listing = false
    if (title) save(this.titlesKey, Object.assign(load<Record<string, string>>(this.titlesKey) ?? {}, { [chat.id]: title }))
    this.listen()
    this.last = { chat_id: chat.id, me: this.session.me, title, open: !quiet || this.keepOpen, page: mode === 'open' || !this.last?.page ? location.pathname : this.last.page }
    save(this.lastKey, this.last)
    this.mount()
    if (quiet) { this.paintBadge(); return }
    this.show(this.view.el)
    this.view.setActive(true)
    if (mode !== 'restore') this.view.input.focus()
  }

  private show (content: HTMLElement): void {
    this.mount()
    if (this.panel.hidden) this.returnFocus = document.activeElement
    if (this.panel.firstChild !== content) { this.panel.textContent = ''; this.panel.appendChild(content) }
    // Full screen on a phone: a modal dialog (focus stays inside, see trapFocus); a floating panel beside the page on a desktop.
    if (isPhone()) this.panel.setAttribute('aria-modal', 'true')
    else this.panel.removeAttribute('aria-modal')
    this.panel.hidden = false
    this.paintBadge()
  }

  private fail (e: ChatError): void {
    const close = h('button', { class: 'ib close', type: 'button', 'aria-label': this.t.close, text: '×' })
    close.addEventListener('click', () => { this.close() })
    this.show(h('div', { class: 'conv' }, [
      h('div', { class: 'hd' }, [h('div', { class: 'ttl' }, [h('span', { class: 'name', text: this.t.chatWithSeller })]), close]),
      h('div', { class: 'err', role: 'alert', text: errText(this.t, e.code) })
    ]))
    close.focus()
  }

  close (): void {
    if (!this.root || this.panel.hidden) return
    this.panel.hidden = true
    this.view?.setActive(false)
    this.keepOpen = this.listing = false
    if (this.last) { this.last.open = false; save(this.lastKey, this.last) }
    this.paintBadge()
    const back = this.returnFocus as HTMLElement | null
    if (back && back !== document.body && back.isConnected && back !== this.host) back.focus()
    else if (!this.launcher.hidden) this.launcher.focus()
  }

  /** The embed API's setToken: the new token for REST, open sockets (auth frame) and reconnects. */
  setToken (token: string): void {
    this.hostToken = token
    this.ctx.setToken(token)
  }

  /**
   * A signed-in user (window.chatManager.setUser, or ChatConfig.token at load): the stored guest session is claimed
   * first, then the current conversation reopens as the user's, under its new id if the claim merged it.
   */
  async setUser (token: string): Promise<void> {
    this.hostToken = token
    this.stopList() // the guest's list; the user's follows under the new token
    await this.claimGuest(token)
    this.ctx.setToken(token)
    this.listen()
    if (this.last) await this.resume(this.last, this.root && !this.panel.hidden ? 'restore' : 'quiet')
  }

  /** Forgets the user and everything the widget stored in localStorage. */
  logout (): void {
    this.dropSession()
    this.stopList()
    this.hostToken = null
    this.ctx.token = null
    this.last = null
    forgetEverything()
    if (this.root) { this.panel.hidden = true; this.panel.textContent = ''; this.paintBadge() }
  }

  private claiming: Promise<void> | null = null

  /** One claim at a time; a claim that did not go through stays stored and is tried again on the next call. */
  private async claimGuest (token: string): Promise<void> {
    this.claiming ??= (async () => {
      const answer = await claimStoredGuest(this.base, this.anonKey, token)
      if (!answer) return
      this.stopList() // it followed the guest; attach() follows the user's chats from here
      if (!this.last) return
      const merged = answer.merges.find((m) => m.from_chat_id === this.last?.chat_id)
      this.last = { ...this.last, chat_id: merged?.to_chat_id ?? this.last.chat_id }
      save(this.lastKey, this.last)
      // The open session speaks as the guest: the conversation is reopened as the user's.
      this.dropSession()
    })().finally(() => { this.claiming = null })
    await this.claiming
  }

  private dropSession (): void {
    this.session?.close()
    this.view?.destroy()
    this.session = null
    this.view = null
  }

  private paintBadge (): void {
    if (!this.root) return
    const closed = this.panel.hidden
    const s = this.session
    const all = this.chats?.all
    this.launcher.hidden = !closed || (!s && !all?.size)
    // The total over all the buyer's chats; the open session counts itself while the list has not heard of it yet.
    let n = s && !all?.has(s.id) ? s.unread() : 0
    for (const c of all?.values() ?? []) n += this.unreadOf(c)
    this.badge.hidden = !closed || n === 0
    this.badge.textContent = n > 99 ? '99+' : String(n)
    this.launcher.setAttribute('aria-label', n ? fill(this.t.launcher, { n }) : this.t.chats)
    // The open conversation's Back button tells of unread messages in the buyer's other chats.
    const back = this.view?.el.querySelector('.back')
    const others = s ? n - (all?.has(s.id) ? this.unreadOf(all.get(s.id) as ChatSummary) : s.unread()) : 0
    back?.setAttribute('data-n', String(others))
    back?.setAttribute('aria-label', others ? fill(this.t.launcher, { n: others }) : this.t.back)
  }
}

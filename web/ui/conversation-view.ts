// Owns the conversation view shared by the buyer panel and the seller inbox: keyed message nodes with four visible
// states (sending, sent, read, failed with Retry), per-event repaints, read only what was on screen, drafts, counter.
import { MAX_MESSAGE_LENGTH } from '../../src/protocol/limits.js'
import { loadDraft, saveDraft } from '../core/drafts.js'
import type { Message } from '../core/protocol.js'
import type { ChatSession, Failed, Pending, SessionEvent } from '../core/session.js'
import { messageLength } from '../core/text-length.js'
import { errText, fill, type Locale } from '../locales/index.js'
import { fmtTime, h } from './dom.js'
import { dayKey, dayLabel } from './dates.js'
import { renderText } from './message-format.js'
import { PHOTO_CSS, PhotoComposer, PhotoViewer, photoStrip, type PhotoSource } from './photos.js'
import { withSafety } from './safety-loader.js'
import type { Safety } from './safety-menu.js'

/** The counter shows from this many characters on (the limit is the server's, counted the same way). */
const COUNTER_FROM = MAX_MESSAGE_LENGTH - 200

// Colours meet 4.5:1 for text and 3:1 for borders and dots (WCAG 2.2 AA). Embedders theme with --chat-accent and
// --chat-radius on the widget's host element (custom properties inherit into the shadow root).
export const VIEW_CSS = [
  '.conv{display:flex;flex-direction:column;height:100%;min-height:0;background:#fff;color:#1c1e21;position:relative}',
  '.hd{display:flex;align-items:center;gap:8px;padding:10px 12px;border-bottom:1px solid #e4e6eb;flex:none}',
  '.ttl{flex:1;min-width:0}.name{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
  '.sub{display:flex;align-items:center;gap:6px;font-size:12px;color:#595c61}',
  '.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:transparent;border:2px solid #767a80;flex:none}.dot.on{background:#1e7b34;border-color:#1e7b34}',
  '.sub.down .dot{display:none}.sub.down{color:#8a1c1c}',
  '.ib{border:0;background:transparent;font:inherit;font-size:20px;line-height:1;padding:6px 8px;border-radius:6px;cursor:pointer;color:#444}',
  '.ib:hover{background:#f0f2f5}',
  '.status{font-size:12px;padding:4px 12px;background:#fff4ce;color:#5c4800;flex:none}',
  '.list{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;min-height:0;background:#f7f8fa}',
  '.note{text-align:center;font-size:12px;color:#595c61;padding:6px}',
  '.day{align-self:center;font-size:12px;color:#595c61;background:#eceef1;border-radius:10px;padding:2px 10px;margin:6px 0}',
  '.msg{max-width:80%;padding:7px 10px;border-radius:var(--chat-radius,14px);background:#fff;border:1px solid #d5d8dc;align-self:flex-start}',
  '.msg.mine{align-self:flex-end;background:var(--chat-accent,#0a66c2);border-color:var(--chat-accent,#0a66c2);color:#fff}',
  '.msg.mine a{color:inherit}.msg a{color:#0a55a3;text-decoration:underline}',
  '.msg.pending{background:#fff;color:#1c1e21;border:1px dashed var(--chat-accent,#0a66c2)}.msg.pending a{color:#0a55a3}',
  '.msg.failed{background:#fdecea;border-color:#b3261e;color:#6e1414}.msg.failed a{color:#6e1414}',
  '.txt{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}',
  '.meta{display:flex;gap:6px;justify-content:flex-end;align-items:center;flex-wrap:wrap;font-size:11px;margin-top:2px}',
  '.tick{font-weight:600}',
  '.why{flex-basis:100%;text-align:end}',
  '.retry{border:1px solid #6e1414;background:#fff;color:#6e1414;border-radius:10px;font:inherit;font-weight:600;padding:2px 10px;cursor:pointer}',
  '.typing{font-size:12px;color:#595c61;padding:2px 14px;min-height:20px;font-style:italic;flex:none;background:#f7f8fa}',
  '.pill{position:absolute;left:50%;transform:translateX(-50%);bottom:70px;border:0;border-radius:16px;background:var(--chat-accent,#0a66c2);color:#fff;font:inherit;font-size:13px;font-weight:600;padding:6px 14px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}',
  '.err{font-size:13px;color:#b3261e;padding:4px 12px;flex:none}',
  '.compose{display:flex;gap:8px;padding:8px 10px;border-top:1px solid #e4e6eb;align-items:flex-end;flex:none;flex-wrap:wrap}',
  'textarea{flex:1;resize:none;font:inherit;border:1px solid #767a80;border-radius:18px;padding:8px 12px;max-height:120px;min-height:20px;line-height:20px;outline:none;background:#fff;color:inherit}',
  'textarea:focus{border-color:var(--chat-accent,#0a66c2);box-shadow:0 0 0 2px rgba(10,102,194,.25)}',
  '.send{border:0;border-radius:18px;background:var(--chat-accent,#0a66c2);color:#fff;font:inherit;font-weight:600;padding:8px 14px;cursor:pointer}',
  '.send:hover{filter:brightness(.85)}',
  '.counter{flex-basis:100%;order:3;text-align:end;font-size:12px;color:#595c61}.counter.over{color:#b3261e;font-weight:600}',
  'button:focus-visible,.list:focus-visible,a:focus-visible{outline:2px solid var(--chat-accent,#0a66c2);outline-offset:2px}',
  '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
  // iOS zooms into any input under 16 px; the phone gets 16 px text boxes.
  '@media (max-width:480px),(pointer:coarse){textarea{font-size:16px}}',
  '[hidden]{display:none!important}',
  PHOTO_CSS
].join('\n')

export interface ViewOptions {
  t: Locale
  title: string
  sub?: string
  otherLabel: string
  onClose?: () => void
  onBack?: () => void
}

type Kind = 'msg' | 'pending' | 'failed'
interface Item { key: string, m: Message | Pending | Failed, kind: Kind }

const LIST_EVENTS: SessionEvent[] = ['history', 'message', 'incoming', 'queued', 'older', 'rejected']

export class ConversationView {
  readonly el: HTMLElement
  readonly input: HTMLTextAreaElement
  /** Block/Report menu and the blocked state; a seller's inbox forwards its chat_updated frames here. */
  safety: Safety | null = null
  private gone = false
  private readonly t: Locale
  private readonly els = new Map<string, HTMLElement>()
  private active = false
  private paintedRead = 0
  private readonly dot = h('span', { class: 'dot', 'aria-hidden': 'true' })
  private readonly presence = h('span', { class: 'presence' })
  private readonly sub = h('span', { class: 'sub' }, [this.dot, this.presence])
  private readonly status = h('div', { class: 'status', role: 'status', hidden: true })
  private readonly older: HTMLElement
  private readonly emptyNote: HTMLElement
  private readonly list: HTMLElement
  private readonly typing = h('div', { class: 'typing', 'aria-hidden': 'true' })
  private readonly err = h('div', { class: 'err', role: 'alert', hidden: true })
  private readonly live = h('div', { class: 'sr', 'aria-live': 'polite' })
  private readonly counter = h('div', { class: 'counter', id: 'mchat-counter', hidden: true })
  private readonly pill: HTMLButtonElement
  /** Incoming messages on screen right now (seq), and the newest one seen while the tab was visible. */
  private readonly onScreen = new Set<number>()
  private seenTop = 0
  private readonly io: IntersectionObserver | null
  private readonly viewer: PhotoViewer
  private readonly photoSource: PhotoSource
  private readonly onVis = (): void => { this.collectSeen(); this.maybeRead() }

  constructor (private readonly s: ChatSession, private readonly opts: ViewOptions) {
    const t = this.t = opts.t
    this.older = h('div', { class: 'note older', hidden: true, text: t.loadingOlder })
    this.emptyNote = h('div', { class: 'note', hidden: true, text: t.empty })
    this.list = h('div', { class: 'list', role: 'log', tabindex: '0', 'aria-label': t.messages }, [this.older, this.emptyNote])
    // No maxlength: a paste over the limit is kept whole and the counter says by how much it is too long.
    this.input = h('textarea', { rows: '1', dir: 'auto', placeholder: t.placeholder, 'aria-label': t.placeholder, 'aria-describedby': 'mchat-counter' })
    this.input.value = loadDraft(s.id, s.me)
    const photos = new PhotoComposer(s, t, this.input)
    // The widget's token, read at each use: the host page may have replaced it since.
    this.photoSource = { base: s.ctx.base, token: () => s.ctx.token }
    this.viewer = new PhotoViewer(t, this.photoSource)
    const form = h('form', { class: 'compose' }, [photos.button, photos.input, this.input, h('button', { class: 'send', type: 'submit', text: t.send }), this.counter, photos.tray])
    const back = opts.onBack ? h('button', { class: 'ib back', type: 'button', 'aria-label': t.back, text: t.dir === 'rtl' ? '→' : '←' }) : null
    const close = opts.onClose ? h('button', { class: 'ib close', type: 'button', 'aria-label': t.close, text: '×' }) : null
    this.pill = h('button', { class: 'pill', type: 'button', hidden: true, text: t.newMessages + ' ↓' })
    const head = h('div', { class: 'hd' }, [
      back,
      h('div', { class: 'ttl' }, [h('span', { class: 'name', dir: 'auto', text: opts.title }), this.sub]),
      close
    ])
    this.el = h('div', { class: 'conv', dir: t.dir, lang: t.lang }, [head, this.status, this.list, this.pill, this.typing, this.err, form, this.live, this.viewer.el])
    photos.acceptDrops(this.el)
    if (back && opts.onBack) back.addEventListener('click', opts.onBack)
    if (close && opts.onClose) close.addEventListener('click', opts.onClose)
    this.pill.addEventListener('click', () => { this.stick(); this.pill.hidden = true; this.list.focus() })

    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit() })
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit() }
    })
    this.input.addEventListener('input', () => {
      this.grow()
      this.paintCounter()
      saveDraft(s.id, s.me, this.input.value)
      s.sendTyping(this.input.value.trim() !== '')
    })
    this.list.addEventListener('scroll', () => {
      if (this.list.scrollTop < 60) s.loadOlder()
      if (this.nearBottom()) this.pill.hidden = true
    })
    this.list.addEventListener('click', (e) => {
      const b = (e.target as Element).closest('.retry')
      const cid = b?.closest('.msg')?.getAttribute('data-cid')
      if (cid) s.retryFailed(cid)
    })
    this.io = typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => { this.onIntersect(entries) }, { root: this.list, threshold: [0, 0.5, 1] })
      : null
    document.addEventListener('visibilitychange', this.onVis)
    s.on((kind, data) => { this.update(kind, data) })
    this.paintPresence()
    this.paintStatus()
    this.paintTyping()
    this.paintError()
    this.paintCounter()
    this.renderList('init')
    // Its own file, so the buyer embed stays inside its size budget.
    // Made after the constructor's caller has put this view in its shadow root (it adds styles there).
    withSafety(s.ctx.base, (make) => { void Promise.resolve().then(() => { if (!this.gone) this.safety = make(s, this.el, t) }) })
  }

  private grow (): void {
    this.input.style.height = 'auto'
    this.input.style.height = Math.min(this.input.scrollHeight, 120) + 'px'
  }

  private submit (): void {
    if (this.s.send(this.input.value)) return
    this.input.value = ''
    saveDraft(this.s.id, this.s.me, '')
    this.grow()
    this.paintCounter()
    this.input.focus()
  }

  private paintCounter (): void {
    const n = messageLength(this.input.value)
    this.counter.hidden = n < COUNTER_FROM
    this.counter.classList.toggle('over', n > MAX_MESSAGE_LENGTH)
    if (!this.counter.hidden) this.counter.textContent = fill(this.t.counter, { n, max: MAX_MESSAGE_LENGTH })
  }

  setActive (on: boolean): void {
    this.active = on
    if (on) { this.stick(); this.collectSeen(); this.maybeRead() }
  }

  private onIntersect (entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const seq = Number((e.target as HTMLElement).getAttribute('data-seq'))
      // Half of it on screen, or a screenful of a message taller than the list.
      const seen = e.isIntersecting && (e.intersectionRatio >= 0.5 || e.intersectionRect.height >= (e.rootBounds?.height ?? 0) / 2)
      if (seen) this.onScreen.add(seq)
      else this.onScreen.delete(seq)
    }
    this.collectSeen()
    this.maybeRead()
  }

  /** What is on screen counts as seen only while this view is active and the tab is visible. */
  private collectSeen (): void {
    if (!this.active || document.visibilityState !== 'visible') return
    for (const seq of this.onScreen) if (seq > this.seenTop) this.seenTop = seq
    if (!this.io) this.seenTop = Infinity // no observer (very old browser): the old rule, read when open
  }

  private maybeRead (): void {
    if (this.active && document.visibilityState === 'visible' && this.seenTop > 0) this.s.markRead(this.seenTop)
  }

  private nearBottom (): boolean {
    const l = this.list
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80
  }

  private stick (): void { this.list.scrollTop = this.list.scrollHeight }

  private update (kind: SessionEvent, data?: Message | Pending): void {
    switch (kind) {
      case 'state': this.paintStatus(); this.paintPresence(); this.paintEmpty(); return
      case 'presence': this.paintPresence(); return
      case 'typing': this.paintTyping(); return
      case 'error': this.paintError(); return
      case 'read': this.paintTicks(); return
      case 'loading': this.older.hidden = false; return
      case 'read-sent': return
    }
    if (kind === 'incoming' && data) {
      this.live.textContent = fill(this.t.newMessage, { who: this.opts.otherLabel, text: data.message_text.slice(0, 140) || this.t.photo })
    }
    if (kind === 'older') this.older.hidden = true
    if (LIST_EVENTS.includes(kind)) {
      const wasNear = this.nearBottom()
      this.renderList(kind)
      this.paintTicks()
      if (kind === 'incoming' && !wasNear && this.active) this.pill.hidden = false
    }
  }

  private paintPresence (): void {
    const state = this.s.sock.state
    const down = state !== 'open' && state !== 'idle'
    const on = !down && this.s.online.includes(this.s.other)
    this.dot.classList.toggle('on', on)
    this.sub.classList.toggle('down', down)
    // While our own connection is down we cannot know who is online: say so instead of a stale "online".
    const word = down ? (state === 'connecting' ? this.t.connecting : this.t.noConnection) : on ? this.t.online : this.t.offline
    this.presence.textContent = (this.opts.sub ? this.opts.sub + ' · ' : '') + word
  }

  private paintStatus (): void {
    const state = this.s.sock.state
    this.status.hidden = state === 'open'
    this.status.textContent = state === 'expired'
      ? errText(this.t, 'token_expired')
      : state === 'reconnecting' ? this.t.noConnection + ' · ' + this.t.reconnecting : this.t.connecting
    this.status.setAttribute('data-state', state)
  }

  private paintTyping (): void {
    this.typing.textContent = this.s.typing ? this.opts.otherLabel + ' ' + this.t.typing : ''
  }

  private paintError (): void {
    const code = this.s.error
    this.err.textContent = code ? errText(this.t, code) : ''
    this.err.hidden = !code
  }

  private paintEmpty (): void {
    const hidden = this.els.size > 0 || this.s.sock.state !== 'open'
    if (this.emptyNote.hidden !== hidden) this.emptyNote.hidden = hidden // even an unchanged write is a DOM mutation
  }

  /** Keyed: a node is created once per message (or day separator) and only moved (never rebuilt) afterwards. */
  private renderList (kind: SessionEvent | 'init'): void {
    const s = this.s
    const list = this.list
    const nearBottom = this.nearBottom()
    const oldHeight = list.scrollHeight
    const oldTop = list.scrollTop
    const items: Item[] = s.sorted().map((m) => ({ key: 's' + m.seq, m, kind: 'msg' as Kind }))
    for (const p of s.pending) items.push({ key: 'p' + p.client_message_id, m: p, kind: 'pending' })
    for (const f of s.failed) items.push({ key: 'f' + f.client_message_id, m: f, kind: 'failed' })
    const keep = new Set<string>()
    let cursor = this.emptyNote.nextSibling
    let day = ''
    const place = (key: string, make: () => HTMLElement): void => {
      keep.add(key)
      let el = this.els.get(key)
      if (!el) { el = make(); this.els.set(key, el) }
      if (el !== cursor) list.insertBefore(el, cursor)
      else cursor = cursor.nextSibling
    }
    for (const it of items) {
      const d = dayKey(it.m.created_at)
      if (d !== day) {
        day = d
        const iso = it.m.created_at
        place('d' + d, () => h('div', { class: 'day', text: dayLabel(this.t, iso) }))
      }
      place(it.key, () => this.makeMsg(it))
    }
    for (const [key, el] of this.els) {
      if (keep.has(key)) continue
      this.io?.unobserve(el)
      el.remove()
      this.els.delete(key)
    }
    this.paintEmpty()
    if (kind === 'older') list.scrollTop = oldTop + (list.scrollHeight - oldHeight) // keep the reader's place
    else if (nearBottom || kind === 'queued' || kind === 'init') this.stick()
  }

  private makeMsg (it: Item): HTMLElement {
    const t = this.t
    const mine = it.kind !== 'msg' || (it.m as Message).sender_id === this.s.me
    const el = h('div', { class: 'msg' + (mine ? ' mine' : '') + (it.kind !== 'msg' ? ' ' + it.kind : '') })
    if (it.kind !== 'msg') el.setAttribute('data-cid', it.m.client_message_id ?? '')
    else el.setAttribute('data-seq', String((it.m as Message).seq))
    // The sender, for screen readers: a bubble's side and colour say it only to the eye.
    // (Outside the dir="auto" paragraph: the label's language must not decide the message's direction.)
    el.appendChild(h('span', { class: 'sr', text: (mine ? t.you : this.opts.otherLabel) + ': ' }))
    const photos = (it.m as Message).attachments
    if (photos?.length) {
      const base = this.s.ctx.base
      const alt = mine ? t.yourPhoto : fill(t.photoFrom, { who: this.opts.otherLabel })
      el.appendChild(photoStrip(photos, this.photoSource, alt, (p, from) => { this.viewer.open(p, base, alt, from) }))
    }
    // A photo still on its way (pending/failed) has no URL yet: its bubble says "Photo" instead.
    const text = it.m.message_text || ((it.m as Pending).attachment_ids?.length ? '📷 ' + t.photo : '')
    if (text || !photos?.length) {
      const txt = h('p', { class: 'txt', dir: 'auto' })
      txt.appendChild(renderText(text)) // text nodes and checked links only: user text is never markup
      el.appendChild(txt)
    }
    const meta = h('span', { class: 'meta' }, [h('time', { datetime: it.m.created_at, text: fmtTime(t.lang, it.m.created_at, true) })])
    el.appendChild(meta)
    if (it.kind === 'failed') {
      meta.appendChild(h('span', { class: 'tick', 'data-tick': 'failed', text: t.failed }))
      meta.appendChild(h('span', { class: 'why', text: errText(t, (it.m as Failed).reason) }))
      meta.appendChild(h('button', { class: 'retry', type: 'button', text: t.retry }))
    } else if (mine) {
      const tick = h('span', { class: 'tick' })
      meta.appendChild(tick)
      this.paintTick(tick, it.kind === 'pending' ? null : (it.m as Message).seq)
    } else if ((it.m as Message).seq > this.s.myRead) {
      this.io?.observe(el)
    }
    return el
  }

  private paintTick (tick: HTMLElement, seq: number | null): void {
    const read = seq !== null && seq <= this.s.otherRead
    const state = seq === null ? 'pending' : read ? 'read' : 'sent'
    if (tick.getAttribute('data-tick') === state) return
    tick.textContent = seq === null ? this.t.pending : read ? '✓✓ ' + this.t.read : '✓'
    tick.setAttribute('title', seq === null ? this.t.pending : read ? this.t.read : this.t.sent)
    if (seq !== null && !read) tick.setAttribute('aria-label', this.t.sent)
    else tick.removeAttribute('aria-label')
    tick.setAttribute('data-tick', state)
  }

  /** Only the ticks between the last painted read pointer and the new one change. */
  private paintTicks (): void {
    const upTo = this.s.otherRead
    if (upTo <= this.paintedRead) return
    for (const [key, el] of this.els) {
      const seq = key[0] === 's' ? Number(key.slice(1)) : 0
      if (seq <= this.paintedRead || seq > upTo) continue
      const tick = el.querySelector<HTMLElement>('.tick')
      if (tick) this.paintTick(tick, seq)
    }
    this.paintedRead = upTo
  }

  destroy (): void {
    document.removeEventListener('visibilitychange', this.onVis)
    this.io?.disconnect()
    this.gone = true
    this.safety?.close()
    this.el.remove()
  }
}

// Owns the buyer's list of chats in the panel (static/chat-list.js, loaded when the launcher first opens it): each chat's
// listing, last message, time and unread count, newest first, and the "Notify me about replies" control under them.
import type { Ctx } from '../core/context.js'
import type { ChatSummary } from '../core/protocol.js'
import { fill, type Locale } from '../locales/index.js'
import { notifyStrings } from '../locales/notify.js'
import { fmtTime, h } from '../ui/dom.js'
import { PUSH_CSS, pushControl } from '../ui/push-control.js'

const LIST_CSS = '.mcl{list-style:none;margin:0;padding:0;flex:1;overflow-y:auto;min-height:0}' +
  '.row{display:grid;grid-template-columns:1fr auto;column-gap:8px;width:100%;text-align:start;border:0;border-bottom:1px solid #f0f2f5;background:transparent;font:inherit;color:inherit;padding:10px 14px;cursor:pointer}' +
  '.hd h2{margin:0;font-size:inherit}.row:hover{background:#f0f2f5}.row .lt{font-weight:600;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}' +
  '.row time{font-size:11px;color:#595c61}.row .prev{font-size:13px;color:#595c61;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}' +
  '.row.unread .prev{color:#1c1e21;font-weight:600}' +
  '.row .count{justify-self:end;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d0102f;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center}' +
  PUSH_CSS

export interface ListOptions {
  t: Locale
  ctx: Ctx
  /** The shadow root the list is shown in (its styles go there). */
  root: ShadowRoot
  /** The host page's service worker path (null: no notify control). */
  sw: string | null
  /** The title to show for a chat (the listing's, else what the page told the widget, else "Listing <id>"). */
  title: (c: ChatSummary) => string
  /** A chat's unread count as the widget knows it best (an open session may be ahead of the last summary). */
  unread: (c: ChatSummary) => number
  onOpen: (c: ChatSummary) => void
  onClose: () => void
}

export interface ChatList { el: HTMLElement, update: (chats: ChatSummary[]) => void }

declare global {
  interface Window { MarketChatList?: (o: ListOptions) => ChatList }
}

function addStyles (root: ShadowRoot): void {
  try {
    if (root.adoptedStyleSheets.some((x) => (x.cssRules[0] as CSSStyleRule | undefined)?.selectorText === '.mcl')) return
    const sheet = new CSSStyleSheet()
    sheet.replaceSync(LIST_CSS)
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet]
  } catch {
    root.appendChild(h('style', { text: LIST_CSS }))
  }
}

export function chatList (o: ListOptions): ChatList {
  const t = o.t
  const nt = notifyStrings(t.lang)
  addStyles(o.root)
  const ul = h('ul', { class: 'mcl', 'aria-label': t.chats })
  const close = h('button', { class: 'ib close', type: 'button', 'aria-label': t.close, text: '×' })
  close.addEventListener('click', o.onClose)
  const el = h('div', { class: 'conv', dir: t.dir, lang: t.lang }, [
    h('div', { class: 'hd' }, [h('div', { class: 'ttl' }, [h('h2', { class: 'name', text: t.chats })]), close]),
    ul, pushControl(o.ctx, o.sw, nt)
  ])
  let chats: ChatSummary[] = []
  ul.addEventListener('click', (e) => {
    const id = (e.target as Element).closest('.row')?.getAttribute('data-chat-id')
    const c = chats.find((x) => x.id === id)
    if (c) o.onOpen(c)
  })
  const update = (next: ChatSummary[]): void => {
    chats = next
    const focused = o.root.activeElement?.getAttribute('data-chat-id')
    ul.textContent = ''
    for (const c of chats) {
      const n = o.unread(c)
      const preview = c.last_message == null ? nt.noMessages : (c.last_message_sender_id === c.buyer_id ? t.you + ': ' : '') + c.last_message
      // textContent only (h's text): listing titles and messages are plain text, never markup.
      ul.appendChild(h('li', {}, [h('button', { class: 'row' + (n ? ' unread' : ''), type: 'button', 'data-chat-id': c.id }, [
        h('span', { class: 'lt', dir: 'auto', text: o.title(c) }),
        h('time', { datetime: c.last_message_time ?? '', text: fmtTime(t.lang, c.last_message_time) }),
        h('span', { class: 'prev', dir: 'auto', text: preview }),
        n ? h('span', { class: 'count', 'aria-hidden': 'true', text: n > 99 ? '99+' : String(n) }) : null,
        n ? h('span', { class: 'sr', text: ', ' + fill(t.unread, { n }) }) : null
      ])]))
    }
    if (focused) ul.querySelector<HTMLElement>('[data-chat-id="' + CSS.escape(focused) + '"]')?.focus()
  }
  return { el, update }
}

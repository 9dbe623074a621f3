// Owns the open chat's safety controls (#15): the header menu (Block/Unblock, Report with a reason) and the blocked
// state (a notice, the composer disabled), kept current from summaries: the action's answer, chat_updated, a refusal.
// Closures rather than a class: the buyer bundle has a gzip budget and minified property names cannot shrink.
import type { ChatError } from '../core/context.js'
import type { ChatSummary } from '../core/protocol.js'
import type { ChatSession } from '../core/session.js'
import { Socket } from '../core/socket.js'
import { enSafety } from '../locales/en.js'
import { errText, type Locale } from '../locales/index.js'
import { ruSafety } from '../locales/ru.js'
import { ukSafety } from '../locales/uk.js'
import { h } from './dom.js'

const CSS = '.sm{position:relative}.smenu{position:absolute;inset-inline-end:0;top:100%;z-index:3;background:#fff;border:1px solid #d5d8dc;border-radius:8px;padding:4px;display:flex;flex-direction:column}' +
  '.smenu button,.smenu select{border:0;background:none;font:inherit;padding:8px;text-align:start;cursor:pointer}.blk{padding:8px 12px;background:#f0f2f5;text-align:center;font-size:13px}'

/** The reasons the server takes, in the order of each locale's `reasons`. */
const REASONS = ['spam', 'scam', 'abuse', 'other']

export interface Safety {
  /** A newer summary of some chat (only this chat's is taken). */
  update: (c: ChatSummary) => void
  close: () => void
}

const TABLES: Record<string, typeof enSafety> = { ru: ruSafety, uk: ukSafety }

/** Adds this file's styles next to the view's own (its shadow root, or the page), without inline <style> (host CSPs). */
function addStyles (root: HTMLElement): void {
  const host = root.getRootNode() as ShadowRoot | Document
  try {
    // Once per shadow root (or page): the first rule tells this file's sheet apart.
    if (host.adoptedStyleSheets.some((x) => (x.cssRules[0] as CSSStyleRule | undefined)?.selectorText === '.sm')) return
    const sheet = new CSSStyleSheet()
    sheet.replaceSync(CSS)
    host.adoptedStyleSheets = [...host.adoptedStyleSheets, sheet]
  } catch {
    root.appendChild(h('style', { text: CSS }))
  }
}

export function safetyMenu (s: ChatSession, root: HTMLElement, locale: Locale): Safety {
  const t = TABLES[locale.lang] ?? enSafety
  addStyles(root)
  const api = s.ctx.api.bind(s.ctx)
  const path = '/chats/' + encodeURIComponent(s.id)
  const notice = h('div', { class: 'blk', role: 'status', hidden: true })
  const say = root.querySelector('[aria-live]') ?? notice
  const item = h('button', { type: 'button', role: 'menuitem' })
  const select = h('select', { 'aria-label': t.report, role: 'menuitem' }, [h('option', { value: '', text: t.report + '…' })])
  REASONS.forEach((r, i) => select.appendChild(h('option', { value: r, text: t.reasons[i] })))
  const menu = h('div', { class: 'smenu', role: 'menu', hidden: true }, [item, select])
  const btn = h('button', { class: 'ib', type: 'button', 'aria-label': t.chatOptions, 'aria-haspopup': 'menu', 'aria-expanded': 'false', text: '⋮' })
  const show = (on: boolean): void => { menu.hidden = !on; btn.setAttribute('aria-expanded', String(on)) }
  const fail = (e: ChatError): void => { say.textContent = errText(locale, e.code) }

  let painted = ''
  const update = (c: ChatSummary): void => {
    const mine = c.blocked_by_me
    // Most chat_updated frames are a message or a read: nothing to repaint here.
    if (c.id !== s.id || (painted === String(mine) + c.blocked_by_other)) return
    painted = String(mine) + c.blocked_by_other
    s.chat = Object.assign({}, s.chat, { blocked_by_me: mine, blocked_by_other: c.blocked_by_other })
    item.textContent = mine ? t.unblock : t.block
    notice.hidden = !mine && !c.blocked_by_other
    notice.replaceChildren(mine ? t.youBlocked + ' ' : t.cannotReply)
    if (mine) notice.appendChild(h('button', { type: 'button', text: t.unblock })).addEventListener('click', toggle)
    for (const el of root.querySelectorAll<HTMLButtonElement>('.compose textarea,.compose .send')) el.disabled = !notice.hidden
  }
  const refresh = (): void => { api<ChatSummary>('GET', path).then(update).catch(() => {}) }
  function toggle (): void {
    show(false)
    const on = !s.chat.blocked_by_me
    api<ChatSummary | null>(on ? 'POST' : 'DELETE', path + '/block')
      .then((c) => { update(c ?? Object.assign({}, s.chat, { blocked_by_me: false })) }, fail)
  }

  btn.addEventListener('click', () => { show(menu.hidden) })
  item.addEventListener('click', toggle)
  select.addEventListener('change', () => {
    const reason = select.value
    select.value = ''
    show(false)
    if (reason) api('POST', path + '/report', { reason }).then(() => { say.textContent = t.reported }, fail)
  })
  menu.addEventListener('keydown', (e) => { if (e.key === 'Escape') { show(false); btn.focus() } })
  root.querySelector('.ttl')?.after(h('div', { class: 'sm' }, [btn, menu]))
  root.querySelector('.compose')?.before(notice)
  // Refused because of a block not known yet: the summary says which side blocked.
  s.on((kind) => { if (kind === 'error' && s.error === 'blocked') refresh() })
  // The buyer widget has no inbox stream of its own: this one carries chat_updated (a seller's inbox forwards its own).
  const sock = s.chat.role === 'buyer'
    ? new Socket(s.ctx, () => s.ctx.wsUrl('inbox'), { frame: (f) => { if (f.type === 'chat_updated') update(f.chat) }, open: () => { sock?.ready(); refresh() } })
    : null
  sock?.start()
  update(s.chat)
  return { update, close: () => { sock?.stop() } }
}

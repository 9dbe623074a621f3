// Owns photos in the conversation view: the attach button, file picker, paste and drop, uploads (a local preview,
// progress, Cancel, failure with Retry), thumbnails in bubbles and the full-size viewer dialog. Built with DOM APIs
// only; URLs come from the service.
import type { Message } from '../core/protocol.js'
import type { ChatSession } from '../core/session.js'
import { errText, fill, type Locale } from '../locales/index.js'
import { attachIcon, h } from './dom.js'

/** The service decodes these (by their bytes); the picker offers only them. */
const ACCEPT = 'image/jpeg,image/png,image/webp,image/gif'
/** Thumbnails are at most this many CSS pixels on the long side (the service makes them 320 px). */
const THUMB = 200

export const PHOTO_CSS = [
  '.attach{order:-1}',
  '.ups{flex-basis:100%;order:4;display:flex;flex-direction:column;gap:4px;font-size:12px}',
  '.up{display:flex;gap:8px;align-items:center;color:#595c61}.up.bad{color:#b3261e}.up .lbl{flex:1;overflow-wrap:anywhere}',
  '.up .prev{width:40px;height:40px;object-fit:cover;border-radius:6px;background:#eceef1}',
  '.conv.dropping{outline:2px dashed var(--chat-accent,#0a66c2);outline-offset:-6px}',
  '.pics{display:flex;flex-wrap:wrap;gap:4px;margin:2px 0}',
  '.pic{border:0;padding:0;background:transparent;cursor:zoom-in;border-radius:8px;line-height:0}',
  '.pic img{max-width:100%;height:auto;border-radius:8px;background:#eceef1}',
  '.viewer{border:0;padding:0;background:transparent;max-width:96vw;max-height:96vh}',
  '.viewer::backdrop{background:rgba(0,0,0,.8)}',
  '.viewer img{display:block;max-width:96vw;max-height:90vh;width:auto;height:auto}',
  '.viewer .ib{position:absolute;top:4px;inset-inline-end:4px;background:#fff;color:#1c1e21}'
].join('\n')

/** The service's attachment record as messages carry it (url/thumb_url are paths on the service). */
type Photo = NonNullable<Message['attachments']>[number]

/** Where a photo comes from: the service, and the token that may read it. */
export interface PhotoSource { base: string, token: () => string | null }

/**
 * A signed URL expires (ATTACHMENT_URL_TTL_SECONDS) while a chat can stay open for hours: a photo that no longer loads
 * is fetched once more with the widget's token, which the service also accepts, and shown from that copy.
 */
function healExpired (img: HTMLImageElement, pathNow: () => string, src: PhotoSource): void {
  img.addEventListener('error', () => {
    const token = src.token()
    const path = pathNow()
    if (!token || !path || img.dataset.healed === path) return
    img.dataset.healed = path
    fetch(src.base + path.split('?')[0], { headers: { Authorization: 'Bearer ' + token } })
      .then(async (r) => { if (!r.ok) throw new Error(String(r.status)); return await r.blob() })
      .then((blob) => { img.src = URL.createObjectURL(blob) }, () => {})
  })
  // The decoded picture stays once shown; the copy in memory can go.
  img.addEventListener('load', () => { if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src) })
}

/** Thumbnail buttons for a message's photos; a click (or Enter/Space) opens the full-size viewer. */
export function photoStrip (photos: Photo[], src: PhotoSource, alt: string, open: (p: Photo, from: HTMLElement) => void): HTMLElement {
  const strip = h('div', { class: 'pics' })
  for (const p of photos) {
    const scale = Math.min(1, THUMB / Math.max(p.width, p.height, 1))
    const img = h('img', {
      src: src.base + p.thumb_url, alt, loading: 'lazy', decoding: 'async',
      width: String(Math.max(1, Math.round(p.width * scale))), height: String(Math.max(1, Math.round(p.height * scale)))
    })
    healExpired(img, () => p.thumb_url, src)
    const b = h('button', { class: 'pic', type: 'button' }, [img])
    b.addEventListener('click', () => { open(p, b) })
    strip.appendChild(b)
  }
  return strip
}

/** The full-size viewer: a modal <dialog> (Escape closes it, focus stays inside), focus back on the thumbnail after. */
export class PhotoViewer {
  readonly el: HTMLDialogElement
  private readonly img: HTMLImageElement
  private from: HTMLElement | null = null
  private shown = ''

  constructor (t: Locale, src: PhotoSource) {
    this.img = h('img', { alt: '' })
    healExpired(this.img, () => this.shown, src)
    const close = h('button', { class: 'ib', type: 'button', 'aria-label': t.closePhoto, text: '×' })
    this.el = h('dialog', { class: 'viewer', 'aria-label': t.photo }, [this.img, close])
    close.addEventListener('click', () => { this.el.close() })
    this.el.addEventListener('click', (e) => { if (e.target === this.el) this.el.close() }) // the backdrop
    // Escape closes only the viewer (the dialog's own default action), not the panel or conversation around it.
    this.el.addEventListener('keydown', (e) => { if (e.key === 'Escape') e.stopPropagation() })
    this.el.addEventListener('close', () => {
      this.img.removeAttribute('src')
      this.from?.focus()
      this.from = null
    })
  }

  open (p: Photo, base: string, alt: string, from: HTMLElement): void {
    this.from = from
    this.shown = p.url
    delete this.img.dataset.healed
    this.img.src = base + p.url
    this.img.alt = alt
    this.img.width = p.width
    this.img.height = p.height
    this.el.showModal()
  }
}

interface Upload { file: Blob, row: HTMLElement, xhr: XMLHttpRequest | null, preview: string }

const images = (files: FileList | null | undefined): File[] => Array.from(files ?? []).filter((f) => f.type.startsWith('image/'))

/**
 * The attach button, the hidden file input and paste on the text box. Each photo is uploaded on its own and then
 * sent as a message of its own (attachment_ids). Photos are never queued offline: without a connection it says so.
 */
export class PhotoComposer {
  readonly button: HTMLButtonElement
  readonly input: HTMLInputElement
  readonly tray = h('div', { class: 'ups', 'aria-live': 'polite' })

  constructor (private readonly s: ChatSession, private readonly t: Locale, text: HTMLTextAreaElement) {
    this.input = h('input', { type: 'file', accept: ACCEPT, multiple: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true' })
    this.button = h('button', { class: 'ib attach', type: 'button', 'aria-label': t.attach, title: t.attach }, [attachIcon()])
    this.button.addEventListener('click', () => { this.input.click() })
    this.input.addEventListener('change', () => {
      for (const f of Array.from(this.input.files ?? [])) this.add(f)
      this.input.value = '' // the same file may be picked again
    })
    text.addEventListener('paste', (e) => {
      const files = images(e.clipboardData?.files)
      if (!files.length) return
      e.preventDefault()
      for (const f of files) this.add(f)
    })
  }

  /** Photos dropped anywhere on `area` (a desktop habit) are sent as if picked. */
  acceptDrops (area: HTMLElement): void {
    const hasFiles = (e: DragEvent): boolean => Array.from(e.dataTransfer?.types ?? []).includes('Files')
    area.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return
      e.preventDefault() // allows the drop
      area.classList.add('dropping')
    })
    area.addEventListener('dragleave', (e) => { if (e.target === area) area.classList.remove('dropping') })
    area.addEventListener('drop', (e) => {
      area.classList.remove('dropping')
      if (!hasFiles(e)) return
      e.preventDefault() // the browser would otherwise open the file in place of the page
      for (const f of images(e.dataTransfer?.files)) this.add(f)
    })
  }

  private add (file: Blob): void {
    const row = h('div', { class: 'up' })
    this.tray.appendChild(row)
    this.start({ file, row, xhr: null, preview: URL.createObjectURL(file) })
  }

  private done (u: Upload): void {
    u.xhr?.abort()
    u.xhr = null
    URL.revokeObjectURL(u.preview)
    u.row.remove()
  }

  private start (u: Upload): void {
    if (this.s.sock.state !== 'open' || navigator.onLine === false) { this.fail(u, this.t.photoNeedsConnection); return }
    this.paint(u, fill(this.t.uploading, { n: 0 }))
    const xhr = u.xhr = new XMLHttpRequest()
    xhr.open('POST', this.s.ctx.base + '/api/chat/chats/' + encodeURIComponent(this.s.id) + '/attachments')
    if (this.s.ctx.token) xhr.setRequestHeader('Authorization', 'Bearer ' + this.s.ctx.token)
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) this.paint(u, fill(this.t.uploading, { n: Math.floor(e.loaded / e.total * 100) }))
    })
    xhr.addEventListener('load', () => {
      const body = parseBody(xhr.responseText)
      if (xhr.status === 201 && body?.id) {
        u.xhr = null
        this.done(u)
        this.s.send('', [body.id])
        return
      }
      if (xhr.status === 401) this.s.ctx.expired()
      this.fail(u, errText(this.t, body?.error?.code ?? 'generic'))
    })
    xhr.addEventListener('error', () => { if (u.xhr === xhr) this.fail(u, this.t.photoNeedsConnection) })
    const form = new FormData()
    form.append('file', u.file)
    xhr.send(form)
  }

  /** The row while uploading: built once, so a keyboard user's focus on Cancel survives the progress updates. */
  private paint (u: Upload, text: string): void {
    const label = u.row.className === 'up' ? u.row.querySelector('.lbl') : null
    if (label) { label.textContent = text; return }
    u.row.className = 'up'
    const cancel = h('button', { class: 'retry', type: 'button', text: this.t.cancel })
    cancel.addEventListener('click', () => { this.done(u) })
    u.row.replaceChildren(this.preview(u), h('span', { class: 'lbl', text }), cancel)
  }

  // Decorative: the label beside it says what it is.
  private preview (u: Upload): HTMLElement { return h('img', { class: 'prev', src: u.preview, alt: '' }) }

  private fail (u: Upload, why: string): void {
    u.xhr = null
    const retry = h('button', { class: 'retry', type: 'button', text: this.t.retry })
    const drop = h('button', { class: 'retry', type: 'button', text: this.t.remove })
    retry.addEventListener('click', () => { this.start(u) })
    drop.addEventListener('click', () => { this.done(u) })
    u.row.className = 'up bad'
    u.row.replaceChildren(this.preview(u), h('span', { class: 'lbl', role: 'alert', text: this.t.uploadFailed + ': ' + why }), retry, drop)
  }
}

function parseBody (text: string): { id?: string, error?: { code?: string } } | null {
  try { return JSON.parse(text) as { id?: string, error?: { code?: string } } } catch { return null }
}

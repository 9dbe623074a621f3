// Owns turning a message's plain text into DOM nodes: text nodes and safe links, never markup.
import { find } from 'linkifyjs'

/** Only these schemes become links: a `javascript:` or `data:` text stays text. */
const SAFE_SCHEMES = /^(https?:|mailto:)/i

/** Text nodes and <a> elements built with textContent: what the person typed is never parsed as HTML. */
export function renderText (text: string): DocumentFragment {
  const out = document.createDocumentFragment()
  let at = 0
  for (const link of find(text)) {
    if (!link.isLink || !SAFE_SCHEMES.test(link.href)) continue
    if (link.start > at) out.appendChild(document.createTextNode(text.slice(at, link.start)))
    const a = document.createElement('a')
    a.href = link.href
    a.target = '_blank'
    a.rel = 'noopener noreferrer nofollow ugc' // a stranger's link: no opener, no referrer, no ranking credit
    a.textContent = link.value
    out.appendChild(a)
    at = link.end
  }
  if (at < text.length) out.appendChild(document.createTextNode(text.slice(at)))
  return out
}

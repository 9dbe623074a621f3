// Entry of static/seller-chats.js: the seller inbox in one request (its own copy of the core, no second script).
import { installEmbedApi } from '../core/context.js'
import { whenReady } from '../ui/dom.js'
import { SellerChatsManager, type InboxOptions } from './inbox.js'

declare global {
  interface Window {
    SellerChatsManager?: new (opts: InboxOptions) => SellerChatsManager
    sellerChats?: SellerChatsManager
  }
}

const script = document.currentScript as HTMLScriptElement | null

installEmbedApi()
window.SellerChatsManager = class extends SellerChatsManager {
  constructor (opts: InboxOptions) { super(opts, script) }
}

whenReady(() => {
  const page = document.getElementById('profilePage')
  const cfg = window.ChatConfig ?? {}
  if (!page || !cfg.token || window.sellerChats) return
  window.sellerChats = new SellerChatsManager({
    container: page.querySelector<HTMLElement>('[data-seller-chats]') ?? page,
    token: cfg.token,
    getToken: cfg.getToken,
    getListingTitle: cfg.getListingTitle,
    pageSize: cfg.inboxPageSize
  }, script)
})

// Entry of static/chat.js: the one-tag embed. Starts the buyer widget and publishes window.chatManager and MarketChat.
import { installEmbedApi } from '../core/context.js'
import { whenReady } from '../ui/dom.js'
import { BuyerWidget } from './widget.js'

export interface ChatManager {
  openChat: (sellerId: string, listingId: string, opts?: { listingTitle?: string }) => Promise<void>
  close: () => void
  setToken: (token: string) => void
  /** The user signed in: claim the stored guest chats once and continue as the user. */
  setUser: (token: string) => Promise<void>
  /** The user signed out: forget the token and everything stored in localStorage. */
  logout: () => void
}

declare global {
  interface Window { chatManager?: ChatManager }
}

// Read while the tag runs: document.currentScript is null once the script has finished.
const script = document.currentScript as HTMLScriptElement | null

installEmbedApi()
whenReady(() => {
  if (window.chatManager) return // the tag twice on one page
  const w = new BuyerWidget(script)
  window.chatManager = {
    openChat: async (sellerId, listingId, opts) => { await w.openChat(sellerId, listingId, opts) },
    close: () => { w.close() },
    setToken: (token) => { w.setToken(token) },
    setUser: async (token) => { await w.setUser(token) },
    logout: () => { w.logout() }
  }
})

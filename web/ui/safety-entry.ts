// Owns static/chat-safety.js: the safety menu as its own file, loaded when a conversation opens (the buyer embed's size budget).
import { safetyMenu } from './safety-menu.js'

window.MarketChatSafety = safetyMenu

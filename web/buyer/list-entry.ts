// Owns static/chat-list.js: the buyer's list of chats and the notify control as their own file, loaded when the
// launcher first opens the list (the buyer embed's size budget).
import { chatList } from './chat-list.js'

window.MarketChatList = chatList

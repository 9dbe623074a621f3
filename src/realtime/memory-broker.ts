// Owns in-process fan-out: the default broker when one instance serves everyone.
import type { Broker, ChatEvent, ControlMessage, PresenceEvent, UserEvent } from './broker.js'
import { ChannelHub } from './channel-hub.js'

export function createMemoryBroker (): Broker {
  const chats = new ChannelHub<ChatEvent>()
  const users = new ChannelHub<UserEvent>()
  const presence = new ChannelHub<PresenceEvent>()
  const control = new ChannelHub<ControlMessage>()
  return {
    async publishChat (chatId, event) { chats.deliver(chatId, event) },
    async subscribeChat (chatId, handler) {
      chats.add(chatId, handler)
      return async () => { chats.remove(chatId, handler) }
    },
    async publishUser (userKey, event) { users.deliver(userKey, event) },
    mayHaveUserListeners: (userKey) => users.has(userKey),
    async subscribeUser (userKey, handler) {
      users.add(userKey, handler)
      return async () => { users.remove(userKey, handler) }
    },
    async publishPresence (event) { presence.deliver(event.user_key, event) },
    async subscribePresence (userKey, handler) {
      presence.add(userKey, handler)
      return async () => { presence.remove(userKey, handler) }
    },
    async publishControl (message) { control.deliver('', message) },
    async subscribeControl (handler) {
      control.add('', handler)
      return async () => { control.remove('', handler) }
    },
    async close () {}
  }
}

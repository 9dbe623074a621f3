// Lists every migration by name; the Migrator applies them in name order, so names start with a sequence number.
import type { Migration } from 'kysely/migration'
import * as chatsAndMessages from './0001-chats-and-messages.js'

export const migrations: Record<string, Migration> = {
  '0001-chats-and-messages': chatsAndMessages
}

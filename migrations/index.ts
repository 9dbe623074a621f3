// Lists every migration by name; the Migrator applies them in name order, so names start with a sequence number.
import type { Migration } from 'kysely/migration'
import * as chatsAndMessages from './0001-chats-and-messages.js'
import * as chatKeyIncludesBuyerKind from './0002-chat-key-includes-buyer-kind.js'
import * as sellerListingActivityIndex from './0003-seller-listing-activity-index.js'
import * as claimsNamesListingDetails from './0004-claims-names-listing-details.js'
import * as safety from './0005-safety.js'
import * as notifications from './0006-notifications.js'
import * as attachments from './0007-attachments.js'
import * as sameTextOutOfDatabase from './0008-same-text-out-of-database.js'
import * as sellerInboxCounts from './0009-seller-inbox-counts.js'

export const migrations: Record<string, Migration> = {
  '0001-chats-and-messages': chatsAndMessages,
  '0002-chat-key-includes-buyer-kind': chatKeyIncludesBuyerKind,
  '0003-seller-listing-activity-index': sellerListingActivityIndex,
  '0004-claims-names-listing-details': claimsNamesListingDetails,
  '0005-safety': safety,
  '0006-notifications': notifications,
  '0007-attachments': attachments,
  '0008-same-text-out-of-database': sameTextOutOfDatabase,
  '0009-seller-inbox-counts': sellerInboxCounts
}

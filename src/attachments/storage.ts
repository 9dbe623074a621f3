// Owns the one small interface photo bytes are stored behind, and choosing its implementation from the settings.
import type { AttachmentsConfig } from '../config.js'
import type { Db } from '../chat/chat-repository.js'
import { DatabaseStorage } from './database-storage.js'

/** Objects by key (`<attachment id>` and `<attachment id>/thumb`); every implementation is shared by all instances. */
export interface AttachmentStorage {
  put: (key: string, data: Buffer, contentType: string) => Promise<void>
  /** null when the object is gone (swept, or never stored). */
  get: (key: string) => Promise<Buffer | null>
  delete: (keys: readonly string[]) => Promise<void>
  close: () => Promise<void>
}

export async function createStorage (config: AttachmentsConfig, db: Db): Promise<AttachmentStorage> {
  // The AWS SDK is imported only when S3 is chosen: the default start never pays for it.
  if (config.storage === 's3' && config.s3 !== null) return new (await import('./s3-storage.js')).S3Storage(config.s3)
  return new DatabaseStorage(db)
}

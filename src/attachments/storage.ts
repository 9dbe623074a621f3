// Owns the one small interface photo bytes are stored behind, and choosing its implementation from the settings.
import type { AttachmentsConfig } from '../config.js'
import type { Db } from '../chat/chat-repository.js'
import { DatabaseStorage } from './database-storage.js'
import { S3Storage } from './s3-storage.js'

/** Objects by key (`<attachment id>` and `<attachment id>/thumb`); every implementation is shared by all instances. */
export interface AttachmentStorage {
  put: (key: string, data: Buffer, contentType: string) => Promise<void>
  /** null when the object is gone (swept, or never stored). */
  get: (key: string) => Promise<Buffer | null>
  delete: (keys: readonly string[]) => Promise<void>
  close: () => Promise<void>
}

export function createStorage (config: AttachmentsConfig, db: Db): AttachmentStorage {
  if (config.storage === 's3' && config.s3 !== null) return new S3Storage(config.s3)
  return new DatabaseStorage(db)
}

// Owns storing photo bytes in an S3-compatible bucket (AWS S3, MinIO, R2, ...) through @aws-sdk/client-s3.
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { S3Config } from '../config.js'
import type { AttachmentStorage } from './storage.js'

const PREFIX = 'attachments/'

export class S3Storage implements AttachmentStorage {
  private readonly client: S3Client
  private readonly bucket: string

  constructor (config: S3Config) {
    this.bucket = config.bucket
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint === null ? {} : { endpoint: config.endpoint }),
      forcePathStyle: config.forcePathStyle,
      ...(config.accessKeyId !== null && config.secretAccessKey !== null
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
      // Many S3-compatible servers do not understand the SDK's default streaming checksums; S3 itself does not require them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED'
    })
  }

  async put (key: string, data: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: PREFIX + key, Body: data, ContentType: contentType }))
  }

  async get (key: string): Promise<Buffer | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: PREFIX + key }))
      if (result.Body === undefined) return null
      return Buffer.from(await result.Body.transformToByteArray())
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null
      throw error
    }
  }

  // One request per key: DeleteObjects needs a Content-MD5 that not every S3-compatible server checks the same way.
  async delete (keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map(async (key) => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: PREFIX + key }))
    }))
  }

  async close (): Promise<void> {
    this.client.destroy()
  }
}

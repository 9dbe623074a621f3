// Owns `npm run notifications -- list|retry [id...]`: lists dead-lettered deliveries, or puts them back in the outbox.
import { parseConfig } from '../config.js'
import { openDatabase } from '../db/database.js'
import { migrateToLatest } from '../db/migrate.js'
import { listDeadLetters, redriveDeadLetters } from './outbox-repository.js'

const [command, ...ids] = process.argv.slice(2)
if (command !== 'list' && command !== 'retry') {
  process.stderr.write('usage: npm run notifications -- list | retry [dead-letter id ...]\n')
  process.exit(2)
}
const parsed = parseConfig(process.env)
if (!parsed.ok) {
  for (const line of parsed.errors) process.stderr.write(`config error: ${line}\n`)
  process.exit(1)
}
const database = await openDatabase(parsed.config.database)
try {
  // The tables may not exist yet on a fresh database (as at start, under the Migrator's lock).
  await migrateToLatest(database.db, null)
  if (command === 'list') {
    for (const row of await listDeadLetters(database.db, 1000)) {
      process.stdout.write(`${row.id}\t${row.channel}\t${row.event_type}\t${row.event_id}\t${new Date(row.failed_at).toISOString()}\t${row.last_error ?? ''}\n`)
    }
  } else {
    const requeued = await redriveDeadLetters(database.db, ids.length === 0 ? null : ids)
    process.stdout.write(`requeued ${requeued} dead letter(s); running instances deliver them on their next pass\n`)
  }
} finally {
  await database.close()
}

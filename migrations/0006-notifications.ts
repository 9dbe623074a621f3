// Adds notification state: pending unread per (chat, recipient), the delivery outbox, its dead letters, and Web Push subscriptions.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // One row per chat and kind ('buyer'/'seller': that side has unread since due_at - delay; 'chat_created': the
  // first message). Written by the send statement itself, so a committed message always has its row.
  await sql`create table notify_pending (
    chat_id uuid not null references chats(id) on delete cascade,
    kind text not null check (kind in ('buyer', 'seller', 'chat_created')),
    due_at timestamptz not null,
    primary key (chat_id, kind)
  )`.execute(db)
  await sql`create index notify_pending_due_idx on notify_pending (due_at)`.execute(db)

  // Deliveries still to make: the exact body signed on every attempt, so a retry carries the same webhook-id and bytes.
  await sql`create table notify_outbox (
    id bigint generated always as identity primary key,
    channel text not null check (channel in ('webhook', 'push')),
    event_id text not null,
    event_type text not null,
    body text not null,
    subscription_id uuid,
    attempts integer not null default 0,
    created_at timestamptz not null default now(),
    next_attempt_at timestamptz not null default now(),
    last_error text
  )`.execute(db)
  await sql`create index notify_outbox_next_attempt_idx on notify_outbox (next_attempt_at)`.execute(db)

  await sql`create table notify_dead_letters (
    id bigint primary key,
    channel text not null,
    event_id text not null,
    event_type text not null,
    body text not null,
    subscription_id uuid,
    attempts integer not null,
    created_at timestamptz not null,
    failed_at timestamptz not null default now(),
    last_error text
  )`.execute(db)

  await sql`create table push_subscriptions (
    id uuid primary key,
    identity_key text not null,
    endpoint text not null,
    p256dh text not null,
    auth text not null,
    created_at timestamptz not null default now(),
    unique (identity_key, endpoint)
  )`.execute(db)
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await sql`drop table push_subscriptions`.execute(db)
  await sql`drop table notify_dead_letters`.execute(db)
  await sql`drop table notify_outbox`.execute(db)
  await sql`drop table notify_pending`.execute(db)
}

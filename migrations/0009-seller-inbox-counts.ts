// Adds the seller inbox's totals (chats and listings shown), kept by a trigger on chats, so a page never counts them.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // Per listing: how many of the seller's chats about it the inbox shows (shown), and shows when blocked chats are
  // included (shown_with_blocked). A row that falls to zero stays: deleting it would only be re-inserted later.
  await sql`create table seller_listing_counts (
    seller_id text not null,
    listing_id text not null,
    shown integer not null,
    shown_with_blocked integer not null,
    primary key (seller_id, listing_id)
  )`.execute(db)
  // Per seller: the same summed, and how many listings have a count above zero (the inbox's groups).
  await sql`create table seller_inbox_counts (
    seller_id text primary key,
    chats integer not null,
    listings integer not null,
    chats_with_blocked integer not null,
    listings_with_blocked integer not null
  )`.execute(db)

  // Adds one chat's change to its listing's counts, then to its seller's: always in that order, so two writers of the
  // same seller queue on the same rows in the same order. Unqualified names resolve through the connection's
  // search_path when the trigger runs, as every statement of the service does.
  await sql`create function seller_inbox_counts_add (p_seller text, p_listing text, p_shown integer, p_all integer)
    returns void language plpgsql as $$
    declare
      l_shown integer;
      l_all integer;
    begin
      if p_shown = 0 and p_all = 0 then
        return;
      end if;
      insert into seller_listing_counts as s (seller_id, listing_id, shown, shown_with_blocked)
        values (p_seller, p_listing, p_shown, p_all)
        on conflict (seller_id, listing_id) do update
          set shown = s.shown + excluded.shown, shown_with_blocked = s.shown_with_blocked + excluded.shown_with_blocked
        returning s.shown, s.shown_with_blocked into l_shown, l_all;
      -- a listing is a group while its count is above zero: the seller's listings move when it crosses zero
      insert into seller_inbox_counts as t (seller_id, chats, listings, chats_with_blocked, listings_with_blocked)
        values (p_seller, p_shown, (l_shown > 0)::integer - (l_shown - p_shown > 0)::integer,
          p_all, (l_all > 0)::integer - (l_all - p_all > 0)::integer)
        on conflict (seller_id) do update
          set chats = t.chats + excluded.chats, listings = t.listings + excluded.listings,
            chats_with_blocked = t.chats_with_blocked + excluded.chats_with_blocked,
            listings_with_blocked = t.listings_with_blocked + excluded.listings_with_blocked;
    end $$`.execute(db)

  // What the seller's inbox shows (see sellerSees in chat-repository.ts): a chat with a message the seller has not
  // hidden; shown only if not blocked either.
  await sql`create function chats_seller_inbox_counts () returns trigger language plpgsql as $$
    declare
      old_all integer := 0;
      old_shown integer := 0;
      new_all integer := 0;
      new_shown integer := 0;
    begin
      if tg_op <> 'INSERT' and not old.seller_hidden and old.last_seq > 0 then
        old_all := 1;
        old_shown := (not old.blocked_by_seller)::integer;
      end if;
      if tg_op <> 'DELETE' and not new.seller_hidden and new.last_seq > 0 then
        new_all := 1;
        new_shown := (not new.blocked_by_seller)::integer;
      end if;
      if tg_op = 'UPDATE' and old.seller_id = new.seller_id and old.listing_id = new.listing_id then
        perform seller_inbox_counts_add(new.seller_id, new.listing_id, new_shown - old_shown, new_all - old_all);
      else
        if tg_op <> 'INSERT' then
          perform seller_inbox_counts_add(old.seller_id, old.listing_id, -old_shown, -old_all);
        end if;
        if tg_op <> 'DELETE' then
          perform seller_inbox_counts_add(new.seller_id, new.listing_id, new_shown, new_all);
        end if;
      end if;
      return null;
    end $$`.execute(db)

  // Fires only when what the inbox counts changes: a send to a chat already shown (nearly every write) skips the
  // function entirely, so the send path pays for the WHEN test alone.
  await sql`create trigger chats_seller_inbox_counts_update after update on chats for each row
    when (old.seller_id is distinct from new.seller_id or old.listing_id is distinct from new.listing_id
      or old.seller_hidden is distinct from new.seller_hidden or (old.last_seq > 0) is distinct from (new.last_seq > 0)
      or old.blocked_by_seller is distinct from new.blocked_by_seller)
    execute function chats_seller_inbox_counts()`.execute(db)
  await sql`create trigger chats_seller_inbox_counts_insert after insert on chats for each row
    when (not new.seller_hidden and new.last_seq > 0)
    execute function chats_seller_inbox_counts()`.execute(db)
  await sql`create trigger chats_seller_inbox_counts_delete after delete on chats for each row
    when (not old.seller_hidden and old.last_seq > 0)
    execute function chats_seller_inbox_counts()`.execute(db)

  // The counts of the chats already there. The triggers exist from here on, and creating them locked chats against
  // writes until this transaction commits, so no write falls between the two.
  await sql`insert into seller_listing_counts (seller_id, listing_id, shown, shown_with_blocked)
    select seller_id, listing_id, count(*) filter (where not blocked_by_seller), count(*)
    from chats where not seller_hidden and last_seq > 0
    group by seller_id, listing_id`.execute(db)
  await sql`insert into seller_inbox_counts (seller_id, chats, listings, chats_with_blocked, listings_with_blocked)
    select seller_id, sum(shown), count(*) filter (where shown > 0), sum(shown_with_blocked), count(*)
    from seller_listing_counts group by seller_id`.execute(db)
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger chats_seller_inbox_counts_update on chats`.execute(db)
  await sql`drop trigger chats_seller_inbox_counts_insert on chats`.execute(db)
  await sql`drop trigger chats_seller_inbox_counts_delete on chats`.execute(db)
  await sql`drop function chats_seller_inbox_counts()`.execute(db)
  await sql`drop function seller_inbox_counts_add(text, text, integer, integer)`.execute(db)
  await db.schema.dropTable('seller_inbox_counts').execute()
  await db.schema.dropTable('seller_listing_counts').execute()
}

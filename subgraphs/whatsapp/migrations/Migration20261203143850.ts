import { Migration } from '@mikro-orm/migrations';

/** Template messages sent once per dedupeKey (factory owners' notices). */
export class Migration20261203143850 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "template_messages" ("dedupe_key" varchar(200) not null, "to" varchar(20) not null, "template" varchar(512) not null, "parameters" jsonb not null, "message_id" varchar(200) null, "claimed_until" timestamptz null, "sent_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "template_messages_pkey" primary key ("dedupe_key"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "template_messages" cascade;`);
  }
}

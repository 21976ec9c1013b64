import { Migration } from '@mikro-orm/migrations';

/** The outbox that carries factory owners' notices to WhatsApp (lib/outbox.ts). */
export class Migration20261203144242 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "claimed_until" timestamptz null, "delivered_at" timestamptz null, "dead_at" timestamptz null, "last_status" int null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "outbox_dead_index" on "outbox" ("dead_at") where "dead_at" is not null;`);
    this.addSql(
      `create index "outbox_due_index" on "outbox" ("service", "next_attempt_at") where "delivered_at" is null and "dead_at" is null;`,
    );
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox" cascade;`);
  }
}

import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124306 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "factories" ("id" uuid not null, "owner_id" uuid not null, "name" varchar(200) not null, "city" varchar(120) not null, "description" text null, "created_at" timestamptz not null default now(), constraint "factories_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "factories_owner_id_index" on "factories" ("owner_id");`);

    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "delivered_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "factories" cascade;`);

    this.addSql(`drop table if exists "outbox" cascade;`);
  }
}

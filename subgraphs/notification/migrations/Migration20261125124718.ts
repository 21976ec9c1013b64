import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124718 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "notifications" ("id" uuid not null, "dedupe_key" varchar(200) not null, "user_id" uuid not null, "type" varchar(40) not null, "title" varchar(200) not null, "body" text not null, "data" jsonb null, "read_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "notifications_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "notifications" add constraint "notifications_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "notifications_user_id_id_index" on "notifications" ("user_id", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "notifications" cascade;`);
  }
}

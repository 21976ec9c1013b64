import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124308 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "addresses" ("id" uuid not null, "user_id" uuid not null, "label" varchar(60) null, "recipient_name" varchar(120) not null, "phone" varchar(20) not null, "line1" varchar(200) not null, "line2" varchar(200) null, "city" varchar(120) not null, "province" varchar(120) not null, "postal_code" varchar(5) not null, "is_default" boolean not null default false, "created_at" timestamptz not null default now(), constraint "addresses_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "addresses_user_id_index" on "addresses" ("user_id");`);
    this.addSql(`create unique index "addresses_one_default_per_user" on "addresses" ("user_id") where "is_default";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "addresses" cascade;`);
  }
}

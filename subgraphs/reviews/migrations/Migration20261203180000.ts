import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261203180000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "reviews" ("id" uuid not null, "order_id" uuid not null, "product_id" uuid not null, "variant_id" uuid not null, "factory_id" uuid not null, "user_id" uuid not null, "rating" smallint not null, "title" varchar(120) null, "body" text null, "reviewer_name" varchar(120) not null, "status" varchar(20) not null default 'VISIBLE', "created_at" timestamptz not null, "edited_at" timestamptz not null, "reply_body" text null, "replied_at" timestamptz null, "replied_by" uuid null, "hidden_at" timestamptz null, "hidden_by" uuid null, "hidden_reason" varchar(500) null, constraint "reviews_pkey" primary key ("id"), constraint "reviews_rating_check" check (rating between 1 and 5));`,
    );
    this.addSql(
      `alter table "reviews" add constraint "reviews_order_product_unique" unique ("order_id", "product_id");`,
    );
    this.addSql(`create index "reviews_product_listing_index" on "reviews" ("product_id", "status", "rating", "id");`);
    this.addSql(`create index "reviews_user_index" on "reviews" ("user_id", "id");`);
    this.addSql(
      `create table "rating_aggregates" ("subject_type" varchar(10) not null, "subject_id" uuid not null, "count" int not null, "rating_sum" int not null, "r1" int not null, "r2" int not null, "r3" int not null, "r4" int not null, "r5" int not null, constraint "rating_aggregates_pkey" primary key ("subject_type", "subject_id"));`,
    );
    this.addSql(
      `create table "review_status_history" ("id" bigserial primary key, "review_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "review_status_history_review_id_index" on "review_status_history" ("review_id");`);
    for (const sql of statusHistoryTriggerSql('reviews', 'review_status_history', 'review_id')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_reviews_status"() cascade;`);
    this.addSql(`drop table if exists "review_status_history" cascade;`);
    this.addSql(`drop table if exists "rating_aggregates" cascade;`);
    this.addSql(`drop table if exists "reviews" cascade;`);
  }
}

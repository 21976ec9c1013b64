import { Migration } from '@mikro-orm/migrations';

export class Migration20261125123435 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "categories" ("id" uuid not null, "name" varchar(120) not null, "parent_id" uuid null, "created_at" timestamptz not null default now(), constraint "categories_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "products" ("id" uuid not null, "factory_id" uuid not null, "category_id" uuid not null, "name" varchar(200) not null, "description" text null, "base_price" bigint not null, "currency" varchar(3) not null default 'IDR', "created_at" timestamptz not null default now(), constraint "products_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "products_factory_id_index" on "products" ("factory_id");`);
    this.addSql(`create index "products_category_id_index" on "products" ("category_id");`);

    this.addSql(
      `create table "variants" ("id" uuid not null, "product_id" uuid not null, "sku" varchar(64) not null, "name" varchar(200) not null, "price" bigint not null, "created_at" timestamptz not null default now(), constraint "variants_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "variants_product_id_index" on "variants" ("product_id");`);
    this.addSql(`alter table "variants" add constraint "variants_sku_unique" unique ("sku");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "categories" cascade;`);

    this.addSql(`drop table if exists "products" cascade;`);

    this.addSql(`drop table if exists "variants" cascade;`);
  }
}

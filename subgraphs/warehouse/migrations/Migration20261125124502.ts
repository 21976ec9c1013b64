import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124502 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "inventory" ("id" uuid not null, "warehouse_id" uuid not null, "variant_id" uuid not null, "quantity" int not null, "reserved" int not null default 0, "updated_at" timestamptz not null default now(), constraint "inventory_pkey" primary key ("id"), constraint inventory_reserved_check check (reserved >= 0 and reserved <= quantity), constraint inventory_quantity_check check (quantity >= 0));`,
    );
    this.addSql(`create index "inventory_variant_id_index" on "inventory" ("variant_id");`);
    this.addSql(
      `alter table "inventory" add constraint "inventory_warehouse_id_variant_id_unique" unique ("warehouse_id", "variant_id");`,
    );

    this.addSql(
      `create table "reservations" ("id" uuid not null, "order_id" uuid not null, "warehouse_id" uuid not null, "variant_id" uuid not null, "quantity" int not null, "status" varchar(16) not null default 'RESERVED', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "reservations_pkey" primary key ("id"), constraint reservations_quantity_check check (quantity > 0));`,
    );
    this.addSql(`create index "reservations_order_id_index" on "reservations" ("order_id");`);
    this.addSql(
      `alter table "reservations" add constraint "reservations_order_id_variant_id_unique" unique ("order_id", "variant_id");`,
    );

    this.addSql(
      `create table "warehouses" ("id" uuid not null, "owner_id" uuid not null, "name" varchar(120) not null, "city" varchar(120) not null, "created_at" timestamptz not null default now(), constraint "warehouses_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "warehouses_owner_id_index" on "warehouses" ("owner_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "inventory" cascade;`);

    this.addSql(`drop table if exists "reservations" cascade;`);

    this.addSql(`drop table if exists "warehouses" cascade;`);
  }
}

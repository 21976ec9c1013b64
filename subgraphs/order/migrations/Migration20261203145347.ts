import { Migration } from '@mikro-orm/migrations';

/** factoryOrders pages a factory's orders newest first: (factory_id, id) serves it and replaces (factory_id). */
export class Migration20261203145347 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "orders_factory_id_id_index" on "orders" ("factory_id", "id");`);
    this.addSql(`drop index "orders_factory_id_index";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index "orders_factory_id_index" on "orders" ("factory_id");`);
    this.addSql(`drop index "orders_factory_id_id_index";`);
  }
}

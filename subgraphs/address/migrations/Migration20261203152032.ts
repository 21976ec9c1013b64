import { Migration } from '@mikro-orm/migrations';

export class Migration20261203152032 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "addresses" add column "deleted_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "addresses" drop column "deleted_at";`);
  }
}

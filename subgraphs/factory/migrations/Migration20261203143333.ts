import { Migration } from '@mikro-orm/migrations';

/** Factory verification (verifyFactory): existing factories start unverified, like new ones. */
export class Migration20261203143333 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "factories" add column "verified" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "factories" drop column "verified";`);
  }
}

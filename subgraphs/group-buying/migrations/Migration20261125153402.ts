import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261125153402 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "group_participant_status_history" ("id" bigserial primary key, "participant_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(
      `create index "group_participant_status_history_participant_id_index" on "group_participant_status_history" ("participant_id");`,
    );

    this.addSql(
      `create table "group_buying_session_status_history" ("id" bigserial primary key, "session_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(
      `create index "group_buying_session_status_history_session_id_index" on "group_buying_session_status_history" ("session_id");`,
    );
    for (const sql of statusHistoryTriggerSql(
      'group_participants',
      'group_participant_status_history',
      'participant_id',
    ))
      this.addSql(sql);
    for (const sql of statusHistoryTriggerSql(
      'group_buying_sessions',
      'group_buying_session_status_history',
      'session_id',
    ))
      this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_group_participants_status"() cascade;`);
    this.addSql(`drop function if exists "record_group_buying_sessions_status"() cascade;`);
    this.addSql(`drop table if exists "group_participant_status_history" cascade;`);

    this.addSql(`drop table if exists "group_buying_session_status_history" cascade;`);
  }
}

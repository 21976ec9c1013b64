import { EntitySchema } from '@mikro-orm/core';

/** One step of an aggregate's audit trail: `fromStatus` is null for the status it was created with. */
export interface StatusChange {
  id: string;
  subjectId: string;
  fromStatus: string | null;
  toStatus: string;
  changedAt: Date;
}

/**
 * The history table of one aggregate (STYLE.md 5): a row per status change, written by a trigger on the
 * aggregate's table (`statusHistoryTriggerSql`, in the subgraph's migration). A trigger rather than code in
 * each service: every path that changes a status — single claims, bulk claims such as expiring sessions in
 * one UPDATE — writes its row in the same transaction, and none can forget to.
 */
export function statusHistoryEntity(
  name: string,
  historyTable: string,
  subjectColumn: string,
): EntitySchema<StatusChange> {
  return new EntitySchema<StatusChange>({
    name,
    tableName: historyTable,
    properties: {
      // Ordered by insertion, which clock_timestamp() alone cannot do for two changes in one microsecond.
      id: { type: 'bigint', primary: true, autoincrement: true },
      subjectId: { type: 'uuid', fieldName: subjectColumn, index: true },
      fromStatus: { type: 'string', length: 40, nullable: true },
      toStatus: { type: 'string', length: 40 },
      // clock_timestamp(), not now(): several steps taken in one transaction keep their own times.
      changedAt: { type: 'datetime', defaultRaw: 'clock_timestamp()' },
    },
  });
}

/** The trigger that fills `historyTable` from `table`'s status column, for the subgraph's migration. */
export function statusHistoryTriggerSql(table: string, historyTable: string, subjectColumn: string): string[] {
  const fn = `record_${table}_status`;
  return [
    `create or replace function "${fn}"() returns trigger language plpgsql as $$ begin insert into "${historyTable}" ("${subjectColumn}", "from_status", "to_status") values (new."id", case when tg_op = 'UPDATE' then old."status" end, new."status"); return null; end $$;`,
    `create trigger "${table}_status_created" after insert on "${table}" for each row execute function "${fn}"();`,
    `create trigger "${table}_status_changed" after update of "status" on "${table}" for each row when (old."status" is distinct from new."status") execute function "${fn}"();`,
  ];
}

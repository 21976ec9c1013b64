import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';
import type { Role } from '../../../lib/internal-auth';

@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'name' | 'role' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  /** E.164, e.g. +6281234567890 (the login identity). */
  @Property({ type: 'string', length: 16, unique: true })
  phone!: string;

  @Property({ type: 'string', length: 100, nullable: true })
  name?: string | null;

  @Property({ type: 'string', length: 20, default: 'BUYER' })
  role: Role = 'BUYER';

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}

import { Entity, OptionalProps, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../../../lib/ids';

@Entity({ tableName: 'factories' })
export class Factory {
  [OptionalProps]?: 'createdAt' | 'verified';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  /** The auth user who runs the factory (User lives in the auth subgraph). */
  @Index()
  @Property({ type: 'uuid' })
  ownerId!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'string', length: 120 })
  city!: string;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  /** An admin checked who runs it (verifyFactory); only verified factories are paid out. */
  @Property({ type: 'boolean', default: false })
  verified: boolean = false;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

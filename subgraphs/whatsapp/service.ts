import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { nonEmpty, parseInput } from '../../lib/validation';
import type { SendTemplateAnswer } from '../../lib/contracts/seller';
import { TemplateMessage } from './entities/template-message.entity';
import { sendNoticeMessage } from './cloud-api';

export const sendTemplateSchema = z.object({
  dedupeKey: nonEmpty(200),
  to: z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be E.164, e.g. +6281234567890'),
  template: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lowercase letters, digits, underscores)'),
  parameters: z.array(nonEmpty(1000)).max(10),
});

/** Another request with this dedupeKey is talking to the Cloud API right now: ask again shortly. */
export class SendInFlight extends Error {}

/**
 * Template messages, once per dedupeKey: the first request's content is recorded and claimed; the send
 * happens with no transaction open; its message id is recorded. A repeat answers the recorded id, one
 * arriving mid-send gets SendInFlight, and a send whose process died before recording is tried again
 * once its claim lapsed (the Cloud API has no idempotency key, so only that crash can send twice).
 */
export class TemplateSender {
  constructor(
    private readonly em: EntityManager,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  async send(input: unknown): Promise<SendTemplateAnswer> {
    const request = parseInput(sendTemplateSchema, input);
    await this.em.execute(
      `insert into template_messages (dedupe_key, "to", template, parameters, created_at)
       values (?, ?, ?, ?, now()) on conflict (dedupe_key) do nothing`,
      [request.dedupeKey, request.to, request.template, JSON.stringify(request.parameters)],
    );
    const claimed = await this.em.execute(
      `update template_messages set claimed_until = now() + ?::int * interval '1 millisecond'
        where dedupe_key = ? and message_id is null and (claimed_until is null or claimed_until < now())
        returning *`,
      [this.claimMs, request.dedupeKey],
    );
    if (!claimed.length) {
      const recorded = await this.em.findOneOrFail(TemplateMessage, { dedupeKey: request.dedupeKey });
      if (recorded.messageId) return { messageId: recorded.messageId };
      throw new SendInFlight(`The message ${request.dedupeKey} is being sent`);
    }
    const message = this.em.map(TemplateMessage, claimed[0]);
    let messageId: string;
    try {
      messageId = await sendNoticeMessage(this.config, this.logger, message.to, message.template, message.parameters);
    } catch (error) {
      await this.em.execute(`update template_messages set claimed_until = null where dedupe_key = ?`, [
        message.dedupeKey,
      ]);
      throw error;
    }
    await this.em.execute(
      `update template_messages set message_id = ?, sent_at = now(), claimed_until = null where dedupe_key = ?`,
      [messageId, message.dedupeKey],
    );
    return { messageId };
  }

  /** Longer than a send with all its retries can take (at most 5 s per attempt, backoff up to 2 s). */
  private get claimMs(): number {
    return (this.config.HTTP_RETRIES + 1) * 7000 + 5000;
  }
}

import express from 'express';
import { z } from 'zod';
import { route, sendError } from '../../lib/rest';
import { badInput } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import type { SubgraphDeps } from '../../lib/subgraph-server';
import type { Logger } from '../../lib/logger';
import { CloudApiError, isRetryable, PAIR_RATE_LIMIT, sendOtpMessage, UNDELIVERABLE } from './cloud-api';
import { SendInFlight, TemplateSender } from './service';
import { SEND_TEMPLATE_PATH } from '../../lib/contracts/seller';

const sendOtpSchema = z.object({
  phone: z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be E.164, e.g. +6281234567890'),
  code: z.string().regex(/^\d{4,8}$/, 'must be 4 to 8 digits'),
});

/**
 * Internal REST (docs/internal-api.md, whatsapp): 400 BAD_USER_INPUT when the recipient cannot get the
 * message, 502 when the Cloud API refused it for another reason (our configuration: token, template),
 * 503 when it stayed unavailable through every retry.
 */
export function mountRest(app: express.Express, { config, logger, orm }: SubgraphDeps) {
  app.post(
    '/api/whatsapp/send-otp',
    express.json({ limit: '16kb' }),
    route(async (req, res) => {
      const { phone, code } = parseInput(sendOtpSchema, req.body);
      try {
        return { messageId: await sendOtpMessage(config, logger, phone, code) };
      } catch (error) {
        if (!(error instanceof CloudApiError)) throw error;
        // The OTP is asked for by a person: a pair limit is theirs to wait out, not a retry.
        if (error.graphCode === PAIR_RATE_LIMIT) {
          throw badInput('WhatsApp limits how often one number can be messaged: wait a few seconds and try again');
        }
        return answerRefusal(res, logger, error, 'the OTP');
      }
    }),
  );
  // The owners' notices come through the notification service's outbox: 400 ends its retries (a number
  // not on WhatsApp), 429 and 5xx make it try again later.
  app.post(
    SEND_TEMPLATE_PATH,
    express.json({ limit: '64kb' }),
    route(async (req, res) => {
      try {
        return await new TemplateSender(orm.em.fork(), config, logger).send(req.body);
      } catch (error) {
        if (error instanceof SendInFlight) {
          sendError(res, 503, 'INTERNAL_SERVER_ERROR', error.message);
          return undefined;
        }
        if (!(error instanceof CloudApiError)) throw error;
        return answerRefusal(res, logger, error, 'a notice');
      }
    }),
  );
}

/**
 * A Cloud API refusal as our answer: 400 when the number cannot get WhatsApp (a final refusal for the caller's
 * outbox), 429 for the pair rate limit and 503 while WhatsApp is unavailable (both retried later), 502 for the
 * rest (our configuration: token, template), logged at error.
 */
function answerRefusal(res: express.Response, logger: Logger, error: CloudApiError, what: string): undefined {
  if (error.graphCode === UNDELIVERABLE) throw badInput('This number cannot receive WhatsApp messages');
  logger.error(
    { status: error.status, graphCode: error.graphCode, err: error.message },
    `WhatsApp Cloud API refused ${what}`,
  );
  if (error.graphCode === PAIR_RATE_LIMIT)
    sendError(res, 429, 'INTERNAL_SERVER_ERROR', 'WhatsApp limits how often one number can be messaged');
  else if (isRetryable(error)) sendError(res, 503, 'INTERNAL_SERVER_ERROR', 'WhatsApp is unavailable right now');
  else
    sendError(
      res,
      502,
      'INTERNAL_SERVER_ERROR',
      `WhatsApp refused the message (code ${error.graphCode ?? error.status})`,
    );
  return undefined;
}

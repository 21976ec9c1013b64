import pRetry, { AbortError } from 'p-retry';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';

/** The Graph API version this service speaks (EXTERNAL.md). */
export const GRAPH_API_VERSION = 'v21.0';

/** Cloud API error codes with a meaning here (EXTERNAL.md). */
export const UNDELIVERABLE = 131026;
const UNKNOWN_ERROR = 131000;
const THROUGHPUT_LIMIT = 130429;
export const PAIR_RATE_LIMIT = 131056;

/** A failed send: `status` 0 means the request never got an answer (network, timeout). */
export class CloudApiError extends Error {
  constructor(
    readonly status: number,
    readonly graphCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CloudApiError';
  }
}

/** 5xx, 429 and the Cloud API's own "unknown, try again" codes may succeed on a later attempt; other 4xx will not. */
export function isRetryable(error: CloudApiError): boolean {
  return (
    error.status === 0 ||
    error.status >= 500 ||
    error.status === 429 ||
    error.graphCode === UNKNOWN_ERROR ||
    error.graphCode === THROUGHPUT_LIMIT
  );
}

/** The authentication-template message (body parameter and copy-code URL button both carry the code). */
export function otpTemplateMessage(phone: string, code: string, template: { name: string; language: string }) {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: phone.replace(/^\+/, ''),
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: code }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
      ],
    },
  };
}

/**
 * A utility-template message whose body parameters are `parameters`, in order. The Cloud API refuses a text
 * parameter with a line break, a tab or more than four spaces in a row, so whitespace runs become one space.
 */
export function noticeTemplateMessage(
  phone: string,
  parameters: string[],
  template: { name: string; language: string },
) {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: phone.replace(/^\+/, ''),
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      components: [
        {
          type: 'body',
          parameters: parameters.map((text) => ({ type: 'text', text: text.replace(/\s+/g, ' ').trim() || '-' })),
        },
      ],
    },
  };
}

interface GraphResponse {
  messages?: { id?: string }[];
  error?: { code?: number; message?: string };
}

/** Sends the OTP template and answers the message id (see sendMessage). */
export function sendOtpMessage(config: Config, logger: Logger, phone: string, code: string): Promise<string> {
  return sendMessage(
    config,
    logger,
    otpTemplateMessage(phone, code, { name: config.WHATSAPP_OTP_TEMPLATE, language: config.WHATSAPP_OTP_LANGUAGE }),
  );
}

/** Sends a notice template (language WHATSAPP_NOTICE_LANGUAGE) and answers the message id (see sendMessage). */
export function sendNoticeMessage(
  config: Config,
  logger: Logger,
  phone: string,
  template: string,
  parameters: string[],
): Promise<string> {
  return sendMessage(
    config,
    logger,
    noticeTemplateMessage(phone, parameters, { name: template, language: config.WHATSAPP_NOTICE_LANGUAGE }),
  );
}

/**
 * Sends one message through the WhatsApp Cloud API and answers its id. Retries with exponential backoff
 * what may pass later (see isRetryable); throws CloudApiError otherwise or when the retries are spent.
 * Per-attempt timeout at most 5 s, so the whole send stays well under 30 s.
 */
async function sendMessage(config: Config, logger: Logger, message: object): Promise<string> {
  const url = `${config.whatsappApiUrl}/${GRAPH_API_VERSION}/${encodeURIComponent(config.WHATSAPP_PHONE_NUMBER_ID)}/messages`;
  const body = JSON.stringify(message);
  return pRetry(
    async () => {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${config.WHATSAPP_TOKEN}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(Math.min(config.HTTP_TIMEOUT_MS, 5000)),
        });
      } catch (error) {
        throw new CloudApiError(0, undefined, `WhatsApp Cloud API unreachable: ${(error as Error).message}`);
      }
      const payload = (await response.json().catch(() => ({}))) as GraphResponse;
      const messageId = payload.messages?.[0]?.id;
      if (response.ok && messageId) return messageId;
      const failure = new CloudApiError(
        response.status,
        payload.error?.code,
        payload.error?.message ?? `WhatsApp Cloud API answered ${response.status} without a message id`,
      );
      if (response.ok || !isRetryable(failure)) throw new AbortError(failure);
      throw failure;
    },
    {
      retries: config.HTTP_RETRIES,
      factor: 2,
      minTimeout: 200,
      maxTimeout: 2000,
      onFailedAttempt: (error) =>
        logger.warn(
          { attempt: error.attemptNumber, retriesLeft: error.retriesLeft, err: error.message },
          'WhatsApp send failed',
        ),
    },
  );
}

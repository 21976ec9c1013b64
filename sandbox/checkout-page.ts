import { Router } from 'express';
import type { XenditAccount, XenditInvoice } from './xendit-account';

/** `GET /checkout/:invoiceId`: the page an invoice's `invoice_url` opens, where a person presses Pay. */
export function checkoutRouter(account: XenditAccount): Router {
  const router = Router();
  router.get('/checkout/:invoiceId', (req, res) => {
    const invoice = account.invoiceForCheckout(req.params.invoiceId);
    if (!invoice) {
      res
        .status(404)
        .type('html')
        .send(page('Invoice not found', '<h1>Invoice not found</h1><p class="muted">Check the payment link.</p>'));
      return;
    }
    res.type('html').send(page(`Pay ${formatAmount(invoice)}`, checkoutBody(invoice)));
  });
  return router;
}

function checkoutBody(invoice: XenditInvoice): string {
  const amount = formatAmount(invoice);
  return `
    <p class="merchant">${escapeHtml(invoice.merchant_name)}</p>
    <h1>${amount}</h1>
    ${invoice.description ? `<p>${escapeHtml(invoice.description)}</p>` : ''}
    <dl>
      <dt>Invoice</dt><dd>${escapeHtml(invoice.external_id)}</dd>
      <dt>Status</dt><dd><span class="status ${invoice.status.toLowerCase()}" id="status">${invoice.status}</span></dd>
      ${invoice.status === 'PENDING' ? `<dt>Pay before</dt><dd>${formatDate(invoice.expiry_date)}</dd>` : ''}
      ${invoice.paid_at ? `<dt>Paid at</dt><dd>${formatDate(invoice.paid_at)}</dd>` : ''}
    </dl>
    <div id="outcome">${outcome(invoice, amount)}</div>
    <script>
      const form = document.getElementById('pay');
      form?.addEventListener('submit', async (event) => {
        event.preventDefault();
        const button = form.querySelector('button');
        button.disabled = true;
        button.textContent = 'Paying…';
        const response = await fetch(form.action, { method: 'POST' });
        const answer = await response.json().catch(() => ({}));
        const status = document.getElementById('status');
        const outcome = document.getElementById('outcome');
        if (!response.ok) {
          outcome.innerHTML = '<p class="error"></p>';
          outcome.firstChild.textContent = answer.message || 'Payment failed (HTTP ' + response.status + ')';
          return;
        }
        status.textContent = 'PAID';
        status.className = 'status paid';
        outcome.innerHTML = '<p class="done">Paid. Thank you!</p>';
        if (form.dataset.returnUrl) {
          const link = document.createElement('a');
          link.href = form.dataset.returnUrl;
          link.className = 'button';
          link.textContent = 'Back to the shop';
          outcome.appendChild(link);
        }
      });
    </script>`;
}

/** The Pay button for an open invoice; otherwise what became of it and the way back. */
function outcome(invoice: XenditInvoice, amount: string): string {
  if (invoice.status === 'PENDING') {
    // The form posts to the sandbox hook, relative to this page so a path prefix in the public URL works.
    const returnUrl = invoice.success_redirect_url
      ? ` data-return-url="${escapeHtml(invoice.success_redirect_url)}"`
      : '';
    return `
      <form id="pay" method="post" action="../__sandbox/xendit/invoices/${encodeURIComponent(invoice.id)}/pay"${returnUrl}>
        <button type="submit" class="button">Pay ${amount}</button>
      </form>
      <p class="muted">Sandbox payment: BCA virtual account, settled at once.</p>`;
  }
  if (invoice.status === 'EXPIRED') {
    return `<p class="error">This invoice has expired and can no longer be paid.</p>${backLink(invoice.failure_redirect_url)}`;
  }
  return `<p class="done">Paid. Thank you!</p>${backLink(invoice.success_redirect_url)}`;
}

function backLink(url: string | undefined): string {
  return url ? `<a class="button" href="${escapeHtml(url)}">Back to the shop</a>` : '';
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · Xendit sandbox</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f3f5f9; color: #1d2433; margin: 0; }
    main { max-width: 420px; margin: 48px auto; background: #fff; border-radius: 12px; padding: 28px 32px;
           box-shadow: 0 4px 24px rgba(20, 30, 60, 0.08); }
    h1 { font-size: 2rem; margin: 4px 0 12px; }
    .merchant { color: #5b6478; font-weight: 600; margin: 0; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: 6px 16px; margin: 20px 0; }
    dt { color: #5b6478; } dd { margin: 0; }
    .status { padding: 2px 8px; border-radius: 999px; font-size: 0.85rem; font-weight: 600; background: #fff4d6; color: #8a5a00; }
    .status.paid, .status.settled { background: #dcf5e6; color: #11693a; }
    .status.expired { background: #fde2e1; color: #9b1c1c; }
    .button { display: inline-block; width: 100%; box-sizing: border-box; text-align: center; padding: 12px;
              border: 0; border-radius: 8px; background: #1f5eff; color: #fff; font-size: 1rem; font-weight: 600;
              text-decoration: none; cursor: pointer; }
    .button:disabled { background: #8aa6f5; cursor: wait; }
    .muted { color: #5b6478; font-size: 0.85rem; }
    .done { color: #11693a; font-weight: 600; }
    .error { color: #9b1c1c; }
  </style>
</head>
<body><main>${body}</main></body>
</html>`;
}

function formatAmount(invoice: XenditInvoice): string {
  return new Intl.NumberFormat('id-ID', {
    style: 'currency',
    currency: invoice.currency,
    maximumFractionDigits: invoice.currency === 'IDR' ? 0 : 2,
  }).format(invoice.amount);
}

/** Shown in Jakarta time (WIB), as an Indonesian buyer reads it. */
function formatDate(iso: string): string {
  const local = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Jakarta' });
  return `${local.format(new Date(iso))} WIB`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

import { test, expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Northwind's demo CAD Pro pool is full (no seat free) with devices waiting:
// an alert or a top-up set on it fires at once. devices.spec.ts runs first and
// leaves it full; sessions.spec.ts uses the Viewer Floating pool only.
// Screenshots of this spec are numbered from 60.
const PASSWORD = 'leasehold-demo';
const ADMIN = 'admin@northwind.example';
const SHOTS = path.join(__dirname, '..', 'screenshots');

async function snap(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL(/\/licences/);
}

function toast(page: Page, text: string | RegExp): Locator {
  return page.getByTestId('toast').filter({ hasText: text });
}

async function dismissToasts(page: Page) {
  const close = page.getByTestId('toast').getByRole('button', { name: 'Dismiss message' });
  while ((await close.count()) > 0) {
    await close.first().click();
  }
}

test('recipients, webhooks, pool alerts and top-ups, buying seats, notifications and the audit seal', async ({ page }) => {
  await signIn(page, ADMIN);

  // Who is told: an e-mail recipient and a webhook endpoint (nothing listens
  // on port 9, so its deliveries fail and are retried).
  await page.getByTestId('nav-notifications').click();
  await expect(page).toHaveURL(/\/notifications$/);
  await page.getByTestId('notifications-tab-settings').click();
  await expect(page).toHaveURL(/\/notifications\/settings$/);
  await expect(page.getByTestId('recipients-card')).toContainText('Nobody is e-mailed yet');
  await page.getByTestId('add-recipient').click();
  const recipient = page.getByTestId('recipient-dialog');
  await recipient.getByTestId('recipient-email').fill('not an address');
  await recipient.getByTestId('dialog-confirm').click();
  await expect(recipient.getByTestId('recipient-email-error')).toBeVisible();
  await recipient.getByTestId('recipient-email').fill('ops@northwind.example');
  await expect(recipient.getByTestId('event-low_seats')).toBeChecked();
  await recipient.getByTestId('event-topup_done').check();
  await snap(page, '60-recipient-dialog');
  await recipient.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'ops@northwind.example will be e-mailed')).toBeVisible();
  const row = page.locator('[data-testid="recipient-row"][data-email="ops@northwind.example"]');
  await expect(row).toContainText('Low on seats');
  await expect(row).toContainText('Top-up done');
  await expect(row).toContainText('All pools');

  await page.getByTestId('add-webhook').click();
  const hook = page.getByTestId('webhook-dialog');
  await hook.getByTestId('webhook-url').fill('ftp://wrong');
  await hook.getByTestId('dialog-confirm').click();
  await expect(hook.getByTestId('webhook-url-error')).toBeVisible();
  await hook.getByTestId('webhook-url').fill('http://127.0.0.1:9/leasehold');
  await hook.getByTestId('webhook-description').fill('Ops chat bot');
  await hook.getByTestId('dialog-confirm').click();
  const secret = page.getByTestId('webhook-secret-dialog');
  await expect(secret.getByTestId('webhook-secret')).toHaveValue(/^whsec_/);
  await snap(page, '61-webhook-secret');
  await secret.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('webhook-row')).toContainText('Ops chat bot');
  await expect(page.getByTestId('webhook-row').getByTestId('webhook-state')).toHaveText('Active');
  await dismissToasts(page);

  // The full CAD Pro pool: alert below 2 free, ask before topping up 2 seats.
  await page.getByTestId('nav-dashboard').click();
  const cad = page.getByTestId('pool-card').filter({ hasText: 'CAD Pro' });
  await expect(cad.getByTestId('pool-available')).toHaveText('0');
  const capacity = Number(((await cad.getByTestId('pool-used').textContent()) ?? '').match(/of (\d+)/)?.[1]);
  await cad.getByTestId('pool-menu').click();
  await cad.getByTestId('open-watch-settings').click();
  const watch = page.getByTestId('watch-dialog');
  await watch.getByTestId('alert-seats').check();
  await watch.locator('#alert-below-seats').fill('2');
  await watch.getByTestId('topup-enabled').check();
  await watch.locator('#topup-below').fill('1');
  await watch.locator('#topup-add').fill('2');
  await watch.locator('#topup-max').fill('3');
  await watch.getByTestId('topup-ask-first').check();
  await snap(page, '62-watch-dialog');
  await watch.getByTestId('dialog-confirm').click();
  await expect(watch).toBeHidden();
  await expect(cad.getByTestId('pool-low')).toBeVisible();
  await expect(cad.getByTestId('pool-topup-pending')).toContainText('A top-up of 2 seats is waiting for approval');
  await expect(cad.getByTestId('pool-alert')).toContainText('Fewer than 2 seats free');
  await dismissToasts(page);
  await snap(page, '63-pool-low-topup-pending');

  // Approving adds the seats. Waiting devices (devices.spec.ts may have served
  // them already) get them at once; if that empties the pool again, the next
  // top-up asks for approval: dismiss it.
  const waiting = Number(await cad.getByTestId('pool-waiting').textContent());
  await cad.getByTestId('approve-topup').click();
  await expect(toast(page, 'top-up approved, 2 seats added')).toBeVisible();
  await expect(cad.getByTestId('pool-used')).toHaveText(new RegExp(`of ${capacity + 2} licences used$`));
  await expect(cad.getByTestId('pool-topups-month')).toContainText('1 of 3 this month');
  if (waiting >= 2) {
    await expect(cad.getByTestId('pool-topup-pending')).toBeVisible();
    await cad.getByTestId('dismiss-topup').click();
    await expect(toast(page, 'top-up dismissed, no seats added')).toBeVisible();
  }
  await expect(cad.getByTestId('pool-topup-pending')).toBeHidden();

  // Buying seats: the price follows the quantity and the plan.
  await cad.getByTestId('pool-menu').click();
  await cad.getByTestId('open-buy-seats').click();
  const buy = page.getByTestId('buy-dialog');
  await buy.getByTestId('buy-quantity').fill('3');
  await buy.getByTestId('buy-plan').selectOption('yearly');
  await expect(buy.getByTestId('buy-price')).toContainText('3');
  await snap(page, '64-buy-dialog');
  await buy.getByTestId('dialog-confirm').click();
  await expect(toast(page, /CAD Pro: 3 seats added/)).toBeVisible();
  await dismissToasts(page);

  // The bell counts what happened; the inbox lists it and marks it read.
  await expect(page.getByTestId('bell-count')).toBeVisible();
  await page.getByTestId('bell').click();
  await expect(page).toHaveURL(/\/notifications$/);
  const inbox = page.getByTestId('notification-row');
  await expect(inbox.filter({ hasText: 'Low on seats' }).first()).toBeVisible();
  await expect(inbox.filter({ hasText: 'Top-up awaiting approval' }).first()).toBeVisible();
  await expect(inbox.filter({ hasText: 'Top-up done' }).first()).toBeVisible();
  await snap(page, '65-notifications');
  await page.getByTestId('notifications-unread').click();
  await page.getByTestId('mark-all-read').click();
  await expect(toast(page, /marked as read/)).toBeVisible();
  await expect(page.getByText('Nothing unread')).toBeVisible();
  await expect(page.getByTestId('bell-count')).toBeHidden();
  await dismissToasts(page);

  // The delivery log: the e-mails wait for an SMTP server (none in the demo),
  // the webhook calls fail and are retried.
  await page.getByTestId('notifications-tab-settings').click();
  const log = page.getByTestId('delivery-log');
  await expect(log.getByTestId('delivery-row').filter({ hasText: 'ops@northwind.example' }).first()).toBeVisible();
  await log.getByTestId('log-webhook').click();
  await expect(async () => {
    await log.getByTestId('refresh-log').click();
    await expect(log.locator('[data-testid="delivery-row"][data-status="retrying"]').first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(log.getByTestId('delivery-row').first()).toContainText('127.0.0.1:9');
  await expect(page.getByTestId('webhook-row').getByTestId('webhook-state')).toContainText(/Active|Failing/);
  await snap(page, '66-delivery-log');

  // The audit log: filter by product, then verify the hash chain.
  await page.getByTestId('nav-logs').click();
  await page.getByTestId('audit-product').selectOption({ label: 'CAD Pro' });
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await page.getByTestId('verify-audit').click();
  await expect(page.getByTestId('audit-verdict')).toHaveAttribute('data-verified', 'true');
  await snap(page, '67-audit-verified');
});

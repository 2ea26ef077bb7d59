import { test, expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Northwind's demo CAD Pro pool (`leasehold demo`): 14 of 14 seats held, one
// blocked device ("Lost tablet") and three waiting, in this order: "Locum
// laptop", "New scanner PC", "Training room". console.spec.ts leaves it alone.
const PASSWORD = 'leasehold-demo';
const ADMIN = 'admin@northwind.example';
const VIEWER = 'viewer@northwind.example';

// Emptied by global-setup.ts; this spec's screenshots are numbered from 30.
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
  await expect(page.getByTestId('current-user')).toContainText(email);
}

function toast(page: Page, text: string | RegExp): Locator {
  return page.getByTestId('toast').filter({ hasText: text });
}

/** Removes the toasts, so that the next screenshot shows only the next one. */
async function dismissToasts(page: Page) {
  const close = page.getByTestId('toast').getByRole('button', { name: 'Dismiss message' });
  while ((await close.count()) > 0) {
    await close.first().click();
  }
}

function device(page: Page, name: string): Locator {
  return page.locator(`[data-testid="device-row"][data-device-name="${name}"]`);
}

function request(page: Page, name: string): Locator {
  return page.locator(`[data-testid="request-row"][data-device-name="${name}"]`);
}

/** The counts in the tab labels ("Licensed 14", "Blocked 1", "Requests 3"). */
async function expectCounts(page: Page, licensed: number, blocked: number, requests: number) {
  await expect(page.getByTestId('tab-licensed')).toHaveAttribute('data-count', String(licensed));
  await expect(page.getByTestId('tab-blocked')).toHaveAttribute('data-count', String(blocked));
  await expect(page.getByTestId('tab-requests')).toHaveAttribute('data-count', String(requests));
  await expect(page.getByTestId('tab-licensed')).toHaveText(new RegExp(`Licensed\\s*${licensed}`));
  await expect(page.getByTestId('tab-requests')).toHaveText(new RegExp(`Requests\\s*${requests}`));
}

test('an organisation admin revokes, blocks, unblocks and reallocates device seats', async ({ page }) => {
  await signIn(page, ADMIN);

  // The dashboard: the full CAD Pro pool with its queue.
  await page.getByTestId('nav-dashboard').click();
  await expect(page).toHaveURL(/\/pools$/);
  const cad = page.getByTestId('pool-card').filter({ hasText: 'CAD Pro' });
  await expect(cad.getByTestId('pool-used')).toHaveText('14 of 14 licences used');
  await expect(cad.getByTestId('pool-available')).toHaveText('0');
  await expect(cad.getByTestId('pool-waiting')).toHaveText('3');
  await expect(cad.getByTestId('pool-policy-select')).toHaveValue('auto_grant');
  await snap(page, '30-dashboard');

  // A device pool's card leads to its devices.
  await cad.getByTestId('pool-devices').click();
  await expect(page).toHaveURL(/\/devices\?product=[0-9a-f-]{36}$/);
  await expect(page.getByTestId('filter-product')).not.toHaveValue('');
  await expectCounts(page, 14, 1, 3);
  await page.getByTestId('clear-filters').click();
  await expect(page).toHaveURL(/\/devices$/);
  await expect(page.getByTestId('filter-product')).toHaveValue('');

  // Licensed: 14 devices; the summary says the pool is full.
  await expectCounts(page, 14, 1, 3);
  await expect(page.getByTestId('device-row')).toHaveCount(14);
  const usage = page.getByTestId('pool-usage').filter({ hasText: 'CAD Pro' });
  await expect(usage.getByTestId('usage-line')).toHaveText('14 of 14 licences used');
  await expect(usage).toContainText('0 available');
  await expect(usage).toContainText('3 waiting');
  await expect(device(page, 'Theatre A').locator('code')).toHaveText('NW-0006-theatre-a');
  await snap(page, '31-devices-licensed');

  // Search narrows by name or fingerprint.
  await page.getByTestId('device-search').fill('radiology');
  await expect(page).toHaveURL(/[?&]q=radiology/);
  await expect(page.getByTestId('device-row')).toHaveCount(6);
  await page.getByTestId('device-search').fill('');
  await expect(page).toHaveURL(/\/devices$/);
  await expect(page.getByTestId('device-row')).toHaveCount(14);

  // Revoke: the seat goes at once to the first in the queue.
  await device(page, 'Theatre A').getByTestId('revoke-device').click();
  await expect(toast(page, 'Revoked Theatre A — seat given to Locum laptop')).toBeVisible();
  await expectCounts(page, 14, 1, 2);
  await expect(device(page, 'Locum laptop')).toBeVisible();
  await expect(device(page, 'Theatre A')).toHaveCount(0);
  await expect(usage).toContainText('2 waiting');
  await snap(page, '32-devices-revoked');
  await dismissToasts(page);

  // Block asks first, and says what it does; Escape backs out.
  await device(page, 'Theatre B').getByTestId('block-device').click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText('Block Theatre B?');
  await expect(confirm).toContainText('releases its seat');
  await expect(confirm).toContainText('stops Theatre B from registering');
  await page.keyboard.press('Escape');
  await expect(confirm).toHaveCount(0);
  await expect(device(page, 'Theatre B')).toBeVisible();
  await device(page, 'Theatre B').getByTestId('block-device').click();
  await expect(confirm).toBeVisible();
  await snap(page, '33-devices-block-confirm');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'Blocked Theatre B — seat given to New scanner PC')).toBeVisible();
  await expect(confirm).toHaveCount(0);
  await expectCounts(page, 14, 2, 1);
  await expect(device(page, 'New scanner PC')).toBeVisible();
  await expect(device(page, 'Theatre B')).toHaveCount(0);
  await page.getByTestId('tab-blocked').click();
  await expect(page).toHaveURL(/tab=blocked/);
  await expect(device(page, 'Theatre B')).toBeVisible();
  await expect(device(page, 'Lost tablet')).toBeVisible();
  await snap(page, '34-devices-blocked');
  await dismissToasts(page);

  // Unblock: it leaves the Blocked tab (and gets a seat only when it asks again).
  await device(page, 'Lost tablet').getByTestId('unblock-device').click();
  await expect(toast(page, 'Unblocked Lost tablet — it gets a seat the next time it asks, if one is free')).toBeVisible();
  await expect(device(page, 'Lost tablet')).toHaveCount(0);
  await expectCounts(page, 14, 1, 1);
  await snap(page, '35-devices-unblocked');
  await dismissToasts(page);

  // Requests: Training room waits, first in line. Approving needs a free seat:
  // the 409 is explained in a toast.
  await page.getByTestId('tab-requests').click();
  await expect(page).toHaveURL(/tab=requests/);
  await expect(page.getByTestId('request-row')).toHaveCount(1);
  const training = request(page, 'Training room');
  await expect(training).toContainText('#1');
  await expect(training).toContainText('NW-0016-training-room');
  await expect(training).toContainText('CAD Pro');
  // Waiting since: relative, with the exact time on hover.
  await expect(training.getByTestId('request-since')).toHaveText(/just now|ago/);
  await expect(training.getByTestId('request-since')).toHaveAttribute('title', /\d{4}/);
  await expect(page.getByTestId('requests-note')).toBeVisible();
  await training.getByTestId('approve-request').click();
  await expect(page.locator('[data-testid="toast"][data-kind="error"]')).toContainText(
    'Could not approve Training room: No seat is free',
  );
  await expect(training).toBeVisible();
  await snap(page, '36-devices-requests');
  await dismissToasts(page);

  // Reallocate: pick a licensed device of the same product and move its seat.
  await training.getByTestId('reallocate-request').click();
  const dialog = page.getByTestId('reallocate-dialog');
  await expect(dialog).toContainText('Give Training room a seat');
  await expect(dialog.getByTestId('reallocate-option')).toHaveCount(14);
  await expect(dialog.getByTestId('dialog-confirm')).toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await training.getByTestId('reallocate-request').click();
  await expect(dialog.getByTestId('reallocate-option')).toHaveCount(14);
  const frontDesk = dialog.locator('[data-testid="reallocate-option"][data-device-name="Front desk"]');
  await expect(frontDesk).toContainText('Last seen');
  await frontDesk.click();
  await expect(frontDesk.locator('input')).toBeChecked();
  await expect(dialog.getByTestId('dialog-confirm')).toHaveText(/Move seat/);
  await snap(page, '37-devices-reallocate');
  await dialog.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'Moved the seat of Front desk to Training room')).toBeVisible();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('empty-state')).toContainText('Nobody is waiting for a seat');
  await expectCounts(page, 14, 1, 0);
  await snap(page, '38-devices-reallocated');
  await dismissToasts(page);

  // A visiting laptop asks over the API while the pool is full; the admin rejects it.
  const token = await page.evaluate(() => localStorage.getItem('access_token'));
  const auth = { Authorization: `Bearer ${token}` };
  const products = await (await page.request.get('/v1/products', { headers: auth })).json();
  const cadPro = products.items.find((p: { name: string }) => p.name === 'CAD Pro');
  const key = await (
    await page.request.post('/v1/api-keys', {
      headers: auth,
      data: { name: 'e2e visiting laptop', scopes: ['devices:register'] },
    })
  ).json();
  const asked = await page.request.post('/v1/devices/register', {
    headers: { Authorization: `Bearer ${key.key}` },
    data: { fingerprint: 'e2e-visiting-laptop', name: 'Visiting laptop', product_id: cadPro.id },
  });
  expect(asked.status()).toBe(202);
  await page.reload();
  await expectCounts(page, 14, 1, 1);
  const visiting = request(page, 'Visiting laptop');
  await expect(visiting.getByTestId('request-since')).toHaveText('just now');
  await visiting.getByTestId('reject-request').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Reject the request of Visiting laptop?');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'Rejected the request of Visiting laptop')).toBeVisible();
  await expect(visiting).toHaveCount(0);
  await expectCounts(page, 14, 1, 0);
  await dismissToasts(page);

  await page.getByTestId('tab-licensed').click();
  await expect(device(page, 'Training room')).toBeVisible();
  await expect(device(page, 'Front desk')).toHaveCount(0);
  await expect(usage).toContainText('0 waiting');
  await snap(page, '39-devices-licensed-after');

  // The queue policy, changed on the dashboard (and set back).
  await page.getByTestId('nav-dashboard').click();
  await expect(cad.getByTestId('pool-waiting')).toHaveText('0');
  await cad.getByTestId('pool-policy-select').selectOption('approval');
  await expect(toast(page, 'CAD Pro at Northwind Clinics: waiting devices now need')).toBeVisible();
  await expect(cad).toContainText('Requests wait until an administrator approves them.');
  await snap(page, '40-dashboard-policy');
  await cad.getByTestId('pool-policy-select').selectOption('auto_grant');
  await expect(toast(page, 'get free seats automatically')).toBeVisible();
  await page.reload();
  await expect(cad.getByTestId('pool-policy-select')).toHaveValue('auto_grant');
});

test('a viewer sees the devices and the pools, without actions', async ({ page }) => {
  await signIn(page, VIEWER);
  await page.getByTestId('nav-devices').click();
  await expect(page).toHaveURL(/\/devices$/);
  await expect(page.getByTestId('device-row').first()).toBeVisible();
  await expect(page.getByTestId('tab-licensed')).toHaveAttribute('data-count', /\d+/);
  await expect(page.getByTestId('revoke-device')).toHaveCount(0);
  await expect(page.getByTestId('block-device')).toHaveCount(0);
  await snap(page, '41-devices-viewer');

  await page.getByTestId('tab-blocked').click();
  await expect(page.getByTestId('device-row').first().or(page.getByTestId('empty-state'))).toBeVisible();
  await expect(page.getByTestId('unblock-device')).toHaveCount(0);
  await page.getByTestId('tab-requests').click();
  await expect(page.getByTestId('request-row').first().or(page.getByTestId('empty-state'))).toBeVisible();
  await expect(page.getByTestId('approve-request')).toHaveCount(0);
  await expect(page.getByTestId('reallocate-request')).toHaveCount(0);
  await expect(page.getByTestId('reject-request')).toHaveCount(0);

  await page.getByTestId('nav-dashboard').click();
  await expect(page.getByTestId('pool-card').first()).toBeVisible();
  await expect(page.getByTestId('pool-policy-select')).toHaveCount(0);
  await expect(page.getByTestId('pool-policy').first()).toBeVisible();
  await snap(page, '42-dashboard-viewer');
});

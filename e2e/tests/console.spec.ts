import { test, expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Demo logins created by `leasehold demo`.
const PASSWORD = 'leasehold-demo';
const ACCOUNT_MANAGER = 'am@vendor.example';
const NORTHWIND_ADMIN = 'admin@northwind.example';

// Emptied by global-setup.ts; devices.spec.ts numbers its screenshots from 30.
const SHOTS = path.join(__dirname, '..', 'screenshots');
let shots = 0;

/** Saves a full-page screenshot as screenshots/<nn>-<name>.png. */
async function snap(page: Page, name: string) {
  shots += 1;
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  // From the top, so the sticky bars sit where they belong in a full-page image.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
}

async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL(/\/licences/);
  await expect(page.getByTestId('current-user')).toContainText(email);
}

async function signOut(page: Page) {
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('login-form')).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem('access_token'))).toBeNull();
}

function rowOf(page: Page, name: string): Locator {
  return page.getByTestId('licence-row').filter({ hasText: name });
}

/** Types into the search box; the debounced keyword lands in the URL and narrows the list. */
async function searchLicences(page: Page, keyword: string) {
  await page.getByTestId('licence-search').fill(keyword);
  await expect(page).toHaveURL(/[?&]q=/);
  await expect(page.getByTestId('licence-row')).toHaveCount(1);
  await expect(rowOf(page, keyword)).toBeVisible();
}

function toast(page: Page, text: string | RegExp): Locator {
  return page.getByTestId('toast').filter({ hasText: text });
}

test('an account manager hands a coupon to a customer, who redeems it', async ({ page }) => {
  const name = `E2E licence ${Date.now().toString(36)}`;

  // Sign-in page, and a wrong password shown plainly.
  await page.goto('/login');
  await expect(page.getByTestId('login-form')).toBeVisible();
  await snap(page, 'sign-in');
  await page.getByTestId('login-email').fill(ACCOUNT_MANAGER);
  await page.getByTestId('login-password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('login-error')).toBeVisible();
  await snap(page, 'sign-in-error');

  // The account manager's licence list.
  await signIn(page, ACCOUNT_MANAGER);
  await expect(page.getByTestId('licence-row').first().or(page.getByTestId('empty-state'))).toBeVisible();
  await expect(page.getByTestId('nav-devices')).toHaveAttribute('href', '/devices');
  await expect(page.getByTestId('nav-sessions')).toHaveAttribute('href', '/sessions');
  await snap(page, 'licences');

  // Add an unassigned licence (its coupon is handed over). A concurrent product:
  // redeeming CAD Pro seats would grow Northwind's full device pool, whose queue
  // devices.spec.ts works through.
  await page.getByTestId('add-licence').click();
  await expect(page).toHaveURL(/\/licences\/new$/);
  const product = page.getByTestId('licence-product');
  const viewerProduct = product.locator('option', { hasText: 'Viewer Floating' });
  await expect(viewerProduct).toHaveCount(1);
  await product.selectOption((await viewerProduct.getAttribute('value')) ?? '');
  await page.getByTestId('licence-plan').selectOption('yearly');
  await page.getByTestId('licence-name').fill(name);
  await page.getByTestId('licence-note').fill('Created by the browser test');
  await page.getByTestId('licence-quantity').fill('3');
  await page.getByTestId('owner-none').check();
  await expect(page.getByTestId('licence-price')).toContainText('per seat');
  await snap(page, 'add-licence');
  await page.getByTestId('licence-save').click();
  await expect(page).toHaveURL(/\/licences\/[0-9a-f-]{36}$/);
  await expect(toast(page, 'Licence created')).toBeVisible();
  await expect(page.getByTestId('licence-title')).toHaveText(name);
  await expect(page.getByTestId('status-pill')).toHaveText('Unassigned');
  await expect(page.getByTestId('licence-ends')).toHaveText('Starts when redeemed');
  await snap(page, 'licence-created');

  // Find it by keyword and copy its coupon with one click.
  await page.getByTestId('nav-licences').click();
  await searchLicences(page, name);
  const row = rowOf(page, name);
  await expect(row.getByTestId('status-pill')).toHaveText('Unassigned');
  const copy = row.getByTestId('coupon-copy');
  const code = (await copy.getAttribute('data-code')) ?? '';
  expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
  await copy.click();
  await expect(toast(page, 'Copied')).toBeVisible();
  // The browser grants clipboard access (playwright.config.ts): the code is really there.
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  // An unassigned licence cannot be paused (the domain refuses it); the button says so.
  await expect(row.getByTestId('pause-licence')).toBeDisabled();
  await snap(page, 'search-and-copy');

  // Its details.
  await row.getByTestId('licence-link').click();
  await expect(page.getByTestId('coupon-code')).toHaveText(code);
  await expect(page.getByTestId('history-entry').first()).toBeVisible();
  await snap(page, 'licence-details');
  await signOut(page);

  // The customer's admin redeems the coupon (typed in lower case: it is forgiven).
  await signIn(page, NORTHWIND_ADMIN);
  await page.getByTestId('nav-redeem').click();
  await expect(page).toHaveURL(/\/redeem$/);
  await page.getByTestId('redeem-code').fill(code.toLowerCase());
  await page.getByTestId('redeem-submit').click();
  await expect(page.getByTestId('redeem-success')).toBeVisible();
  await expect(page.getByTestId('redeemed-name')).toHaveText(name);
  await snap(page, 'redeemed');
  // A second redemption is refused, inline.
  await page.getByTestId('redeem-code').fill(code);
  await page.getByTestId('redeem-submit').click();
  await expect(page.getByTestId('redeem-error')).toBeVisible();
  await snap(page, 'redeem-refused');

  // The licence is now in the organisation's list, active.
  await page.getByTestId('nav-licences').click();
  await searchLicences(page, name);
  await expect(row.getByTestId('status-pill')).toHaveText('Active');
  await expect(row).toContainText('Northwind Clinics');
  await expect(row.getByTestId('pause-licence')).toHaveCount(0);
  await snap(page, 'customer-licences');
  await signOut(page);

  // Back as the account manager: pause and resume the now active licence.
  await signIn(page, ACCOUNT_MANAGER);
  await searchLicences(page, name);
  await row.getByTestId('pause-licence').click();
  await expect(row.getByTestId('status-pill')).toHaveText('Paused');
  await expect(toast(page, 'paused')).toBeVisible();
  await snap(page, 'paused');
  await row.getByTestId('resume-licence').click();
  await expect(row.getByTestId('status-pill')).toHaveText('Active');
  await expect(toast(page, 'resumed')).toBeVisible();

  // A redeemed licence cannot be deleted: the 409 is explained in a toast.
  // (Escape closes the dialog first; the dialog focuses its first control.)
  await row.getByTestId('delete-licence').click();
  await expect(page.getByTestId('dialog-cancel')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await row.getByTestId('delete-licence').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Delete licence ${name}?`);
  await snap(page, 'delete-confirm');
  await page.getByTestId('dialog-confirm').click();
  await expect(page.locator('[data-testid="toast"][data-kind="error"]')).toBeVisible();
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(row).toBeVisible();

  // A licence created by mistake (never redeemed, no seat held) is deleted for good.
  const mistake = `${name} mistake`;
  await page.getByTestId('add-licence').click();
  await page.getByTestId('licence-name').fill(mistake);
  await page.getByTestId('licence-quantity').fill('1');
  await page.getByTestId('owner-none').check();
  await page.getByTestId('licence-save').click();
  await expect(page.getByTestId('licence-title')).toHaveText(mistake);
  await page.getByTestId('nav-licences').click();
  await searchLicences(page, mistake);
  await rowOf(page, mistake).getByTestId('delete-licence').click();
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, `Licence ${mistake} deleted`)).toBeVisible();
  await expect(rowOf(page, mistake)).toHaveCount(0);

  // The audit log records it all; an entry opens to show what changed.
  await page.getByTestId('nav-logs').click();
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await page.getByTestId('audit-row').first().getByRole('button').click();
  await snap(page, 'audit-log');

  // The other screens of this release.
  await page.getByTestId('nav-organisations').click();
  await expect(page.getByTestId('organisation-row').first()).toBeVisible();
  await snap(page, 'organisations');
  await page.getByTestId('nav-users').click();
  await expect(page.getByTestId('user-row').first()).toBeVisible();
  await snap(page, 'users');
  await page.getByTestId('tab-keys').click();
  await expect(page.getByTestId('api-key-row').first().or(page.getByTestId('empty-state'))).toBeVisible();
  await snap(page, 'api-keys');
});

test('a viewer sees only what a viewer may use, and an expired access token is refreshed', async ({ page }) => {
  // Signed out, a deep link goes through the sign-in page and comes back.
  await page.goto('/logs');
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByTestId('login-email').fill('viewer@northwind.example');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL(/\/logs$/);

  await expect(page.getByTestId('nav-licences')).toBeVisible();
  await expect(page.getByTestId('nav-logs')).toBeVisible();
  await expect(page.getByTestId('nav-devices')).toBeVisible();
  await expect(page.getByTestId('nav-dashboard')).toBeVisible();
  await expect(page.getByTestId('nav-redeem')).toHaveCount(0);
  await expect(page.getByTestId('nav-users')).toHaveCount(0);
  await expect(page.getByTestId('nav-organisations')).toHaveCount(0);

  await page.getByTestId('nav-licences').click();
  await expect(page.getByTestId('licence-row').first()).toBeVisible();
  await expect(page.getByTestId('add-licence')).toHaveCount(0);
  await expect(page.getByTestId('pause-licence')).toHaveCount(0);
  await expect(page.getByTestId('delete-licence')).toHaveCount(0);
  await snap(page, 'viewer-licences');

  // Filter chips toggle (orange while active) and live in the URL.
  const soon = page.getByTestId('filter-expiring-soon');
  await soon.click();
  await expect(page).toHaveURL(/expiring=soon/);
  await expect(soon).toHaveAttribute('aria-pressed', 'true');
  await soon.click();
  await expect(page).not.toHaveURL(/expiring=/);
  await expect(soon).toHaveAttribute('aria-pressed', 'false');
  // A search that matches nothing says so, with a way out.
  await page.getByTestId('licence-search').fill('no-such-licence-anywhere');
  await expect(page.getByTestId('empty-state')).toContainText('No licences match these filters');
  await page.getByTestId('clear-filters').first().click();
  await expect(page.getByTestId('licence-row').first()).toBeVisible();

  // A stale access token: the console refreshes it once and carries on.
  await page.evaluate(() => localStorage.setItem('access_token', 'expired-or-garbage'));
  await page.reload();
  await expect(page.getByTestId('licence-row').first()).toBeVisible();
  await expect(page.getByTestId('current-user')).toContainText('viewer@northwind.example');
  expect(await page.evaluate(() => localStorage.getItem('access_token'))).not.toBe('expired-or-garbage');

  // Both tokens unusable: back to the sign-in page.
  await page.evaluate(() => {
    localStorage.setItem('access_token', 'garbage');
    localStorage.setItem('refresh_token', 'garbage');
  });
  await page.reload();
  await expect(page).toHaveURL(/\/login/);
});

test('a vendor admin adds an organisation, a user and an API key', async ({ page }) => {
  const stamp = Date.now().toString(36);
  const organisation = `E2E Org ${stamp}`;
  const email = `e2e-${stamp}@example.org`;
  await signIn(page, 'admin@vendor.example');

  // Organisation (the dialog validates before it asks the server).
  await page.getByTestId('nav-organisations').click();
  await page.getByTestId('add-organisation').click();
  await expect(page.getByTestId('organisation-name')).toBeFocused();
  await page.getByTestId('dialog-confirm').click();
  await expect(page.getByTestId('org-name-error')).toBeVisible();
  await page.getByTestId('organisation-name').fill(organisation);
  await snap(page, 'add-organisation');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, `Organisation ${organisation} created`)).toBeVisible();
  await page.getByTestId('organisation-search').fill(organisation);
  await expect(page.getByTestId('organisation-row')).toHaveCount(1);

  // A user of that organisation.
  await page.getByTestId('nav-users').click();
  await page.getByTestId('add-user').click();
  await page.getByTestId('user-email').fill(email);
  await page.getByTestId('user-name').fill('E2E Person');
  await page.getByTestId('user-password').fill('short');
  await page.getByTestId('user-role').selectOption('org_viewer');
  const org = page.getByTestId('user-organisation').locator('option', { hasText: organisation });
  await page.getByTestId('user-organisation').selectOption((await org.getAttribute('value')) ?? '');
  await page.getByTestId('dialog-confirm').click();
  await expect(page.getByTestId('user-password-error')).toBeVisible();
  await page.getByTestId('user-password').fill('a-long-enough-password');
  await snap(page, 'add-user');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, `User ${email} added`)).toBeVisible();
  await page.getByTestId('user-search').fill(email);
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  await expect(page.getByTestId('user-row')).toContainText(organisation);

  // A licence assigned to that organisation and its new user.
  await page.getByTestId('nav-licences').click();
  await page.getByTestId('add-licence').click();
  const viewer = page.getByTestId('licence-product').locator('option', { hasText: 'Viewer Floating' });
  await page.getByTestId('licence-product').selectOption((await viewer.getAttribute('value')) ?? '');
  await page.getByTestId('licence-plan').selectOption('monthly');
  await page.getByTestId('licence-name').fill(`E2E assigned ${stamp}`);
  await page.getByTestId('licence-quantity').fill('0');
  await page.getByTestId('owner-organisation').check();
  await page.getByTestId('licence-save').click();
  await expect(page.getByTestId('licence-quantity-error')).toBeVisible();
  await expect(page.getByTestId('licence-organisation-error')).toBeVisible();
  await page.getByTestId('licence-quantity').fill('2');
  const target = page.getByTestId('licence-organisation').locator('option', { hasText: organisation });
  await page.getByTestId('licence-organisation').selectOption((await target.getAttribute('value')) ?? '');
  const person = page.getByTestId('licence-user').locator('option', { hasText: email });
  await expect(person).toHaveCount(1);
  await page.getByTestId('licence-user').selectOption((await person.getAttribute('value')) ?? '');
  await snap(page, 'add-assigned-licence');
  await page.getByTestId('licence-save').click();
  await expect(toast(page, 'Licence created')).toBeVisible();
  await expect(page.getByTestId('status-pill')).toHaveText('Active');
  await expect(page.getByTestId('licence-owner')).toContainText(organisation);
  await expect(page.getByTestId('licence-owner')).toContainText(email);
  await page.getByTestId('nav-users').click();

  // An API key, whose secret is shown once.
  await page.getByTestId('tab-keys').click();
  await page.getByTestId('create-api-key').click();
  await page.getByTestId('api-key-name').fill(`E2E key ${stamp}`);
  await page.getByTestId('scope-licences-write').check();
  await snap(page, 'create-api-key');
  await page.getByTestId('dialog-confirm').click();
  const secret = page.getByTestId('api-key-secret');
  await expect(secret).toBeVisible();
  expect((await secret.inputValue()).length).toBeGreaterThan(16);
  await page.getByTestId('api-key-copy').click();
  await expect(toast(page, 'Copied the API key')).toBeVisible();
  await snap(page, 'api-key-secret');
  await page.keyboard.press('Escape');
  const keyRow = page.getByTestId('api-key-row').filter({ hasText: `E2E key ${stamp}` });
  await expect(keyRow).toBeVisible();
  await keyRow.getByTestId('revoke-api-key').click();
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'revoked')).toBeVisible();
  await expect(keyRow).toContainText('Revoked');
});

import { test, expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Northwind's demo "Viewer Floating" concurrent pool (`leasehold demo`): four
// members hold a seat, each from one client. The other specs leave this pool's
// seats alone (console.spec.ts only adds a Viewer Floating licence, which raises
// the capacity), so the capacity is read, not assumed.
const PASSWORD = 'leasehold-demo';
const ADMIN = 'admin@northwind.example';
const VIEWER = 'viewer@northwind.example';
const NURSE = 'nurse@northwind.example';
const KOWALSKI = 'dr.kowalski@northwind.example';
const HOLDERS = [
  { email: NURSE, name: 'Nina Nurse', client: 'reception-pc-1' },
  { email: 'dr.ahmed@northwind.example', name: 'Dr Samira Ahmed', client: 'surgery-laptop' },
  { email: KOWALSKI, name: 'Dr Piotr Kowalski', client: 'home-office' },
  { email: 'reception@northwind.example', name: 'Front Reception', client: 'reception-pc-2' },
];

// Emptied by global-setup.ts; this spec's screenshots are numbered from 50.
const SHOTS = path.join(__dirname, '..', 'screenshots');

async function snap(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

async function signIn(page: Page, email: string, landing: RegExp) {
  await page.goto('/login');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL(landing);
  await expect(page.getByTestId('current-user')).toContainText(email);
}

async function signOut(page: Page) {
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login/);
}

function toast(page: Page, text: string | RegExp): Locator {
  return page.getByTestId('toast').filter({ hasText: text });
}

function session(page: Page, email: string): Locator {
  return page.locator(`[data-testid="session-row"][data-email="${email}"]`);
}

function viewerUsage(page: Page): Locator {
  return page.locator('[data-testid="session-usage"][data-product="Viewer Floating"]').getByTestId('usage-line');
}

/**
 * The demo's seats were checked out minutes before the server started, and a
 * seat whose app stops renewing lapses: the members' apps are still running, so
 * they renew their seats now (a checkout from the same client renews the seat it
 * holds). An integration key of the organisation does it for them.
 */
async function renewDemoSeats(page: Page) {
  const token = await page.evaluate(() => localStorage.getItem('access_token'));
  const auth = { Authorization: `Bearer ${token}` };
  const pools = await (await page.request.get('/v1/pools?per_page=100', { headers: auth })).json();
  const pool = pools.items.find((p: { product_name: string }) => p.product_name === 'Viewer Floating');
  expect(pool, 'the Viewer Floating pool').toBeTruthy();
  const users = await (await page.request.get('/v1/users?per_page=100', { headers: auth })).json();
  const created = await page.request.post('/v1/api-keys', {
    headers: auth,
    data: { name: 'E2E seat renewal', scopes: ['sessions:write'] },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  const key = await created.json();
  for (const holder of HOLDERS) {
    const user = users.items.find((u: { email: string }) => u.email === holder.email);
    expect(user, holder.email).toBeTruthy();
    const renewed = await page.request.post('/v1/sessions', {
      headers: { Authorization: `Bearer ${key.key}` },
      data: { product_id: pool.product_id, user_id: user.id, client_id: holder.client },
    });
    expect([200, 201], await renewed.text()).toContain(renewed.status());
  }
  const revoked = await page.request.delete(`/v1/api-keys/${key.id}`, { headers: auth });
  expect(revoked.ok()).toBeTruthy();
}

test.describe.configure({ mode: 'serial' });

test('an organisation admin sees who holds the concurrent seats and force-releases one', async ({ page }) => {
  await signIn(page, ADMIN, /\/licences/);
  await renewDemoSeats(page);
  await page.getByTestId('nav-sessions').click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sessions');

  // The four holders, their clients, all renewing on time.
  await expect(page.getByTestId('session-row')).toHaveCount(4);
  for (const holder of HOLDERS) {
    const row = session(page, holder.email);
    await expect(row.getByTestId('session-holder')).toHaveText(holder.name);
    await expect(row.getByTestId('session-client')).toHaveText(holder.client);
    await expect(row.getByTestId('session-state')).toHaveAttribute('data-state', 'active');
    await expect(row.getByTestId('session-state')).toContainText('Active');
    await expect(row.getByTestId('session-until')).toHaveText(/^in \d+ min$/);
  }
  await expect(session(page, NURSE).getByTestId('session-granted')).toHaveAttribute('title', /^Signed in /);
  const line = viewerUsage(page);
  await expect(line).toHaveText(/^4 of \d+ seats in use$/);
  const capacity = Number(((await line.textContent()) ?? '').match(/of (\d+)/)?.[1]);
  expect(capacity).toBeGreaterThanOrEqual(10);
  await expect(page.getByTestId('session-count')).toHaveText('4 sessions');
  await snap(page, '50-sessions');

  // Search by holder, then the product filter (the URL keeps both).
  await page.getByTestId('session-search').fill('kowalski');
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  await expect(page).toHaveURL(/[?&]q=kowalski/);
  await page.getByTestId('clear-filters').click();
  await expect(page.getByTestId('session-row')).toHaveCount(4);
  await expect(page.getByTestId('session-search')).toHaveValue('');
  const product = page.getByTestId('filter-product').locator('option', { hasText: 'Viewer Floating' });
  await page.getByTestId('filter-product').selectOption((await product.getAttribute('value')) ?? '');
  await expect(page).toHaveURL(/[?&]product=/);
  await expect(page.getByTestId('session-row')).toHaveCount(4);

  // Force release, by keyboard: Escape backs out, Enter on the button opens the
  // confirmation again, whose Cancel has the focus.
  const kowalski = session(page, KOWALSKI);
  await kowalski.getByTestId('force-release').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('confirm-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('dialog-cancel')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(kowalski.getByTestId('force-release')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toContainText("Release Dr Piotr Kowalski's seat on home-office?");
  await expect(dialog).toContainText('the next member waiting gets it');
  await snap(page, '51-sessions-force-release');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, "Released Dr Piotr Kowalski's seat on home-office")).toBeVisible();
  await expect(dialog).toHaveCount(0);
  await expect(kowalski).toHaveCount(0);
  await expect(page.getByTestId('session-row')).toHaveCount(3);
  await expect(line).toHaveText(`3 of ${capacity} seats in use`);
  await expect(page.getByTestId('session-count')).toHaveText('3 sessions');
  await snap(page, '52-sessions-after');

  // A manual refresh keeps the list as it is.
  await page.getByTestId('sessions-refresh').click();
  await expect(page.getByTestId('sessions-updated')).toContainText('Updated');
  await expect(page.getByTestId('session-row')).toHaveCount(3);
});

test('an organisation admin changes the lease settings of a concurrent pool', async ({ page }) => {
  await signIn(page, ADMIN, /\/licences/);
  await page.getByTestId('nav-dashboard').click();
  const card = page.locator('[data-testid="pool-card"][data-product="Viewer Floating"]');
  await expect(card.getByTestId('pool-lease')).toHaveText('15 min');
  await expect(card.getByTestId('pool-grace')).toHaveText('2 min');
  await expect(card.getByTestId('pool-idle')).toHaveText('Off');
  await expect(card.getByTestId('pool-linger')).toHaveText('Off');
  await expect(card.getByTestId('pool-lease-summary')).toContainText('reclaimed after 17 min');
  // Device pools have no leases.
  await expect(page.locator('[data-testid="pool-card"][data-product="CAD Pro"]').getByTestId('pool-lease-settings')).toHaveCount(0);

  await card.getByTestId('edit-lease-settings').click();
  const dialog = page.getByTestId('lease-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('lease-length')).toBeFocused();
  await expect(page.getByTestId('lease-length')).toHaveValue('15');
  await expect(page.getByTestId('lease-length-unit')).toHaveValue('min');

  // A grace period longer than the lease: the server refuses it, next to the input.
  await page.getByTestId('lease-length').fill('10');
  await page.getByTestId('lease-grace').fill('20');
  await page.getByTestId('dialog-confirm').click();
  await expect(page.getByTestId('lease-grace-error')).toContainText('not longer than the lease');
  await expect(page.getByTestId('lease-grace')).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog).toBeVisible();
  await snap(page, '55-lease-settings-error');

  // Lease 10 min, grace 1 min, idle timeout 30 min, linger 1 min.
  await page.getByTestId('lease-grace').fill('1');
  await expect(page.getByTestId('lease-grace-error')).toHaveCount(0);
  await page.getByTestId('lease-idle').fill('30');
  await expect(page.getByTestId('lease-idle-unit')).toHaveValue('min');
  await page.getByTestId('lease-linger').fill('1');
  await expect(page.getByTestId('lease-preview')).toContainText('reclaimed after 11 min');
  await page.getByTestId('lease-linger').press('Enter');
  await expect(toast(page, 'lease 10 min, grace 1 min, idle timeout 30 min, linger 1 min')).toBeVisible();
  await expect(dialog).toHaveCount(0);
  await expect(card.getByTestId('pool-lease')).toHaveText('10 min');
  await expect(card.getByTestId('pool-grace')).toHaveText('1 min');
  await expect(card.getByTestId('pool-idle')).toHaveText('30 min');
  await expect(card.getByTestId('pool-linger')).toHaveText('1 min');
  await expect(card.getByTestId('pool-lease-summary')).toContainText('renew their seat every 5 min');
  await card.scrollIntoViewIfNeeded();
  await snap(page, '53-lease-settings');

  // Kept after a reload; the card leads to the pool's sessions.
  await page.reload();
  await expect(card.getByTestId('pool-lease')).toHaveText('10 min');
  await card.getByTestId('pool-sessions').click();
  await expect(page).toHaveURL(/\/sessions\?product=/);
  await expect(page.getByTestId('session-row')).toHaveCount(3);
  await expect(page.locator('[data-testid="session-usage"]')).toHaveCount(1);
  await expect(viewerUsage(page).locator('xpath=..')).toContainText('Lease 10 min · grace 1 min');
});

test('a viewer sees who holds the seats but cannot release them', async ({ page }) => {
  await signIn(page, VIEWER, /\/licences/);
  await page.getByTestId('nav-sessions').click();
  await expect(page.getByTestId('session-row')).toHaveCount(3);
  await expect(session(page, NURSE)).toBeVisible();
  await expect(page.getByTestId('force-release')).toHaveCount(0);
  await expect(page.getByTestId('end-session')).toHaveCount(0);
  await expect(page.getByTestId('sessions-table').locator('thead th')).toHaveCount(7);
});

test('a member lands on their own sessions and signs out of a seat', async ({ page }) => {
  await signIn(page, NURSE, /\/sessions$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your sessions');
  // A member's sidebar: no licences (the API refuses them), no dashboard.
  await expect(page.getByTestId('nav-sessions')).toHaveAttribute('href', '/sessions');
  await expect(page.getByTestId('nav-licences')).toHaveCount(0);
  await expect(page.getByTestId('nav-dashboard')).toHaveCount(0);
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  const own = session(page, NURSE);
  await expect(own.getByTestId('session-client')).toHaveText('reception-pc-1');
  await expect(own.getByTestId('session-state')).toHaveAttribute('data-state', 'active');
  await expect(page.getByTestId('force-release')).toHaveCount(0);
  await expect(page.getByTestId('session-usage')).toHaveCount(0);
  await snap(page, '54-member-sessions');

  // Signing out of the seat: with the linger set above, the seat waits a minute
  // for the same client.
  await own.getByTestId('end-session').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Sign out of Viewer Floating on reception-pc-1?');
  await page.getByTestId('dialog-confirm').click();
  await expect(toast(page, 'Signed out of Viewer Floating on reception-pc-1')).toBeVisible();
  await expect(own.getByTestId('session-state')).toHaveAttribute('data-state', 'lingering');
  await expect(own.getByTestId('end-session')).toHaveCount(0);

  // Licences are not for members: a deep link explains and leads back.
  await page.goto('/licences');
  await expect(page.getByTestId('empty-state')).toContainText("You don't have access to this page");
  await page.getByTestId('empty-state').getByRole('link', { name: 'Go to your sessions' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await signOut(page);
});

import { test, expect, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Reports over the demo's four weeks of Northwind CAD Pro history, the
// month-end additions (pools.spec.ts bought seats and topped up this month)
// with the CSV download, and invoices: selecting licences with an owner,
// sending, the Invoices screen, the printable page and marking paid.
// Screenshots of this spec are numbered from 70.
const PASSWORD = 'leasehold-demo';
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

test('reports with charts and the additions CSV; invoices selected, sent, printed and paid', async ({ page }) => {
  await signIn(page, 'admin@northwind.example');
  await page.getByTestId('nav-reports').click();
  await expect(page).toHaveURL(/\/reports$/);
  await page.getByTestId('report-pool').selectOption({ label: 'CAD Pro' });
  const summary = page.getByTestId('report-summary');
  await expect(summary).toBeVisible();
  // Four weeks of working days on 14 seats: used, never above capacity here.
  await expect(page.getByTestId('report-utilisation')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('report-peak')).toHaveText('14');
  await expect(page.getByTestId('report-denials')).not.toHaveText('0');
  await expect(page.getByTestId('chart-held').locator('polyline')).toHaveCount(3);
  await expect(page.getByTestId('chart-utilisation').locator('rect')).toHaveCount(30);
  await expect(page.getByTestId('chart-additions').locator('rect').first()).toBeVisible();
  await expect(page.getByTestId('report-added')).not.toHaveText('0');
  await snap(page, '70-report-30-days');

  await page.getByTestId('report-period').selectOption('12w');
  await expect(page.getByTestId('chart-utilisation').locator('rect')).toHaveCount(12);
  await page.getByTestId('report-period').selectOption('custom');
  await page.getByTestId('report-bucket').selectOption('week');
  await expect(page.getByTestId('chart-utilisation').locator('rect')).not.toHaveCount(30);
  // A period reaching today stops at now.
  await expect(page.getByTestId('report-until')).toContainText('figures up to');
  await snap(page, '71-report-custom-weeks');
  // A range being typed says what is wrong rather than spinning.
  const from = await page.getByTestId('report-from').inputValue();
  const to = await page.getByTestId('report-to').inputValue();
  await page.getByTestId('report-from').fill(to);
  await page.getByTestId('report-to').fill(from);
  await expect(page.getByTestId('report-range-problem')).toContainText('swap them');
  await snap(page, '71b-report-range-backwards');
  await page.getByTestId('report-from').fill(from);
  await page.getByTestId('report-to').fill(to);
  await expect(page.getByTestId('report-range-problem')).toHaveCount(0);
  await expect(page.getByTestId('report-summary')).toBeVisible();

  // The month-end additions: the table and its CSV.
  const additions = page.getByTestId('additions-table');
  await expect(additions).toContainText('Purchase');
  await expect(additions).toContainText('Automatic top-up');
  const download = page.waitForEvent('download');
  await page.getByTestId('additions-download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^leasehold-additions-\d{4}-\d{2}\.csv$/);
  const csv = fs.readFileSync(await file.path(), 'utf8');
  expect(csv.split('\r\n')[0]).toBe('month,organisation_id,organisation,product_code,product,source,licences,seats,amount,currency');
  expect(csv).toContain('automatic');

  // Invoices: the vendor selects licences; only those with an owning user can be.
  await page.getByTestId('sign-out').click();
  await signIn(page, 'admin@vendor.example');
  const owned = page.locator('[data-testid="licence-row"]', { hasText: 'Northwind reception viewers' });
  const unowned = page.locator('[data-testid="licence-row"]', { hasText: 'Northwind surgery suite' });
  await expect(unowned.getByTestId('licence-select')).toBeDisabled();
  await owned.getByTestId('licence-select').check();
  await expect(page.getByTestId('selection-count')).toHaveText('1 of 20 selected');
  await expect(page.getByTestId('selection-total')).toHaveText('Total €90.00');
  await snap(page, '72-licences-selected');
  await page.getByTestId('send-invoices').click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm).toContainText('Send 1 invoice?');
  await confirm.getByTestId('dialog-confirm').click();
  await expect(toast(page, '1 invoice sent')).toBeVisible();
  await expect(page.getByTestId('selection-bar')).toHaveCount(0);
  await expect(owned.getByTestId('billing-pill')).toHaveAttribute('data-status', 'invoiced');
  // Sending it again reports the earlier invoice instead of billing twice.
  await owned.getByTestId('licence-select').check();
  await page.getByTestId('send-invoices').click();
  await page.getByTestId('confirm-dialog').getByTestId('dialog-confirm').click();
  await expect(toast(page, 'No invoice sent · 1 already invoiced for this period')).toBeVisible();

  await page.getByTestId('nav-invoices').click();
  await expect(page).toHaveURL(/\/invoices$/);
  const row = page.getByTestId('invoice-row').first();
  await expect(row).toContainText('Northwind reception viewers');
  await expect(row).toContainText('€90.00');
  await expect(row.getByTestId('invoice-status')).toHaveAttribute('data-status', 'sent');
  await snap(page, '73-invoices');
  await row.getByTestId('invoice-link').click();
  await expect(page).toHaveURL(/\/invoices\/[0-9a-f-]+$/);
  await expect(page.getByTestId('invoice-sheet')).toContainText('nurse@northwind.example');
  await expect(page.getByTestId('invoice-total')).toHaveText('€90.00');
  await snap(page, '74-invoice-printable');
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.sidebar')).toBeHidden();
  await page.emulateMedia({ media: 'screen' });

  await page.goBack();
  // Paid from the "Sent" filter: the row leaves the list at once.
  await page.getByTestId('invoice-status-filter').selectOption('sent');
  await expect(page.getByTestId('invoice-row')).toHaveCount(1);
  await page.getByTestId('invoice-row').first().getByTestId('invoice-mark-paid').click();
  await page.getByTestId('confirm-dialog').getByTestId('dialog-confirm').click();
  await expect(toast(page, /marked paid/)).toBeVisible();
  await expect(page.getByTestId('invoices-table')).toContainText('No invoices');
  await snap(page, '75-invoices-paid-filter');
  await page.getByTestId('invoice-status-filter').selectOption('');
  await expect(page.getByTestId('invoice-row').first().getByTestId('invoice-status')).toHaveAttribute('data-status', 'paid');

  // At most 20 at once, counted across pages: twenty more licences of the
  // nurse's (made over the API), all picked on page 1, then a 21st on page 2.
  const token = await page.evaluate(() => localStorage.getItem('access_token'));
  const headers = { Authorization: `Bearer ${token}` };
  const found = await page.request.get('/v1/licences?q=reception', { headers });
  const template = (await found.json()).items[0];
  for (let i = 0; i < 20; i++) {
    const created = await page.request.post('/v1/licences', {
      headers,
      data: {
        product_id: template.product_id,
        plan: 'monthly',
        name: `Bulk seat ${i + 1}`,
        quantity: 1,
        owner_organisation_id: template.owner_organisation_id,
        owner_user_id: template.owner_user_id,
      },
    });
    expect(created.status()).toBe(201);
  }
  await page.getByTestId('nav-licences').click();
  const bulk = page.locator('[data-testid="licence-row"]', { hasText: 'Bulk seat' });
  await expect(bulk).toHaveCount(20);
  for (let i = 0; i < 20; i++) {
    await bulk.nth(i).getByTestId('licence-select').check();
  }
  await expect(page.getByTestId('selection-count')).toHaveText('20 of 20 selected');
  await expect(page.getByTestId('selection-total')).toHaveText('Total €180.00');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/page=2/);
  const late = page.locator('[data-testid="licence-row"]', { hasText: 'Northwind reception viewers' });
  await late.getByTestId('licence-select').click();
  await expect(toast(page, 'At most 20 licences can be invoiced at once.')).toBeVisible();
  await expect(late.getByTestId('licence-select')).not.toBeChecked();
  await expect(page.getByTestId('selection-count')).toHaveText('20 of 20 selected');
  await snap(page, '76-selection-limit');
});

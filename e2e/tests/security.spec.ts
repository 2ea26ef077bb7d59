import { test, expect, type Page } from '@playwright/test';

// The console and the API docs run under their Content-Security-Policy: no
// script, style or WebAssembly the page needs is refused (the browser reports
// each refusal as a securitypolicyviolation event and a console error).
const PASSWORD = 'leasehold-demo';

function watchViolations(page: Page): string[] {
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });
  return refused;
}

test('the console and the API docs run under their Content-Security-Policy', async ({ page }) => {
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Refused to load ${e.blockedURI} (${e.violatedDirective})`);
    });
  });
  const refused = watchViolations(page);
  const response = await page.goto('/login');
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).toMatch(/'sha256-[A-Za-z0-9+/=]+'/);
  expect(policy).not.toContain("'unsafe-eval'");
  expect(response?.headers()['x-frame-options']).toBe('DENY');
  await page.getByTestId('login-email').fill('admin@northwind.example');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('current-user')).toContainText('admin@northwind.example');
  // Charts draw with inline attributes; the pages with the most of them.
  await page.getByTestId('nav-reports').click();
  await expect(page.getByTestId('chart-utilisation').locator('rect').first()).toBeVisible();
  await page.getByTestId('nav-dashboard').click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const docs = await page.goto('/docs/');
  expect(docs?.headers()['content-security-policy']).toContain("default-src 'self'");
  await expect(page.locator('.opblock').first()).toBeVisible();
  const api = await page.request.get('/v1/openapi.json');
  expect(api.headers()['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(refused).toEqual([]);
});

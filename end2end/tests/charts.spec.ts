import { test, expect, Page } from '@playwright/test';
import { createDeal, drawn, logIn, open, sideBySide } from '../helpers';

/** The rows of a chart's table view as text cells. */
async function tableRows(page: Page, id: string): Promise<string[][]> {
  return page
    .getByTestId(id)
    .getByTestId('chart-table')
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => Array.from(r.children).map((c) => (c.textContent ?? '').trim())));
}

test('charts load ECharts only where shown, draw the table figures and switch to a table', async ({ page }, info) => {
  await logIn(page, 'head1@voronka.demo');
  await open(page, '/board');
  await expect(page.getByTestId('board')).toBeVisible();
  expect(await page.evaluate(() => typeof (window as any).echarts)).toBe('undefined');
  await expect(page.locator('script#echarts-script')).toHaveCount(0);

  await open(page, '/funnel');
  // A whole year, so every chart has figures even on the first day of a month.
  await page.getByTestId('funnel-period').selectOption('this_year');
  await expect(page.getByTestId('period')).toHaveText(/^\d{4}-01-01 — /);
  const funnelChart = page.getByTestId('chart-funnel');
  await expect(funnelChart.locator('canvas')).toBeVisible();
  expect(await page.evaluate(() => typeof (window as any).echarts)).toBe('object');

  // The funnel drawing holds exactly the figures of its table and of the step table.
  const rows = await tableRows(page, 'chart-funnel');
  expect(rows.length).toBeGreaterThan(2);
  expect(await drawn(page, 'chart-funnel', 0)).toEqual(rows.map(([name, deals]) => [name, Number(deals)]));
  const firstStep = page.locator('tr[data-stage]').first().getByTestId('step-deals');
  expect(Number(rows[0][1])).toBe(Number(await firstStep.getAttribute('data-value')));

  // Day by day: one point per day of the period, the same as the table's.
  const days = await tableRows(page, 'chart-daily');
  expect(days.length).toBeGreaterThan(0);
  expect(await drawn(page, 'chart-daily', 0)).toEqual(days.map((d) => Number(d[1])));
  expect(days.reduce((sum, d) => sum + Number(d[1]), 0)).toBe(Number(rows[0][1]));

  // Per manager: every manager of the by-manager table.
  const managers = page.getByTestId('chart-managers');
  await expect(managers.locator('canvas')).toBeVisible();
  const managerRows = await tableRows(page, 'chart-managers');
  await expect(page.getByTestId('by-manager').locator('tbody tr')).toHaveCount(managerRows.length);
  expect(await drawn(page, 'chart-managers', 0)).toEqual(managerRows.map((r) => Number(r[1])).reverse());

  // The table view, by mouse and back by keyboard; the table is always there for screen readers.
  const daily = page.getByTestId('chart-daily');
  const toggle = daily.getByTestId('chart-toggle');
  await expect(daily.getByTestId('chart-table')).toHaveClass(/sr-only/);
  await expect(daily.locator('.chart-canvas')).toHaveAttribute('aria-hidden', 'true');
  await expect(toggle).toHaveAttribute('aria-controls', 'chart-daily-table');
  await expect(daily.getByTestId('chart-table')).not.toHaveAttribute('tabindex');
  await toggle.click();
  await expect(daily.getByTestId('chart-table')).not.toHaveClass(/sr-only/);
  await expect(daily.getByTestId('chart-table')).toHaveAttribute('tabindex', '0');
  await expect(daily.locator('.chart-canvas')).toBeHidden();
  await expect(toggle).toHaveText('Показать графиком');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(daily.locator('canvas')).toBeVisible();
  await expect(toggle).toHaveText('Показать таблицей');

  // The drawings fit the screen; on a phone they stack.
  const viewport = page.viewportSize()!;
  const funnelBox = (await funnelChart.boundingBox())!;
  const dailyBox = (await daily.boundingBox())!;
  expect(funnelBox.width).toBeLessThanOrEqual(viewport.width);
  expect((await funnelChart.locator('canvas').boundingBox())!.width).toBeGreaterThan(200);
  if (info.project.name === 'phone') {
    expect(dailyBox.y).toBeGreaterThan(funnelBox.y + funnelBox.height - 1);
  } else {
    expect(dailyBox.y).toBe(funnelBox.y);
  }
});

test('the daily chart takes a new deal without reload', async ({ browser }, info) => {
  test.skip(info.project.name !== 'desktop', 'one run is enough: two browsers side by side');
  const { a: headPage, b: managerPage, contexts } = await sideBySide(browser, 'head1@voronka.demo', 'manager6@voronka.demo');
  await open(headPage, '/funnel');
  await expect(headPage.getByTestId('live')).toHaveClass(/on/);
  await expect(headPage.getByTestId('chart-daily').locator('canvas')).toBeVisible();
  const today = async () => (await drawn(headPage, 'chart-daily', 0)).at(-1) as number;
  const before = await today();

  await open(managerPage, '/board');
  await createDeal(managerPage, `График ${Date.now()}`, '15 000');

  await expect.poll(today, { timeout: 2_000 }).toBe(before + 1);
  const rows = await tableRows(headPage, 'chart-daily');
  expect(Number(rows.at(-1)![1])).toBe(before + 1);
  await Promise.all(contexts.map((c) => c.close()));
});

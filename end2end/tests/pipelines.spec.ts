import { test, expect, Page } from '@playwright/test';
import { logIn, open } from '../helpers';

/** A pipeline's card on the pipelines page, found by the name it was rendered with. */
function pipelineCard(page: Page, name: string) {
  return page.getByTestId('pipeline-card').filter({ has: page.locator(`input[value="${name}"]`) });
}

test('a head adds a stage to a pipeline, placed before won and lost', async ({ page }, info) => {
  await page.goto('/login');
  await page.waitForSelector('body[data-hydrated]');
  await page.getByLabel('E-mail').fill('head3@voronka.demo');
  await page.getByLabel('Пароль').fill('demo-pass-2026');
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByTestId('greeting')).toBeVisible();
  const nav = info.project.name === 'phone' ? 'main-phone' : 'main';
  await page.getByRole('navigation', { name: nav, exact: true }).getByRole('link', { name: 'Воронки' }).click();
  await page.waitForSelector('body[data-hydrated]');

  const repeat = pipelineCard(page, 'Повторные продажи');
  await expect(repeat.getByRole('textbox', { name: 'Имя' }).first()).toBeVisible();
  const before = await repeat.getByRole('textbox', { name: 'Имя' }).count();
  const name = `Доп ${info.project.name} ${Date.now() % 100000}`;
  await repeat.getByRole('textbox', { name: 'Добавить этап' }).fill(name);
  await repeat.getByRole('button', { name: 'Добавить' }).click();
  await expect(repeat.getByRole('textbox', { name: 'Имя' })).toHaveCount(before + 1);
  // It goes before the won and lost stages.
  const names = await repeat.getByRole('textbox', { name: 'Имя' }).evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
  expect(names.slice(-3)).toEqual([name, 'Успешно', 'Провалена']);
});

test('a head renames a pipeline and archives it, but not one with open deals', async ({ page }, info) => {
  await logIn(page, 'head2@voronka.demo');
  await open(page, '/pipelines');
  const name = `Тендеры ${info.project.name} ${Date.now() % 100000}`;
  await page.getByRole('textbox', { name: 'Добавить воронку' }).fill(name);
  await page.getByRole('button', { name: 'Добавить', exact: true }).last().click();
  const card = pipelineCard(page, name);
  await expect(card).toBeVisible();

  // Renamed in place: the new name is saved when the field is left.
  const renamed = `${name} 2026`;
  await card.getByRole('textbox', { name: 'Название воронки' }).fill(renamed);
  await card.getByRole('textbox', { name: 'Название воронки' }).press('Tab');
  const again = pipelineCard(page, renamed);
  await expect(again).toBeVisible();

  // The demo's sales pipeline has open deals: it stays, with a clear reason.
  await pipelineCard(page, 'Новые продажи').getByRole('button', { name: 'В архив' }).first().click();
  await expect(page.getByRole('alert')).toHaveText('Воронка: здесь ещё есть сделки: сначала закройте или переместите их');
  await expect(pipelineCard(page, 'Новые продажи').getByText('В архиве')).toHaveCount(0);

  // The new one is empty: archived, it leaves the board's choice; restored, it comes back.
  await again.getByRole('button', { name: 'В архив' }).first().click();
  await expect(again.getByText('В архиве', { exact: true })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await open(page, '/board');
  await expect(page.getByTestId('board-pipeline').locator('option', { hasText: 'Новые продажи' })).toHaveCount(1);
  await expect(page.getByTestId('board-pipeline').locator('option', { hasText: renamed })).toHaveCount(0);
  await open(page, '/pipelines');
  await pipelineCard(page, renamed).getByRole('button', { name: 'Вернуть' }).first().click();
  await expect(pipelineCard(page, renamed).getByText('В архиве', { exact: true })).toHaveCount(0);
});

/** Whole roubles of a column total such as "1 234 567 ₽". */
function rubles(text: string): number {
  return Number(text.replace(/[^0-9]/g, ''));
}

test('an admin sets a dollar rate; a deal priced in dollars shows dollars and counts roubles', async ({ page }, info) => {
  const phone = info.project.name === 'phone';
  await logIn(page, 'admin@voronka.demo');
  await open(page, '/pipelines');
  const usd = page.getByTestId('currency-rates').locator('form[data-currency="USD"]');
  const rate = usd.getByLabel('Рублей за 1 USD');
  await rate.fill('0');
  await usd.getByRole('button', { name: 'Сохранить' }).click();
  await expect(usd.getByRole('alert')).toHaveText('Цена в рублях: нужно значение больше нуля');
  // Both projects set the same rate, so neither run depends on the other's
  // timing; each waits for its own save's answer.
  await rate.fill('90,5');
  const saved = page.waitForResponse((r) => r.url().includes('/api/currencies/set'));
  await usd.getByRole('button', { name: 'Сохранить' }).click();
  expect((await saved).ok()).toBe(true);
  await expect(usd.getByRole('alert')).toHaveCount(0);
  await expect(usd.getByText(/изменён .* · Администратор/)).toBeVisible();
  await page.reload();
  await page.waitForSelector('body[data-hydrated]');
  await expect(page.getByTestId('currency-rates').locator('form[data-currency="USD"] input')).toHaveValue('90.5');

  // A manager on their own board: the new column's total grows by the deal's roubles.
  await page.context().clearCookies();
  await logIn(page, phone ? 'manager24@voronka.demo' : 'manager23@voronka.demo');
  await open(page, '/board');
  const first = page.locator('section.column').first();
  await expect(first.locator('.total')).toBeVisible();
  const before = rubles(await first.locator('.total').innerText());
  await page.getByRole('button', { name: 'Новая сделка' }).click();
  const form = page.locator('form.new-deal');
  const title = `Экспорт ${info.project.name} ${Date.now() % 100000}`;
  await form.getByLabel('Название').fill(title);
  await form.getByLabel('Валюта').selectOption('USD');
  await form.getByLabel('Сумма, $').fill('1 000');
  await form.getByRole('button', { name: 'Создать' }).click();
  const card = page.locator('[data-deal]', { hasText: title });
  await expect(card.locator('.amount')).toHaveText('1\u202f000\u00a0$');
  await expect(card.locator('.amount')).toHaveAttribute('title', '90\u202f500\u00a0₽');
  await expect.poll(async () => rubles(await first.locator('.total').innerText())).toBe(before + 90_500);

  // Its page keeps the dollars in the edit form and tells the roubles beside.
  await card.press('Enter');
  await expect(page.getByTestId('deal-amount')).toHaveText('1\u202f000\u00a0$');
  await expect(page.getByText('≈ 90\u202f500\u00a0₽ по курсу при сохранении')).toBeVisible();
});

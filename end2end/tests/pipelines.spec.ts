import { test, expect } from '@playwright/test';

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

  const repeat = page.locator('section.card', { has: page.getByRole('heading', { name: 'Повторные продажи' }) });
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

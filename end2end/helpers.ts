import { expect, Page } from '@playwright/test';

/** Every demo person has this password (see `voronka serve --demo`). */
export const PASSWORD = 'demo-pass-2026';

export async function logIn(page: Page, email: string) {
  await page.goto('/login');
  await page.waitForSelector('body[data-hydrated]');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Пароль').fill(PASSWORD);
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByTestId('greeting')).toBeVisible();
}

/** Opens a page of the app and waits until it reacts to input. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await page.waitForSelector('body[data-hydrated]');
}

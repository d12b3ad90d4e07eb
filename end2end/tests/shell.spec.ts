import { test, expect, Page } from '@playwright/test';

const PASSWORD = 'demo-pass-2026';

async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated]');
}

async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Пароль').fill(password);
  await page.getByRole('button', { name: 'Войти' }).click();
}

test('a wrong password gets a clear message in Russian', async ({ page }) => {
  await logIn(page, 'manager3@voronka.demo', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('Неверный e-mail или пароль.');
  await expect(page).toHaveURL(/\/login$/);
});

test('a manager logs in, sees the shell in Russian, switches to English and logs out', async ({ page }, info) => {
  // Each viewport signs in as its own manager: the language choice is saved per person.
  const email = info.project.name === 'phone' ? 'manager2@voronka.demo' : 'manager1@voronka.demo';
  await logIn(page, email);

  await expect(page.getByTestId('greeting')).toContainText('Здравствуйте');
  await expect(page.getByText('Менеджер', { exact: true })).toBeVisible();
  const nav = info.project.name === 'phone' ? 'main-phone' : 'main';
  const hidden = info.project.name === 'phone' ? 'main' : 'main-phone';
  await expect(page.getByRole('navigation', { name: nav, exact: true }).getByRole('link', { name: 'Главная' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: hidden, exact: true })).toBeHidden();
  // A manager may not administer the team, so the link is not offered.
  await expect(page.getByRole('link', { name: 'Команда' })).toHaveCount(0);

  await hydrated(page);
  await page.getByRole('button', { name: 'EN' }).filter({ visible: true }).click();
  await expect(page.getByTestId('greeting')).toContainText('Hello');
  await expect(page.getByRole('navigation', { name: nav, exact: true }).getByRole('link', { name: 'Home' })).toBeVisible();

  // The choice is stored on the server: a fresh page load is still English.
  await page.reload();
  await expect(page.getByTestId('greeting')).toContainText('Hello');

  await hydrated(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Войти' })).toBeVisible();
  // The session is gone on the server too.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a head sees the team of the department and the dark theme sticks', async ({ page }) => {
  await logIn(page, 'head2@voronka.demo');
  await expect(page.getByTestId('greeting')).toBeVisible();
  await hydrated(page);
  await page.getByRole('link', { name: 'Команда' }).filter({ visible: true }).click();
  const people = page.getByTestId('people');
  await expect(people).toBeVisible();
  // Department scope: 1 head + 8 managers of "Продажи регионы".
  await expect(people.locator('tbody tr')).toHaveCount(9);
  await expect(people).not.toContainText('Продажи Москва');

  await page.getByRole('link', { name: 'Профиль' }).filter({ visible: true }).click();
  await page.getByRole('button', { name: 'Тёмная' }).click();
  await expect(page.locator('.app')).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(page.locator('.app')).toHaveAttribute('data-theme', 'dark');
  await hydrated(page);
  await page.getByRole('button', { name: 'Светлая' }).click();
  await expect(page.locator('.app')).toHaveAttribute('data-theme', 'light');
});

test('an admin adds a person, and bad input is explained', async ({ page }, info) => {
  await logIn(page, 'admin@voronka.demo');
  await expect(page.getByTestId('greeting')).toBeVisible();
  await page.goto('/team');
  await hydrated(page);
  const form = page.locator('form.grid-form');
  const email = `new.${info.project.name}@voronka.demo`;
  await form.getByLabel('Имя').fill('Новый Сотрудник');
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Пароль').fill('short');
  await form.getByRole('button', { name: 'Добавить' }).click();
  await expect(form.getByRole('alert')).toHaveText('Пароль: не короче 8 символов');

  await form.getByLabel('Пароль').fill('long-enough-1');
  await form.getByRole('button', { name: 'Добавить' }).click();
  await expect(page.getByTestId('people')).toContainText(email);
});

test('unknown pages say so', async ({ page }) => {
  const resp = await page.goto('/no-such-page');
  expect(resp?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Страница не найдена' })).toBeVisible();
});

import { test, expect } from '@playwright/test';
import { logIn, open } from '../helpers';

test('a manager adds a lead, cannot refuse it without a reason, then turns another into a deal', async ({ page }, info) => {
  const email = info.project.name === 'phone' ? 'manager9@voronka.demo' : 'manager8@voronka.demo';
  await page.goto('/login');
  await page.waitForSelector('body[data-hydrated]');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Пароль').fill('demo-pass-2026');
  await page.getByRole('button', { name: 'Войти' }).click();
  await expect(page.getByTestId('greeting')).toBeVisible();

  await page.goto('/leads');
  await page.waitForSelector('body[data-hydrated]');
  await expect(page.getByTestId('leads')).toBeVisible();
  const title = `Заявка ${info.project.name} ${Date.now()}`;
  await page.getByRole('button', { name: 'Новый лид' }).click();
  await page.getByRole('button', { name: 'Создать' }).click();
  await expect(page.getByRole('alert')).toHaveText('Название: обязательное поле');
  await page.getByLabel('Название').fill(title);
  await page.getByLabel('Телефон').fill('+7 900 123-45-67');
  // A manager's leads are their own: there is nobody else to choose.
  await expect(page.getByTestId('lead-responsible')).toHaveCount(0);
  const mail = `lead-${info.project.name}-${Date.now()}@example.ru`;
  await page.getByLabel('E-mail').fill('нет-адреса');
  await page.getByRole('button', { name: 'Создать' }).click();
  await expect(page.getByRole('alert')).toHaveText('E-mail: это не похоже на адрес e-mail');
  await page.getByLabel('E-mail').fill(mail.toUpperCase());
  await page.getByRole('button', { name: 'Создать' }).click();

  const row = page.locator('tr', { hasText: title });
  await expect(row).toContainText('Новый');
  await expect(row).toContainText(mail);
  await expect(row.getByTestId('first-response')).toHaveText('ещё нет');

  // A call back is the lead's first response: a bad length changes nothing,
  // a good one is logged and shows how long the lead waited.
  await row.getByRole('button', { name: 'Записать звонок' }).click();
  const log = page.locator('form.log-activity');
  await log.getByLabel('Длительность, мин').fill('-1');
  await log.getByRole('button', { name: 'Записать' }).click();
  await expect(log.getByRole('alert')).toHaveText('Длительность, мин: не может быть отрицательной');
  await expect(row.getByTestId('first-response')).toHaveText('ещё нет');
  const note = `Перезвонил ${info.project.name} ${Date.now()}`;
  await log.getByLabel('Длительность, мин').fill('1,5');
  await log.getByLabel('Комментарий').fill(note);
  await log.getByRole('button', { name: 'Записать' }).click();
  await expect(log).toBeHidden();
  await expect(row.getByTestId('first-response')).toHaveText(/^\d+ мин$/);
  await expect(row).toContainText('Новый');
  await row.getByRole('button', { name: 'Изменить' }).click();
  const edit = page.getByTestId('edit-lead');
  await edit.getByLabel('Название').fill('');
  await edit.getByRole('button', { name: 'Сохранить' }).click();
  await expect(edit.getByRole('alert')).toHaveText('Название: обязательное поле');
  await edit.getByLabel('Название').fill(title);
  await edit.getByLabel('Телефон').fill('+7 900 765-43-21');
  await edit.getByRole('button', { name: 'Сохранить' }).click();
  await expect(edit).toBeHidden();
  await expect(row).toContainText('+7 900 765-43-21');
  await row.getByRole('button', { name: 'Отклонить' }).click();
  await row.getByRole('button', { name: 'Подтвердить' }).click();
  await expect(page.getByRole('alert')).toHaveText('Причина отказа: обязательное поле');
  await expect(row).toContainText('Новый');
  await row.getByLabel('Причина отказа').fill('Нет бюджета');
  await row.getByRole('button', { name: 'Подтвердить' }).click();
  await expect(row).toContainText('Отклонён');
  await expect(row).toContainText('Нет бюджета');

  await row.getByRole('button', { name: 'В работу' }).click();
  await expect(row).toContainText('В работе');
  await row.getByRole('button', { name: 'В сделку' }).click();
  await expect(row).toContainText('Сделка');
  await row.getByRole('link', { name: 'Открыть сделку' }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByTestId('deal-stage')).toHaveText('Новая');

  // The new client has the lead's phone and e-mail.
  await page.goto('/clients');
  await page.waitForSelector('body[data-hydrated]');
  await page.getByLabel('Поиск').fill(mail);
  const clients = page.getByTestId('clients').locator('tbody tr');
  await expect(clients).toHaveCount(1);
  await expect(clients.first()).toContainText(title);
  await expect(clients.first()).toContainText('+7 900 765-43-21');

  // The call is in the activities list, linked to the lead.
  await page.goto('/activities');
  await page.waitForSelector('body[data-hydrated]');
  const call = page.getByTestId('activities').locator('tr', { hasText: note });
  await expect(call).toContainText('1 мин 30 с');
  await expect(call.getByRole('link', { name: title })).toHaveAttribute('href', '/leads');
});

test('a head gives a new lead to a manager of the department', async ({ page }, info) => {
  await logIn(page, info.project.name === 'phone' ? 'head2@voronka.demo' : 'head1@voronka.demo');
  await open(page, '/leads');
  await expect(page.getByTestId('leads')).toBeVisible();

  const title = `Передан ${info.project.name} ${Date.now()}`;
  await page.getByRole('button', { name: 'Новый лид' }).click();
  await page.getByLabel('Название').fill(title);
  const responsible = page.getByTestId('lead-responsible');
  await expect(responsible).toHaveValue('');
  // The first colleague after "Я".
  const manager = (await responsible.locator('option').nth(1).textContent())!.trim();
  const me = (await page.getByTestId('who').textContent())!.trim();
  const someoneElse = manager === me ? (await responsible.locator('option').nth(2).textContent())!.trim() : manager;
  await responsible.selectOption({ label: someoneElse });
  await page.getByRole('button', { name: 'Создать' }).click();
  const row = page.locator('tr', { hasText: title });
  await expect(row).toContainText('Новый');
  await expect(row).toContainText(someoneElse);
});

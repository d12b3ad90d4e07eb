import { test, expect, Page } from '@playwright/test';
import { logIn, open } from '../helpers';

/** The amounts (in kopecks) of the deals list, top to bottom. */
async function amounts(page: Page): Promise<number[]> {
  const cells = page.getByTestId('deals').getByTestId('deal-amount');
  return (await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-kopecks')))).map(Number);
}

test('a call logged from a board card shows in the activities list', async ({ page }, info) => {
  await logIn(page, info.project.name === 'phone' ? 'manager11@voronka.demo' : 'manager10@voronka.demo');
  await open(page, '/board');
  const first = page.locator('[data-deal]').first();
  await expect(first).toBeVisible();
  const title = (await first.getAttribute('aria-label'))!;

  const call = first.getByRole('button', { name: 'Записать звонок' });
  if (info.project.name === 'phone') await call.tap();
  else await call.click();
  const dialog = page.getByTestId('call-dialog');
  await expect(dialog).toContainText(title);
  await dialog.getByLabel('Длительность, мин').fill('минута');
  await dialog.getByRole('button', { name: 'Записать' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Длительность, мин: введите число цифрами, например 12 500 или 2,5');
  const note = `Перезвонить ${info.project.name} ${Date.now()}`;
  await dialog.getByLabel('Длительность, мин').fill('2,5');
  await dialog.getByLabel('Комментарий').fill(note);
  await dialog.getByRole('button', { name: 'Записать' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('p.notice')).toContainText(title);

  await open(page, '/activities');
  await page.getByTestId('activities-kind').selectOption('call_out');
  const row = page.getByTestId('activities').locator('tr', { hasText: note });
  await expect(row).toContainText('2 мин 30 с');
  await expect(row.getByRole('link', { name: title })).toBeVisible();

  // The call was shorter: corrected in place, to the second.
  const edit = row.getByRole('button', { name: 'Изменить' });
  await edit.click();
  const form = page.getByTestId('edit-activity');
  await expect(form.getByLabel('Длительность, мин')).toHaveValue('2');
  await expect(form.getByLabel('и секунд')).toHaveValue('30');
  await form.getByLabel('Длительность, мин').press('Escape');
  await expect(form).toBeHidden();
  await edit.click();
  await form.getByLabel('Длительность, мин').fill('-1');
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form.getByRole('alert')).toContainText('Длительность, мин');
  await form.getByLabel('Длительность, мин').fill('1');
  await form.getByLabel('и секунд').fill('5');
  await form.getByLabel('Комментарий').fill(`${note} (исправлено)`);
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form).toBeHidden();
  const fixed = page.getByTestId('activities').locator('tr', { hasText: `${note} (исправлено)` });
  await expect(fixed).toContainText('1 мин 05 с');
});

test('the deals list sorts by a column header, both ways, and filters by state', async ({ page }, info) => {
  await logIn(page, info.project.name === 'phone' ? 'manager13@voronka.demo' : 'manager12@voronka.demo');
  await open(page, '/deals');
  const header = page.getByRole('columnheader', { name: 'Сумма' });
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect.poll(async () => { const a = await amounts(page); return a.length > 1 && a.every((x, i) => i === 0 || a[i - 1] >= x); }).toBe(true);
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(async () => { const a = await amounts(page); return a.length > 1 && a.every((x, i) => i === 0 || a[i - 1] <= x); }).toBe(true);

  const all = Number((await page.getByTestId('deals-total').innerText()).replace(/\D/g, ''));
  await page.getByTestId('deals-state').selectOption('won');
  await expect.poll(async () => Number((await page.getByTestId('deals-total').innerText()).replace(/\D/g, ''))).toBeLessThan(all);
});

test('a head hands a deal over to another manager and the history says so', async ({ page }, info) => {
  test.skip(info.project.name !== 'desktop', 'one handover is enough; the form is the same on a phone');
  await logIn(page, 'head2@voronka.demo');
  await open(page, '/deals');
  await page.getByTestId('deals').locator('tbody a').first().click();
  await expect(page.getByTestId('history')).toBeVisible();
  await page.getByRole('button', { name: 'Изменить сделку' }).click();
  const form = page.getByTestId('edit-deal');
  await form.getByLabel('Сумма, ₽').fill('-1');
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form.getByRole('alert')).toHaveText('Сумма: не может быть отрицательной');

  await form.getByLabel('Сумма, ₽').fill('77 000');
  const select = form.getByLabel('Ответственный');
  const current = await select.inputValue();
  const other = await select.locator(`option:not([value="${current}"])`).first();
  const otherName = (await other.innerText()).trim();
  await select.selectOption(await other.getAttribute('value'));
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form).toBeHidden();
  await expect(page.getByTestId('history').locator('li').first()).toContainText(`→ ${otherName}`);
  await expect(page.locator('.facts')).toContainText('77');
});

test('the client on a deal page opens the clients list found by that name', async ({ page }, info) => {
  await logIn(page, info.project.name === 'phone' ? 'manager19@voronka.demo' : 'manager18@voronka.demo');
  await open(page, '/deals');
  await page.getByTestId('deals').locator('tbody a').first().click();
  const link = page.getByTestId('deal-client');
  const name = (await link.innerText()).trim();
  expect(name).not.toBe('');
  await link.click();
  await expect(page).toHaveURL(/\/clients\?search=/);
  await expect(page.getByLabel('Поиск')).toHaveValue(name);
  const rows = page.getByTestId('clients').locator('tbody tr');
  await expect(rows.first()).toContainText(name);
});

test('a manager adds a client, gets a clear error for a bad e-mail, then finds it by search', async ({ page }, info) => {
  await logIn(page, info.project.name === 'phone' ? 'manager15@voronka.demo' : 'manager14@voronka.demo');
  await open(page, '/clients');
  await page.getByRole('button', { name: 'Новый клиент' }).click();
  const form = page.getByTestId('client-form');
  const name = `ИП Клиентов ${info.project.name} ${Date.now()}`;
  await form.getByLabel('Имя').fill(name);
  await form.getByLabel('E-mail').fill('нет-адреса');
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form.getByRole('alert')).toHaveText('E-mail: это не похоже на адрес e-mail');
  await form.getByLabel('E-mail').fill('client@example.ru');
  await form.getByRole('button', { name: 'Сохранить' }).click();
  await expect(form).toBeHidden();

  await page.getByLabel('Поиск').fill(name.toLowerCase());
  const rows = page.getByTestId('clients').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('client@example.ru');

  // A meeting about the client as a whole. Its time may be set back, but not
  // before the client existed nor ahead of now.
  await rows.first().getByRole('button', { name: 'Записать звонок' }).click();
  const log = page.locator('form.log-activity');
  await log.getByLabel('Тип').selectOption({ label: 'Встреча' });
  const local = (ms: number) => {
    const d = new Date(ms);
    const two = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
  };
  await log.getByTestId('activity-at').fill(local(Date.now() - 2 * 3_600_000));
  await log.getByRole('button', { name: 'Записать' }).click();
  await expect(log.getByRole('alert')).toHaveText('Когда: раньше, чем появилась запись, о которой речь');
  await log.getByTestId('activity-at').fill(local(Date.now() + 2 * 3_600_000));
  await log.getByRole('button', { name: 'Записать' }).click();
  await expect(log.getByRole('alert')).toHaveText('Когда: не может быть позже текущего момента');
  await log.getByTestId('activity-at').fill('');
  const note = `Встреча ${info.project.name} ${Date.now()}`;
  await log.getByLabel('Комментарий').fill(note);
  await log.getByRole('button', { name: 'Записать' }).click();
  await expect(log).toBeHidden();
  await expect(rows.first().getByRole('status')).toHaveText('Сохранено');

  await open(page, '/activities');
  const meeting = page.getByTestId('activities').locator('tr', { hasText: note });
  await expect(meeting).toContainText('Встреча');
  await expect(meeting.getByRole('link', { name })).toHaveAttribute('href', /^\/clients\?search=/);
});

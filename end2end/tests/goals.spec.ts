import { test, expect, Locator, Page } from '@playwright/test';
import { createDeal, drawn, logIn, open } from '../helpers';

/** A goal figure such as "1 250 000 ₽" as a number of roubles. */
function roubles(text: string | null): number {
  return Number((text ?? '').replace(/[^\d]/g, ''));
}

async function openGoals(page: Page) {
  await open(page, '/goals');
  await expect(page.getByTestId('live')).toHaveClass(/on/);
}

test('a head sets a monthly department plan, splits it, and sees a win arrive live', async ({ browser }, info) => {
  test.skip(info.project.name !== 'desktop', 'one run is enough: two browsers side by side');
  const head = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const manager = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const headPage = await head.newPage();
  const managerPage = await manager.newPage();
  await logIn(headPage, 'head1@voronka.demo');
  await openGoals(headPage);

  // The form explains what is wrong before anything is stored.
  const name = `План продаж ${Date.now()}`;
  await headPage.getByTestId('new-goal').click();
  const form = headPage.getByTestId('goal-form');
  await form.getByTestId('goal-name').fill(name);
  await form.getByTestId('goal-metric').selectOption('won_amount');
  await form.getByTestId('goal-target').fill('-5');
  await form.getByTestId('goal-save').click();
  await expect(form.getByRole('alert')).toHaveText('Целевое значение: не может быть отрицательной');
  await form.getByTestId('goal-target').fill('3 000 000');
  await form.getByTestId('goal-save').click();
  await expect(form.getByRole('alert')).toHaveText('Участники: обязательное поле');
  await form.getByTestId('goal-department').selectOption({ index: 1 });
  // The risk warning waits for a share of the period this goal chooses.
  await form.getByTestId('goal-risk-after').fill('150');
  await form.getByTestId('goal-save').click();
  await expect(form.getByRole('alert')).toHaveText('Предупреждать о риске после, % периода: слишком большое значение');
  await form.getByTestId('goal-risk-after').fill('60');
  await form.getByTestId('goal-save').click();
  await expect(form).toBeHidden();

  // Whose goals: the department's dashboard lists it beside its people's goals, and no company goal.
  await headPage.getByTestId('goals-tab-1').click();
  const whose = headPage.getByTestId('goals-whose');
  const companyGoals = headPage.getByTestId('goals').locator('article p.muted', { hasText: /^Вся компания · / });
  await expect(companyGoals.first()).toBeVisible();
  await whose.selectOption({ label: 'Продажи Москва' });
  await expect(companyGoals).toHaveCount(0);
  await expect(headPage.getByTestId('goals').getByRole('link', { name, exact: true })).toBeVisible();
  await expect(companyGoals).toHaveCount(0);
  await whose.selectOption({ label: 'Все участники' });
  // The dashboard as CSV: the new plan in roubles to the kopeck.
  const csv = decodeURIComponent((await headPage.getByTestId('goals-csv').getAttribute('href')) ?? '');
  expect(csv.split('\r\n').find((line) => line.startsWith(`${name},`))).toContain(',₽,');
  expect(csv).toContain(',3000000.00,');

  // Its page: split evenly among the department's people.
  // Straight to its page: live reloads redraw the list, so a click could land on its neighbour.
  await headPage.getByTestId('goals-tab-1').click();
  const link = headPage.getByRole('link', { name, exact: true });
  const goalPath = (await link.getAttribute('href'))!;
  await open(headPage, goalPath);
  await expect(headPage.getByTestId('goal-title')).toHaveText(name);
  // Its history reads as the form does: created, with the target in roubles.
  await expect(headPage.getByTestId('goal-history').locator('tr', { hasText: 'Создана' })).toContainText(/3\s000\s000/);
  await expect(headPage.getByTestId('live')).toHaveClass(/on/);
  await headPage.getByText('Разбить цель').click();
  await headPage.getByTestId('split-do').click();
  const children = headPage.getByTestId('goal-children');
  await expect(children).toBeVisible();
  await expect(children.locator('tr.subtotal')).toContainText(/3\s000\s000/);
  await expect(headPage.getByTestId('goal-mismatch')).toHaveCount(0);
  await expect(headPage.getByTestId('goal-ranking')).toBeVisible();
  const before = roubles(await headPage.getByTestId('goal-value').textContent());

  // A colleague of the seller watches the same plan: they may not see that
  // seller's deals, yet the department's figure moves for them live too.
  const colleague = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const colleaguePage = await colleague.newPage();
  await logIn(colleaguePage, 'manager3@voronka.demo');
  await open(colleaguePage, goalPath);
  await expect(colleaguePage.getByTestId('goal-title')).toHaveText(name);
  await expect(colleaguePage.getByTestId('live')).toHaveClass(/on/);
  const colleagueBefore = roubles(await colleaguePage.getByTestId('goal-value').textContent());

  // A manager of the department wins a deal on a phone.
  await logIn(managerPage, 'manager2@voronka.demo');
  await open(managerPage, '/board');
  await expect(managerPage.getByTestId('board')).toBeVisible();
  const title = `Победа ${Date.now()}`;
  const card = await createDeal(managerPage, title, '125 000');
  await card.getByLabel('Переместить сделку').selectOption({ label: 'Успешно' });
  await expect(managerPage.locator('section.column', { hasText: 'Успешно' }).locator('[data-deal]', { hasText: title })).toBeVisible();

  // The head's goal page moves without a reload.
  await expect
    .poll(async () => roubles(await headPage.getByTestId('goal-value').textContent()), { timeout: 2_000 })
    .toBe(before + 125_000);
  // The day-by-day chart is drawn again in place: the fact line ends at today's value.
  await expect(headPage.getByTestId('chart-dynamics').locator('canvas')).toBeVisible();
  await expect.poll(async () => (await drawn(headPage, 'chart-dynamics', 1)).at(-1), { timeout: 2_000 }).toBe(before + 125_000);
  await expect
    .poll(async () => roubles(await colleaguePage.getByTestId('goal-value').textContent()), { timeout: 2_000 })
    .toBe(colleagueBefore + 125_000);
  const who = (await managerPage.getByTestId('who').textContent()) ?? '';
  await expect(headPage.getByTestId('goal-ranking').locator('tr', { hasText: who })).toBeVisible();

  // The manager's own goals are one tap away.
  await managerPage.getByRole('navigation', { name: 'main-phone' }).getByRole('link', { name: 'Цели' }).tap();
  await expect(managerPage.getByTestId('goals')).toContainText(name);
  await head.close();
  await manager.close();
  await colleague.close();
});

test('a manager reads goals but changes none, on a phone and a desktop', async ({ page }) => {
  await logIn(page, 'manager9@voronka.demo');
  await openGoals(page);
  await expect(page.getByTestId('new-goal')).toHaveCount(0);
  await page.getByTestId('goals-tab-2').click();
  await expect(page.getByTestId('goals').or(page.getByText('Закрытых целей пока нет.'))).toBeVisible();
  await page.getByTestId('goals-tab-0').click();
  await expect(page.getByTestId('notices')).toBeVisible();
});

test('unread goal notifications wait on the goals link until read', async ({ page }, info) => {
  // The goals job raised each head's daily summaries when the server started.
  const phone = info.project.name === 'phone';
  await logIn(page, phone ? 'head3@voronka.demo' : 'head1@voronka.demo');
  const nav = page.getByRole('navigation', { name: phone ? 'main-phone' : 'main', exact: true });
  const badge = nav.getByTestId('nav-unread');
  await expect(badge).toBeVisible();
  expect(Number(((await badge.textContent()) ?? '').match(/\d+/)?.[0])).toBeGreaterThan(0);
  await expect(badge).toContainText('непрочитанных уведомлений');

  const goals = nav.getByRole('link', { name: 'Цели' });
  if (phone) await goals.tap();
  else await goals.click();
  // The page's list and the badge agree (the badge counts again once the list is read).
  const notices = page.getByTestId('notices');
  const figure = async (l: Locator) => Number(((await l.textContent()) ?? '').match(/\d+/)?.[0]);
  await expect
    .poll(async () => (await figure(notices.getByTestId('notices-unread'))) - (await figure(badge)))
    .toBe(0);
  await notices.locator('summary').click();
  await notices.getByRole('button', { name: 'Отметить прочитанными' }).click();
  await expect(notices.getByTestId('notices-unread')).toHaveText('0');
  await expect(badge).toHaveCount(0);
  // And it stays gone on other pages.
  await nav.locator('a[href="/deals"]').click();
  await expect(page).toHaveURL(/\/deals$/);
  await expect(nav.getByRole('link', { name: 'Цели' })).toBeVisible();
  await expect(badge).toHaveCount(0);
});

test('progress recorded on a manual goal is listed on its page with who and why', async ({ page }) => {
  await logIn(page, 'head1@voronka.demo');
  await openGoals(page);
  const name = `Обучение ${Date.now()}`;
  await page.getByTestId('new-goal').click();
  const form = page.getByTestId('goal-form');
  await form.getByTestId('goal-name').fill(name);
  await form.getByTestId('goal-metric').selectOption('manual');
  await form.getByTestId('goal-target').fill('5');
  await form.getByTestId('goal-participants').selectOption('user');
  await form.getByTestId('goal-person').selectOption({ index: 1 });
  await form.getByTestId('goal-save').click();
  await expect(form).toBeHidden();
  // A person's goal is in "Все", not among the head's own.
  await page.getByTestId('goals-tab-1').click();
  const link = page.getByTestId('goals').getByRole('link', { name, exact: true });
  await open(page, (await link.getAttribute('href'))!);
  await expect(page.getByTestId('goal-title')).toHaveText(name);
  await expect(page.getByTestId('goal-entries-empty')).toHaveText('Пока никто ничего не отметил.');

  const record = page.getByTestId('record-form');
  await record.getByLabel('Сколько добавить').fill('2');
  await record.getByLabel('Комментарий').fill('Модуль 1');
  await record.getByRole('button', { name: 'Отметить выполнение' }).click();
  const entries = page.getByTestId('goal-entries');
  await expect(entries.locator('tbody tr')).toHaveCount(1);
  await expect(entries.locator('tbody tr').first()).toContainText('Модуль 1');
  const who = (await page.getByTestId('who').textContent()) ?? '';
  await expect(entries.locator('tbody tr').first()).toContainText(who.trim());
  await expect(page.getByTestId('goal-value')).toContainText('2');
});

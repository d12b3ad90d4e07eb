import { Browser, BrowserContext, expect, Page } from '@playwright/test';

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

/** Two people side by side: one at a desktop, one on a phone. Close both when done. */
export async function deskAndPhone(browser: Browser): Promise<{ desk: Page; phone: Page; contexts: BrowserContext[] }> {
  const deskContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const phoneContext = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  return { desk: await deskContext.newPage(), phone: await phoneContext.newPage(), contexts: [deskContext, phoneContext] };
}

/** On a phone: logs a call of `minutes` on the first card of the person's board. */
export async function logCallFromBoard(phone: Page, minutes: string) {
  await open(phone, '/board');
  const first = phone.locator('[data-deal]').first();
  await expect(first).toBeVisible();
  await first.getByRole('button', { name: 'Записать звонок' }).tap();
  const dialog = phone.getByTestId('call-dialog');
  await dialog.getByLabel('Длительность, мин').fill(minutes);
  await dialog.getByRole('button', { name: 'Записать' }).click();
  await expect(dialog).toBeHidden();
}

/** Two desktop browsers side by side, signed in as `first` and `second`. Close both when done. */
export async function sideBySide(browser: Browser, first: string, second: string): Promise<{ a: Page; b: Page; contexts: BrowserContext[] }> {
  const contexts = [
    await browser.newContext({ viewport: { width: 1280, height: 800 } }),
    await browser.newContext({ viewport: { width: 1280, height: 800 } }),
  ];
  const [a, b] = [await contexts[0].newPage(), await contexts[1].newPage()];
  await logIn(a, first);
  await logIn(b, second);
  return { a, b, contexts };
}

/** Creates a deal from the board's form (the board is open) and returns its card. */
export async function createDeal(page: Page, title: string, amount: string) {
  await page.getByRole('button', { name: 'Новая сделка' }).click();
  const form = page.locator('form.new-deal');
  await form.getByLabel('Название').fill(title);
  await form.getByLabel('Сумма, ₽').fill(amount);
  await form.getByRole('button', { name: 'Создать' }).click();
  const card = page.locator('[data-deal]', { hasText: title });
  await expect(card).toBeVisible();
  return card;
}

/** What ECharts was asked to draw in a chart: series `i` as [name, value] or values. */
export async function drawn(page: Page, id: string, i: number): Promise<unknown[]> {
  return page.evaluate(
    ([id, i]) => {
      const echarts = (window as any).echarts;
      const chart = echarts?.getInstanceByDom(document.getElementById(id as string));
      if (!chart) return [];
      return (chart.getOption().series[i as number].data ?? []).map((d: any) => (typeof d === 'object' ? [d.name, d.value] : d));
    },
    [id, i],
  );
}

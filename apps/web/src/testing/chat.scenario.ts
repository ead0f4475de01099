import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS } from './chromium';
import { ChatPage } from './chat.page';

const PASSWORD = 'pw-secret';

/**
 * What a newcomer does with the web chat, against any mqim (standalone or cluster) at `baseUrl`:
 * two people register in two windows and chat, with stored (✓) and read (✓✓) marks and unread
 * badges. Resolves with the windows still open, for the caller's further steps.
 */
export async function twoPeopleChat(
  browser: Browser,
  baseUrl: string,
  names: { alice: string; bob: string },
  screenshotName: string,
): Promise<{ alice: ChatPage; bob: ChatPage }> {
  const alice = await ChatPage.open(browser, baseUrl);
  const bob = await ChatPage.open(browser, baseUrl);
  await alice.register(names.alice, PASSWORD);
  await bob.register(names.bob, PASSWORD);
  // Contacts are friends only (0x0601 no longer lists every user): bob adds alice by the id her
  // page shows, she accepts, and each appears in the other's contact list without a reload.
  await bob.addContact(await alice.myId());
  await alice.page.bringToFront();
  await alice.acceptRequest(names.bob);
  await bob.contact(names.alice).waitFor();
  await bob.openContact(names.alice);
  await bob.send('hi alice, I am new here');
  await bob.message('hi alice, I am new here').locator('[aria-label="sent"]').waitFor();

  // Alice: the conversation appears with an unread badge, without any reload.
  await alice.session(names.bob).getByLabel('1 unread').waitFor();
  await alice.openSession(names.bob);
  await alice.message('hi alice, I am new here').waitFor();
  // Opening it read it: bob's mark turns to ✓✓, and alice's badge is gone.
  await bob.message('hi alice, I am new here').locator('[aria-label="read"]').waitFor();
  await alice.session(names.bob).getByLabel('1 unread').waitFor({ state: 'detached' });

  await alice.send('welcome, bob!');
  await alice.message('welcome, bob!').locator('[aria-label="sent"], [aria-label="read"]').first().waitFor();
  // Bob has the conversation open and visible: he reads it at once, alice sees ✓✓.
  await bob.message('welcome, bob!').waitFor();
  await alice.message('welcome, bob!').locator('[aria-label="read"]').waitFor();
  // Both have the conversation open: alice sees bob typing while he writes.
  const composer = bob.page.getByRole('textbox', { name: 'Message', exact: true });
  await composer.fill('thanks');
  await alice.page.getByRole('status', { name: 'Typing' }).waitFor();
  await composer.fill('');
  await alice.page.screenshot({ path: join(ARTIFACTS, screenshotName), fullPage: true });
  return { alice, bob };
}

/**
 * A person who was offline (window closed) comes back: the conversation shows the missed
 * messages' count, and they are all there, in order.
 */
export async function offlineCatchUp(
  browser: Browser,
  baseUrl: string,
  sender: ChatPage,
  names: { carol: string; sender: string },
): Promise<ChatPage> {
  let carol = await ChatPage.open(browser, baseUrl);
  await carol.register(names.carol, PASSWORD);
  // Carol asks to be the sender's contact before she leaves.
  await carol.addContact(await sender.myId());
  await carol.close();

  // The sender logs in again, accepts, and writes to the new contact.
  await sender.page.reload();
  await sender.logIn(names.sender, PASSWORD);
  await sender.acceptRequest(names.carol);
  await sender.openContact(names.carol);
  const missed = ['are you there?', 'guess not', 'talk later'];
  for (const text of missed) {
    await sender.send(text);
    await sender.message(text).locator('[aria-label="sent"]').waitFor();
  }

  carol = await ChatPage.open(browser, baseUrl);
  await carol.logIn(names.carol, PASSWORD);
  await carol.session(names.sender).getByLabel(`${missed.length} unread`).waitFor();
  await carol.openSession(names.sender);
  // History arrives after the conversation opens: wait for the newest before reading them all.
  await carol.message(missed[missed.length - 1]).waitFor();
  const shown = await carol.page
    .getByRole('log', { name: 'Messages' })
    .locator('.message .text')
    .allTextContents();
  expect(shown).toEqual(missed);
  // Her reading shows on the sender's side.
  await sender.message('talk later').locator('[aria-label="read"]').waitFor();
  return carol;
}

/** History paging: 25 messages, a fresh page shows the newest 20, scrolling up brings the rest. */
export async function historyPaging(
  reader: ChatPage,
  sender: ChatPage,
  names: { reader: string; sender: string },
): Promise<void> {
  const texts = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
  await sender.openContact(names.reader);
  for (const text of texts) await sender.send(text);
  await sender.message('line 25').locator('[aria-label="sent"], [aria-label="read"]').first().waitFor();

  // A fresh page: nothing in memory, everything comes from history.
  await reader.page.reload();
  await reader.logIn(names.reader, PASSWORD);
  await reader.openSession(names.sender);
  await reader.message('line 25').waitFor();
  const log = reader.page.getByRole('log', { name: 'Messages' });
  expect(await reader.message('line 1').count()).toBe(0);
  await log.evaluate((el) => (el.scrollTop = 0));
  await reader.message('line 1').waitFor();
  const all = await log.locator('.message .text').allTextContents();
  // Gap-free and in order: the page above joined the page below exactly.
  expect(all.filter((t) => t.startsWith('line '))).toEqual(texts);
}

/** A group: created with two members, a message reaches both, the member list shows all three. */
export async function groupChat(
  owner: ChatPage,
  members: ChatPage[],
  names: { owner: string; members: string[]; group: string },
): Promise<void> {
  const form = owner.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill(names.group);
  for (const m of names.members) await form.getByLabel(m, { exact: true }).check();
  await form.getByRole('button', { name: 'Create group' }).click();
  await owner.page.getByRole('heading', { level: 2, name: names.group, exact: true }).waitFor();
  const shownMembers = owner.page.getByLabel('Members', { exact: true });
  await shownMembers.waitFor();
  for (const n of [names.owner, ...names.members]) expect(await shownMembers.textContent()).toContain(n);

  await owner.send('hello group');
  await owner.message('hello group').locator('[aria-label="sent"]').waitFor();
  for (const member of members) {
    await member.session(names.group).waitFor();
    await member.openSession(names.group);
    await member.message('hello group').waitFor();
  }
}

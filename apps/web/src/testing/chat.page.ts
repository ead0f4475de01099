import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * One person in one browser window of the web chat, driven by the accessible names a screen
 * reader would use (labels, roles, button names): if a test cannot find a control, neither can
 * such a user.
 */
export class ChatPage {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, baseUrl: string): Promise<ChatPage> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(baseUrl);
    return new ChatPage(context, page);
  }

  async register(userName: string, password: string): Promise<void> {
    await this.fillLogin(userName, password);
    await this.page.getByRole('button', { name: 'Register' }).click();
    await this.waitConnected();
  }

  async logIn(userName: string, password: string): Promise<void> {
    await this.fillLogin(userName, password);
    await this.page.getByRole('button', { name: 'Log in' }).click();
    await this.waitConnected();
  }

  async waitConnected(): Promise<void> {
    await this.linkState('Connected', 30_000);
  }

  /** Waits until the connection banner reads `text` ("Connected", "Reconnecting…"). */
  async linkState(text: string, timeout = 20_000): Promise<void> {
    await this.page
      .getByRole('status', { name: 'Connection' })
      .filter({ hasText: new RegExp(`^${escape(text)}$`) })
      .waitFor({ timeout });
  }

  /**
   * Starts noting every text the connection banner shows; a reconnect can be over in a few
   * milliseconds, faster than any poll would see its "Reconnecting…".
   */
  async recordLinkStates(): Promise<void> {
    // A string, not a function: this file compiles for Node, without the DOM's types.
    await this.page.evaluate(`{
      window.linkStates = [];
      const el = document.querySelector('[aria-label="Connection"]');
      new MutationObserver(() => window.linkStates.push(el.textContent)).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    }`);
  }

  linkStatesSeen(): Promise<string[]> {
    return this.page.evaluate<string[]>('window.linkStates');
  }

  /** The user id this page shows for its logged-in user. */
  async myId(): Promise<number> {
    return Number(await this.page.getByLabel('Your id', { exact: true }).textContent());
  }

  /** Sends a friend request to the user with this id (contacts are friends only). */
  async addContact(userId: number): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Add contact' });
    await form.getByLabel('User id').fill(String(userId));
    await form.getByRole('button', { name: 'Add' }).click();
    await form.getByRole('status').waitFor();
  }

  /** Accepts the friend request of `name` once it shows. */
  async acceptRequest(name: string): Promise<void> {
    await this.page.getByRole('button', { name: `Accept ${name}`, exact: true }).click();
    await this.contact(name).waitFor();
  }

  contact(name: string) {
    return this.page.getByRole('navigation', { name: 'Contacts' }).getByRole('button', { name, exact: true });
  }

  /** Opens a conversation with a contact from the contact list. */
  async openContact(name: string): Promise<void> {
    await this.contact(name).click();
    await this.conversationTitle(name);
  }

  /** Opens a recent conversation from the session list. */
  async openSession(title: string): Promise<void> {
    await this.session(title).click();
    await this.conversationTitle(title);
  }

  session(title: string) {
    return this.page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button')
      .filter({ hasText: title });
  }

  async send(text: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
    await this.page.getByRole('button', { name: 'Send' }).click();
  }

  /** The message bubble with exactly this text in the open conversation. */
  message(text: string) {
    return this.page
      .getByRole('log', { name: 'Messages' })
      .locator('.message')
      .filter({ has: this.page.locator('.text', { hasText: new RegExp(`^${escape(text)}$`) }) });
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  private async conversationTitle(title: string): Promise<void> {
    await this.page.getByRole('heading', { level: 2, name: title, exact: true }).waitFor();
  }

  private async fillLogin(userName: string, password: string): Promise<void> {
    await this.page.getByLabel('User name').fill(userName);
    await this.page.getByLabel('Password').fill(password);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

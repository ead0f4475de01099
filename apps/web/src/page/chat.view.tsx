import { SessionType } from '@mqim/sdk/browser';
import { useEffect, useReducer } from 'preact/hooks';
import type { ChatModel } from './chat.model';
import { ConversationView } from './conversation.view';
import { GroupForm } from './group-form.view';
import { ContactForm } from './contact-form.view';

const CONTACTS_REFRESH_MS = 10_000;
const LINK_TEXT = { connected: 'Connected', reconnecting: 'Reconnecting…', disconnected: 'Disconnected' };

export function ChatView({ model, onLogOut }: { model: ChatModel; onLogOut(): Promise<void> }) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => model.subscribe(() => rerender(undefined)), [model]);
  useEffect(() => {
    // New people show up when the window comes back to the front, and every little while.
    const refresh = () => void model.refreshContacts().catch(() => undefined);
    window.addEventListener('focus', refresh);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, CONTACTS_REFRESH_MS);
    return () => {
      window.removeEventListener('focus', refresh);
      clearInterval(timer);
    };
  }, [model]);

  const contacts = [...model.users.values()].filter((u) => u.userId !== model.me.userId);
  return (
    <div class="chat">
      <aside>
        <header>
          <strong>{model.me.nickName}</strong>
          <span class="my-id" aria-label="Your id">
            {model.me.userId}
          </span>
          <span class={`link ${model.link}`} role="status" aria-label="Connection">
            {LINK_TEXT[model.link]}
          </span>
          <button type="button" onClick={() => void onLogOut()}>
            Log out
          </button>
        </header>
        <nav aria-label="Conversations">
          <h2>Conversations</h2>
          <ul>
            {model.sessionList().map((c) => (
              <li key={c.key}>
                <button
                  type="button"
                  class={c.key === model.openKey ? 'session open' : 'session'}
                  aria-current={c.key === model.openKey ? 'true' : undefined}
                  onClick={() => void model.openConversation(c.sessionType, c.sessionId)}
                >
                  <span class="title">{model.title(c)}</span>
                  <span class="last">{c.lastText}</span>
                  {c.unread > 0 && (
                    <span class="badge" aria-label={`${c.unread} unread`}>
                      {c.unread}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <nav aria-label="Contacts">
          <h2>Contacts</h2>
          <ul>
            {contacts.map((u) => (
              <li key={u.userId}>
                <button
                  type="button"
                  onClick={() => void model.openConversation(SessionType.SINGLE, u.userId)}
                >
                  {u.nickName}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {model.requests.length > 0 && (
          <nav aria-label="Friend requests">
            <h2>Friend requests</h2>
            <ul>
              {model.requests.map((r) => (
                <li key={r.fromUserId}>
                  <span>{r.fromUser?.nickName || `user ${r.fromUserId}`}</span>
                  <button
                    type="button"
                    aria-label={`Accept ${r.fromUser?.nickName || `user ${r.fromUserId}`}`}
                    onClick={() => void model.acceptRequest(r.fromUserId)}
                  >
                    Accept
                  </button>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <ContactForm onAdd={(id) => model.addContact(id)} />
        <GroupForm contacts={contacts} onCreate={(name, ids) => model.createGroup(name, ids)} />
      </aside>
      {model.open ? (
        <ConversationView key={model.open.key} model={model} conversation={model.open} />
      ) : (
        <section class="empty">
          <p>Pick a conversation or a contact.</p>
        </section>
      )}
    </div>
  );
}

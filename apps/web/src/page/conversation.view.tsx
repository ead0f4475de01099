import { SessionType } from '@mqim/sdk/browser';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage, ChatModel, Conversation } from './chat.model';

interface Props {
  model: ChatModel;
  conversation: Conversation;
}

export function ConversationView({ model, conversation: c }: Props) {
  const [text, setText] = useState('');
  const [members, setMembers] = useState<number[] | undefined>(undefined);
  const log = useRef<HTMLDivElement>(null);
  // Keeps the view where the reader is: at the bottom for new messages, in place when a page of
  // older ones is added above.
  const anchor = useRef<{ height: number; atBottom: boolean }>({ height: 0, atBottom: true });

  useEffect(() => {
    if (c.sessionType !== SessionType.GROUP) return;
    model.groupMembers(c.sessionId).then(setMembers, () => setMembers(undefined));
  }, [model, c.sessionType, c.sessionId]);

  useLayoutEffect(() => {
    const el = log.current;
    if (el === null) return;
    const before = anchor.current;
    if (before.atBottom) el.scrollTop = el.scrollHeight;
    else el.scrollTop += el.scrollHeight - before.height;
    anchor.current = { height: el.scrollHeight, atBottom: before.atBottom };
  });

  const onScroll = () => {
    const el = log.current!;
    anchor.current = {
      height: el.scrollHeight,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 8,
    };
    if (el.scrollTop === 0 && !c.complete) void model.loadOlder();
  };

  const mine = (m: ChatMessage) => m.fromUserId === model.me.userId;
  return (
    <section class="conversation" aria-label={`Conversation with ${model.title(c)}`}>
      <header>
        <h2>{model.title(c)}</h2>
        {c.sessionType === SessionType.SINGLE && model.isTyping(c.sessionId) && (
          <p class="typing" role="status" aria-label="Typing">
            typing…
          </p>
        )}
        {members && (
          <p class="members" aria-label="Members">
            {members.map((id) => model.nameOf(id)).join(', ')}
          </p>
        )}
      </header>
      <div class="messages" ref={log} onScroll={onScroll} role="log" aria-label="Messages">
        {!c.complete && (
          <div class="older">
            <button type="button" onClick={() => void model.loadOlder()}>
              Load older messages
            </button>
          </div>
        )}
        {c.messages.map((m) => (
          <p key={m.clientMsgId} class={mine(m) ? 'message mine' : 'message'}>
            {c.sessionType === SessionType.GROUP && !mine(m) && (
              <span class="from">{model.nameOf(m.fromUserId)}</span>
            )}
            <span class="text">{m.text}</span>
            <time>{new Date(m.createTime * 1000).toLocaleTimeString()}</time>
            {mine(m) && (
              <Mark message={m} readUpTo={c.peerReadUpTo} group={c.sessionType === SessionType.GROUP} />
            )}
          </p>
        ))}
      </div>
      {model.error && (
        <p class="error" role="alert">
          {model.error}
        </p>
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          const value = text;
          setText('');
          anchor.current.atBottom = true;
          void model.send(value);
        }}
      >
        <label>
          Message
          <input
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              model.typed();
            }}
            autocomplete="off"
          />
        </label>
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

/** ✓ stored by the server, ✓✓ read by the peer (single chats report reads). */
function Mark({ message: m, readUpTo, group }: { message: ChatMessage; readUpTo: number; group: boolean }) {
  if (m.state === 'sending')
    return (
      <span class="mark" aria-label="sending">
        …
      </span>
    );
  if (m.state === 'failed')
    return (
      <span class="mark failed" aria-label="not sent">
        !
      </span>
    );
  if (!group && m.serverMsgId > 0 && m.serverMsgId <= readUpTo) {
    return (
      <span class="mark read" aria-label="read">
        ✓✓
      </span>
    );
  }
  return (
    <span class="mark" aria-label="sent">
      ✓
    </span>
  );
}
